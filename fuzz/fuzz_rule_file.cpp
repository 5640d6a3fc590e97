// libFuzzer target for text rule files (`--rules FILE`, toml++ underneath). The input is the
// file's text. A file that parses, with a few short patterns, is compiled and its rules are run
// over the file's own bytes, as ASCII and as UTF-16LE: beyond "no crash", every match must lie
// inside the input and hold a non-empty secret inside its subject.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rules/engine.hpp"
#include "rules/rule_file.hpp"

namespace {

void run(const std::shared_ptr<const dumpguard::rules::RuleEngine>& engine, const std::vector<std::uint8_t>& bytes) {
  dumpguard::rules::RuleScanner scanner(engine);
  scanner.scan(std::as_bytes(std::span(bytes)), [&](const dumpguard::rules::TextMatch& m) {
    if (m.rule >= engine->rules().size()) __builtin_trap();
    if (m.length == 0 || m.offset > bytes.size() || m.length > bytes.size() - m.offset) __builtin_trap();
    if (m.secret_begin >= m.secret_end || m.secret_end > m.subject.size()) __builtin_trap();
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rules = dumpguard::rules::parse_rule_file(text, "fuzz.toml");
  if (!rules) return 0;
  // Vectorscan compiles some patterns slowly by nature; keep each run short.
  if (rules->size() > 4) return 0;
  for (const auto& r : *rules) {
    if (r.pattern.size() > 64 || r.prefilter.size() > 64 || r.max_length > 512) return 0;
  }
  auto engine = dumpguard::rules::RuleEngine::compile(std::move(*rules));
  if (!engine) return 0;
  std::vector<std::uint8_t> bytes(data, data + size);
  run(*engine, bytes);
  std::vector<std::uint8_t> wide;
  for (std::uint8_t b : bytes) wide.insert(wide.end(), {b, 0});
  run(*engine, wide);
  return 0;
}
