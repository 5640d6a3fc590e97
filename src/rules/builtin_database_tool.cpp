// Build-time tool: compiles the built-in rules' Vectorscan database once (RuleEngine::serialize,
// with every check RuleEngine::compile makes, so a bad built-in rule fails the build) and writes
// it as a C++ source file that defines rules::builtin_database(). CMakeLists.txt runs it
// whenever rules/*.toml or the engine change.
#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "rules/engine.hpp"
#include "rules/rule_file.hpp"

int main(int argc, char** argv) {
  using namespace dumpguard;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT.cpp\n", argv[0]);
    return 2;
  }
  const std::string output = argv[1];
  auto rules = rules::builtin_rules();
  if (!rules) {
    std::fprintf(stderr, "built-in rules: %s\n", rules.error().message.c_str());
    return 1;
  }
  const std::size_t count = rules->size();
  auto bytes = rules::RuleEngine::serialize(std::move(*rules));
  if (!bytes) {
    std::fprintf(stderr, "built-in rules: %s\n", bytes.error().message.c_str());
    return 1;
  }

  std::string text = fmt::format(
      "// Generated at build time by src/rules/builtin_database_tool.cpp from rules/*.toml: do not edit.\n"
      "// The serialized Vectorscan databases of the {} built-in rules (RuleEngine::serialize), {} bytes.\n"
      "#include \"rules/builtin_database.hpp\"\n\n"
      "namespace dumpguard::rules {{\n"
      "namespace {{\n"
      "const unsigned char kDatabase[] = {{",
      count, bytes->size());
  for (std::size_t i = 0; i < bytes->size(); ++i) {
    if (i % 24 == 0) text += "\n ";
    fmt::format_to(std::back_inserter(text), "{},", static_cast<unsigned>((*bytes)[i]));
  }
  text +=
      "\n};\n"
      "}  // namespace\n\n"
      "std::span<const std::byte> builtin_database() { return std::as_bytes(std::span(kDatabase)); }\n\n"
      "}  // namespace dumpguard::rules\n";

  // Written beside the output and renamed over it, so an interrupted build leaves no half file.
  const std::string partial = output + ".partial";
  std::FILE* f = std::fopen(partial.c_str(), "wb");
  if (!f) {
    std::fprintf(stderr, "%s: cannot create\n", partial.c_str());
    return 1;
  }
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !written || std::rename(partial.c_str(), output.c_str()) != 0) {
    std::fprintf(stderr, "%s: cannot write\n", output.c_str());
    std::remove(partial.c_str());
    return 1;
  }
  return 0;
}
