// Scans a dump through the installed public API with the caller's own text rules, and hears
// the scan's progress through an Observer: prints each finding's kind, then "progress yes".
#include <cstdio>
#include <random>

#include <dumpguard/open_dump.hpp>
#include <dumpguard/scan.hpp>

namespace {
class Counter : public dumpguard::Observer {
 public:
  void progress(const dumpguard::Progress& /*p*/) override { ++calls; }
  int calls = 0;
};
}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  dumpguard::OpenOptions open;
  open.forced_format = dumpguard::Format::raw;
  auto dump = dumpguard::open_dump(argv[1], open);
  if (!dump) {
    std::fprintf(stderr, "%s\n", dumpguard::describe(dump.error()).c_str());
    return 2;
  }
  auto rules = dumpguard::TextRules::from_files({argv[2]}, true);
  if (!rules) {
    std::fprintf(stderr, "%s\n", dumpguard::describe(rules.error()).c_str());
    return 2;
  }
  dumpguard::ScanOptions options;
  options.text_rules = *rules;
  options.detectors = {"text-rules"};
  std::random_device random;
  for (int i = 0; i < 32; ++i) options.fingerprint_key.push_back(static_cast<std::uint8_t>(random()));
  Counter counter;
  const dumpguard::ScanReport report = dumpguard::scan_dump(*dump, options, &counter);
  for (const auto& f : report.findings) std::printf("%s\n", f.kind.c_str());
  std::printf("progress %s\n", counter.calls > 0 ? "yes" : "no");
  return 0;
}
