// `dumpguard redact`: dump -> scan -> findings -> redaction plan -> writer -> verify -> report.
// Exit 0: the copy was written and its rescan found nothing; 2: an error, and no copy written.
#include <fmt/format.h>
#include <sys/stat.h>

#include <cstdio>

#include "cli/commands.hpp"
#include "dumpguard/redact.hpp"
#include "io/whole_file.hpp"
#include "report/redact_json.hpp"

namespace dumpguard::cli {

namespace {
// The same file under two names would make the rename replace the input, which redact must
// never modify.
bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  if (stat(a.c_str(), &sa) != 0 || stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
}  // namespace

int run_redact(const RedactCliOptions& given) {
  RedactCliOptions options = given;
  if (options.scan.input.dumps.size() != 1) {
    fmt::print(stderr, "dumpguard: redact takes exactly one dump, {} given\n", options.scan.input.dumps.size());
    return kExitError;
  }
  const std::string& path = options.scan.input.dumps.front();
  if (path != "-" && same_file(path, options.output)) {
    fmt::print(stderr, "dumpguard: {}: the output is the input; redact never modifies its input\n", options.output);
    return kExitError;
  }
  const std::optional<ScanOptions> scan_options = build_scan_options(options.scan);
  if (!scan_options) return kExitError;
  const Fill fill = options.fill == "0defaced" ? defaced_fill() : zero_fill();

  const OpenOptions open = to_open_options(options.scan.input);
  Result<Dump> dump = open_dump(path, open);
  if (!dump) {
    print_error(path, dump.error());
    return kExitError;
  }
  print_warnings(*dump);
  if (!dump->model.complete && !options.allow_partial) {
    fmt::print(stderr,
               "dumpguard: {}: the dump was only partly parsed (warnings above); nothing was written. "
               "--allow-partial redacts it anyway, its unparsed bytes searched as raw bytes only\n",
               path);
    return kExitError;
  }
  // The findings say what was secret, the --drop policies what else goes (the gate does the same).
  Result<ScanReport> report = scan_for_redaction(*dump, *scan_options, options.drops);
  if (!report) {
    fmt::print(stderr, "dumpguard: {}\n", report.error().message);
    return kExitError;
  }
  Result<RedactOutcome> outcome = redact_dump(*dump, *report, options.output, fill, *scan_options, open);
  if (!outcome) {
    print_error(options.output, outcome.error());
    return kExitError;
  }
  if (!options.report.empty()) {
    const Status written = write_file_atomically(options.report, redact_json(*dump, *outcome, fill).dump(2) + "\n");
    if (!written) {
      fmt::print(stderr, "dumpguard: {}\n", written.error().message);
      return kExitError;
    }
  }
  std::fputs(redact_text(*dump, *outcome, fill).c_str(), stdout);
  return kExitOk;
}

}  // namespace dumpguard::cli
