// Benchmark driver: the text rule engine alone over one whole file, as YARA scans a file.
// `dumpguard scan` runs every detector over the dump's memory areas and has no switch for one
// detector; this runs only RuleEngine + RuleScanner (src/rules/engine.hpp), in both encodings
// (ASCII/UTF-8, then UTF-16LE), over the file's bytes as one area, with the rules `scan` uses.
//
// Usage: text_scan FILE [RULES.toml ...]. With no rule file, the built-in set, loaded as `scan`
// loads it (the Vectorscan database compiled at build time, PCRE2 compiled here); with files,
// only their rules, compiled here (Vectorscan and PCRE2). Prints one line:
// "compile_s=X scan_s=Y bytes=N matches=M ascii=A utf16le=U", and with -v on stderr the number
// of matches per rule and encoding. Never prints a matched secret.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "detect/text_rule_detector.hpp"
#include "rules/engine.hpp"
#include "rules/rule_file.hpp"

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  bool verbose = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-v") == 0) verbose = true;
    else args.emplace_back(argv[i]);
  }
  if (args.empty()) {
    std::fprintf(stderr, "usage: text_scan [-v] FILE [RULES.toml ...]\n");
    return 2;
  }
  const std::vector<std::string> files(args.begin() + 1, args.end());

  const auto t0 = Clock::now();
  std::shared_ptr<const dumpguard::rules::RuleEngine> engine;
  if (files.empty()) {
    engine = dumpguard::builtin_rule_engine();  // as `scan` loads it: the database built at build time
  } else {
    auto rules = dumpguard::rules::load_rules(files, true);
    if (!rules) {
      std::fprintf(stderr, "text_scan: %s\n", dumpguard::describe(rules.error()).c_str());
      return 2;
    }
    auto compiled = dumpguard::rules::RuleEngine::compile(std::move(*rules));
    if (!compiled) {
      std::fprintf(stderr, "text_scan: %s\n", dumpguard::describe(compiled.error()).c_str());
      return 2;
    }
    engine = *compiled;
  }
  dumpguard::rules::RuleScanner scanner(engine);
  const auto t1 = Clock::now();

  const int fd = open(args[0].c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) {
    std::fprintf(stderr, "text_scan: cannot read %s\n", args[0].c_str());
    return 2;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map == MAP_FAILED) {
    std::fprintf(stderr, "text_scan: cannot map %s\n", args[0].c_str());
    return 2;
  }
  const std::span<const std::byte> bytes(static_cast<const std::byte*>(map), size);

  std::map<std::pair<std::string, std::string>, std::size_t> counts;
  std::size_t ascii = 0, utf16 = 0;
  const auto t2 = Clock::now();
  scanner.scan(bytes, [&](const dumpguard::rules::TextMatch& m) {
    (m.encoding == dumpguard::rules::TextEncoding::ascii ? ascii : utf16) += 1;
    if (verbose) ++counts[{engine->rules()[m.rule].id, dumpguard::rules::to_string(m.encoding)}];
  });
  const auto t3 = Clock::now();
  munmap(map, size);
  close(fd);

  const auto secs = [](auto d) { return std::chrono::duration<double>(d).count(); };
  std::printf("compile_s=%.3f scan_s=%.3f bytes=%zu matches=%zu ascii=%zu utf16le=%zu\n", secs(t1 - t0),
              secs(t3 - t2), size, ascii + utf16, ascii, utf16);
  for (const auto& [key, n] : counts) std::fprintf(stderr, "%s %s %zu\n", key.first.c_str(), key.second.c_str(), n);
  return 0;
}
