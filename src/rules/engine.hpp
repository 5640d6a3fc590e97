// The text rule engine. All rules' patterns are compiled once into one Vectorscan block-mode
// database, which finds where candidate matches END (start-of-match tracking is expensive, so
// it is off). For each candidate, PCRE2 (JIT) searches a window that starts max_length before
// that end, and gives the exact span of the match and of its capture group: the secret.
// The built-in rules' database is compiled at build time and embedded (serialize, load).
//
// Text is matched in two encodings with the same compiled rules, so a rule is written once:
// ASCII/UTF-8 over the bytes around runs of ASCII text (ascii_stretches.hpp: Vectorscan reads
// those stretches, PCRE2 confirms over all the bytes), and UTF-16LE by finding runs of printable UTF-16LE text
// (each ASCII character followed by 0x00, at least 8 characters), narrowing them into a side
// buffer, matching there, and mapping each span back to the dump's bytes exactly
// (run start + 2 * offset, 2 * length).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dumpguard/result.hpp"
#include "rules/rule.hpp"
#include "rules/text_masks.hpp"

struct hs_database;
struct hs_scratch;
struct hs_platform_info;

namespace dumpguard::rules {

enum class TextEncoding { ascii, utf16le };
const char* to_string(TextEncoding encoding);

// Printable UTF-16LE runs shorter than this are not searched (no credential is this short); nor
// are ASCII bytes further than a few dozen from a run of text this long.
inline constexpr std::size_t kMinUtf16Run = 8;
inline constexpr std::size_t kMinTextRun = kMinUtf16Run;

// One secret a rule matched.
struct TextMatch {
  std::size_t rule = 0;  // index into RuleEngine::rules()
  TextEncoding encoding = TextEncoding::ascii;
  std::uint64_t offset = 0;  // the secret's first byte in the scanned bytes
  std::uint64_t length = 0;  // its length there (2 bytes per character in UTF-16LE)
  // The narrow text the match was found in (the scanned bytes, or one narrowed UTF-16LE run),
  // and the secret's characters within it: for fingerprints and context (a variable's name).
  // Valid only during the callback (a UTF-16LE run's side buffer is reused).
  std::string_view subject;
  std::size_t secret_begin = 0;
  std::size_t secret_end = 0;
};

class RuleEngine {
 public:
  // Compiles every rule; an error names the rule's FILE:LINE:COL and id. A pattern Vectorscan
  // cannot prove bounded, or longer than its max_length, or able to match empty text, is refused.
  static Result<std::shared_ptr<const RuleEngine>> compile(std::vector<Rule> rules);

  // The rules' Vectorscan database, serialized after every check compile() makes: compiled for
  // AVX-512 hosts, and for a generic host of the architecture (no AVX2 or AVX-512), which every
  // host of it accepts; prefixed with the rules' identity (their patterns, prefilters,
  // max_lengths and the engine's flags). For the build-time tool that embeds the built-in rules.
  static Result<std::vector<std::byte>> serialize(std::vector<Rule> rules);
  // The engine of `rules` with the first database serialize() made from the same rules that
  // this host accepts, which skips Vectorscan's compile and hs_expression_info (serialize()
  // checked the same patterns); PCRE2 codes are still compiled (a few ms). On any failure (bytes
  // from other rules or an older engine, another Vectorscan version, no platform this host
  // accepts, corrupt bytes) it compiles the rules as compile() does: the result is the same. `serialized` must come from this
  // program's build (Vectorscan checks a CRC, but does not validate a database's contents).
  static Result<std::shared_ptr<const RuleEngine>> load(std::vector<Rule> rules, std::span<const std::byte> serialized);

  ~RuleEngine();
  RuleEngine(const RuleEngine&) = delete;
  RuleEngine& operator=(const RuleEngine&) = delete;

  const std::vector<Rule>& rules() const { return rules_; }
  // The longest max_length: how far back a window reaches, and the overlap between chunks.
  std::size_t max_length() const { return max_length_; }
  // True when load() used the serialized database instead of compiling one.
  bool deserialized() const { return deserialized_; }

  struct Compiled;  // PCRE2 codes per rule (engine.cpp)

 private:
  RuleEngine() = default;
  friend class RuleScanner;
  // Checks and compiles every rule, the database for `platform` (null: this host). On success
  // the rules are moved into the engine.
  static Result<std::shared_ptr<RuleEngine>> build(std::vector<Rule>& rules, const hs_platform_info* platform);
  // Null on any failure; on success the rules are moved into the engine.
  static std::shared_ptr<const RuleEngine> deserialize(std::vector<Rule>& rules, std::span<const std::byte> serialized);

  std::vector<Rule> rules_;
  std::size_t max_length_ = 0;
  bool deserialized_ = false;
  hs_database* database_ = nullptr;  // null when there are no rules
  std::unique_ptr<Compiled> compiled_;
};

// What one thread needs to scan: Vectorscan scratch, PCRE2 match data, side buffers.
class RuleScanner {
 public:
  explicit RuleScanner(std::shared_ptr<const RuleEngine> engine);
  ~RuleScanner();
  RuleScanner(const RuleScanner&) = delete;
  RuleScanner& operator=(const RuleScanner&) = delete;

  // Every secret in `bytes`, ASCII then UTF-16LE; each match is reported once. Throws
  // ScanEngineError (rules/engine_error.hpp) when Vectorscan or PCRE2 fails.
  void scan(std::span<const std::byte> bytes, const std::function<void(const TextMatch&)>& on_match);
  // Only one encoding (for `rules check` and tests).
  void scan_ascii(std::span<const std::byte> bytes, const std::function<void(const TextMatch&)>& on_match);
  void scan_utf16le(std::span<const std::byte> bytes, const std::function<void(const TextMatch&)>& on_match);

  // True when a scan had more candidates than it keeps at once and skipped some (never in
  // practice: the cap is a million candidate runs per 8 MiB chunk).
  bool truncated() const { return truncated_; }
  // Candidate windows where PCRE2 stopped at its match, depth or heap limit before it could
  // say whether a secret is there (a hostile dump's cost bound), over this scanner's life.
  std::size_t stopped_windows() const { return stopped_windows_; }

  struct Hit {
    std::uint32_t rule;
    std::uint64_t first_end, last_end;  // a run of consecutive match ends of one rule
  };

 private:
  void scan_ascii(std::span<const std::byte> bytes, const TextMasks& masks,
                  const std::function<void(const TextMatch&)>& on_match);
  void scan_utf16le(std::span<const std::byte> bytes, const TextMasks& masks,
                    const std::function<void(const TextMatch&)>& on_match);
  // Where the text of `bytes` is (masks_, refilled).
  const TextMasks& masks_of(std::span<const std::byte> bytes);
  void collect(std::span<const std::uint8_t> text);
  // Whether the secret subject[begin, end) passes the rule's entropy, stopwords and allowlist,
  // and is no placeholder or reference (placeholder.hpp, shared by every rule).
  bool accepted(const Rule& rule, std::size_t index, std::string_view subject, std::size_t begin, std::size_t end);

  std::shared_ptr<const RuleEngine> engine_;
  hs_scratch* scratch_ = nullptr;
  void* match_data_ = nullptr;     // pcre2_match_data_8
  void* match_context_ = nullptr;  // pcre2_match_context_8
  std::vector<Hit> hits_;
  std::vector<std::size_t> open_hit_;  // per rule: its last hit in hits_, to extend a run
  bool truncated_ = false;
  std::size_t stopped_windows_ = 0;
  std::string narrow_;  // narrowed UTF-16LE runs
  TextMasks masks_;     // where the text of the bytes being scanned is
};

// Shannon entropy of the characters, in bits per character.
double shannon_entropy(std::string_view text);

}  // namespace dumpguard::rules
