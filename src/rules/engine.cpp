#include "rules/engine.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <fmt/format.h>
#include <hs.h>
#include <pcre2.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <new>

#include "rules/ascii_stretches.hpp"
#include "rules/engine_error.hpp"
#include "rules/placeholder.hpp"
#include "rules/utf16_runs.hpp"

namespace dumpguard::rules {

namespace {

constexpr unsigned kHsFlags = 0;  // no start-of-match tracking: PCRE2 finds the start
// The database is a prefilter: large bounded repeats are approximated (compiling them exactly
// took seconds), and PCRE2 confirms every candidate. No true match end is ever left out.
constexpr unsigned kHsDatabaseFlags = HS_FLAG_PREFILTER;
constexpr std::uint32_t kPcreOptions = PCRE2_USE_OFFSET_LIMIT;
// Characters after a window's last possible match end that PCRE2 may look at (for \b).
constexpr std::size_t kLookahead = 16;
// Vectorscan scans an area in chunks of this size, overlapped by the longest rule, so a
// match across a chunk boundary lies whole in the chunk where it starts and is found there.
constexpr std::size_t kChunk = 8u << 20;
// Vectorscan reads ASCII text where a run of kMinTextRun text characters is, with this many
// bytes on either side (ascii_stretches.hpp); stretches closer than kStretchJoin are read as one,
// since a call of Vectorscan costs about what reading a few hundred bytes does.
constexpr std::size_t kStretchMargin = 64;
constexpr std::size_t kStretchJoin = 256;
// Candidate runs kept per chunk before the scan stops short (and says so).
constexpr std::size_t kMaxHits = std::size_t{1} << 20;
// UTF-16LE: narrowed runs are batched up to this many characters; longer runs are cut into
// pieces that overlap by the longest rule, each owning the matches that start in it.
constexpr std::size_t kMaxPiece = 4u << 20;
// PCRE2 backtracking cap per window: a hostile dump cannot make one window take seconds.
constexpr std::uint32_t kMatchLimit = 1'000'000;

std::string pcre2_message(int code) {
  std::array<PCRE2_UCHAR, 256> buffer{};
  if (pcre2_get_error_message(code, buffer.data(), buffer.size()) < 0) return fmt::format("PCRE2 error {}", code);
  return std::string(reinterpret_cast<const char*>(buffer.data()));
}

Error rule_error(const Rule& rule, std::string_view what) {
  return Error{Errc::bad_value, 0, fmt::format("{}: rule {}: {}", rule.source, rule.id, what)};
}

struct Collector {
  std::vector<RuleScanner::Hit>& hits;
  std::vector<std::size_t>& open;
  bool& truncated;
};

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

// Vectorscan's callback does as little as possible: it extends the rule's current run of
// consecutive ends (a repeat like {36,255} ends at many offsets) or starts a new one.
int on_hit(unsigned int id, unsigned long long /*from*/, unsigned long long to, unsigned int /*flags*/, void* context) {
  auto& c = *static_cast<Collector*>(context);
  std::size_t& open = c.open[id];
  if (open != kNone) {
    RuleScanner::Hit& h = c.hits[open];
    if (to >= h.first_end && to <= h.last_end + 1) {
      h.last_end = std::max<std::uint64_t>(h.last_end, to);
      return 0;
    }
  }
  if (c.hits.size() >= kMaxHits) {
    c.truncated = true;
    return 1;  // stop the scan
  }
  open = c.hits.size();
  c.hits.push_back({id, to, to});
  return 0;
}

}  // namespace

const char* to_string(TextEncoding encoding) { return encoding == TextEncoding::ascii ? "ascii" : "utf16le"; }

double shannon_entropy(std::string_view text) {
  if (text.empty()) return 0;
  std::array<std::size_t, 256> counts{};
  for (char c : text) ++counts[static_cast<unsigned char>(c)];
  double bits = 0;
  const double n = static_cast<double>(text.size());
  for (std::size_t count : counts) {
    if (count == 0) continue;
    const double p = static_cast<double>(count) / n;
    bits -= p * std::log2(p);
  }
  return bits;
}

struct RuleEngine::Compiled {
  std::vector<pcre2_code*> main;
  std::vector<std::vector<pcre2_code*>> allow;
  std::uint32_t max_pairs = 1;
  ~Compiled() {
    for (pcre2_code* c : main) pcre2_code_free(c);
    for (auto& codes : allow) {
      for (pcre2_code* c : codes) pcre2_code_free(c);
    }
  }
};

RuleEngine::~RuleEngine() {
  if (database_) hs_free_database(database_);
}

namespace {

// What Vectorscan compiles for a rule: its prefilter when it has one, else its pattern.
const std::string& vectorscan_expression(const Rule& rule) {
  return rule.prefilter.empty() ? rule.pattern : rule.prefilter;
}

// The checks that need Vectorscan's parser (hs_expression_info, about 3 ms a rule): the
// pattern is bounded, fits its max_length and cannot match empty text; so is the prefilter.
Status check_bounds(const Rule& rule) {
  if (rule.max_length == 0 || rule.max_length > kMaxRuleLength) {
    return rule_error(rule, fmt::format("max_length must be from 1 to {}", kMaxRuleLength));
  }
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* hs_error = nullptr;
  if (hs_expression_info(rule.pattern.c_str(), kHsFlags, &info, &hs_error) != HS_SUCCESS) {
    const std::string message = hs_error ? hs_error->message : "unknown error";
    hs_free_compile_error(hs_error);
    return rule_error(rule, fmt::format("Vectorscan cannot compile the pattern: {}", message));
  }
  const unsigned min_width = info->min_width, max_width = info->max_width;
  std::free(info);  // allocated with the default misc allocator (malloc)
  if (max_width == UINT_MAX) {
    return rule_error(rule, "the pattern can match unboundedly long text: bound every repeat ({m,n})");
  }
  if (max_width > rule.max_length) {
    return rule_error(rule, fmt::format("the pattern can match {} characters, more than its max_length {}", max_width,
                                        rule.max_length));
  }
  if (min_width == 0) return rule_error(rule, "the pattern can match empty text");
  if (!rule.prefilter.empty()) {
    if (hs_expression_info(rule.prefilter.c_str(), kHsFlags, &info, &hs_error) != HS_SUCCESS) {
      const std::string message = hs_error ? hs_error->message : "unknown error";
      hs_free_compile_error(hs_error);
      return rule_error(rule, fmt::format("Vectorscan cannot compile the prefilter: {}", message));
    }
    const unsigned prefilter_max = info->max_width, prefilter_min = info->min_width;
    std::free(info);
    if (prefilter_max == UINT_MAX || prefilter_max > rule.max_length || prefilter_min == 0) {
      return rule_error(rule, "the prefilter must match 1 to max_length characters");
    }
  }
  return ok_status();
}

// The platforms a serialized database is compiled for, most capable first; load() uses the
// first one this host's Vectorscan accepts (hs_deserialize_database refuses a database that
// needs CPU features the host, or the library's build, lacks). The last, a generic host with
// no AVX2 or AVX-512, is accepted by every host of the architecture: a database built only for
// the build host would make a binary built on an AVX-512 machine compile again on older ones.
// Measured on this project's AVX-512 host with the 70 built-in rules: the generic bytecode is
// byte for byte the AVX2 one (so AVX2 is not embedded apart), and the AVX-512 one scans about
// 7 % faster (fastest of 30 hs_scan passes over a 256 MiB core: 0.097 s against 0.104 s). So a
// host gets the same database compile() would make for it, AVX-512 or AVX2, or the generic one.
std::vector<hs_platform_info_t> serialized_platforms() {
  std::vector<hs_platform_info_t> platforms;
#if defined(__x86_64__)
  hs_platform_info_t avx512{};
  avx512.tune = HS_TUNE_FAMILY_GENERIC;
  avx512.cpu_features = HS_CPU_FEATURES_AVX2 | HS_CPU_FEATURES_AVX512;
  platforms.push_back(avx512);
#endif
  hs_platform_info_t generic{};
  generic.tune = HS_TUNE_FAMILY_GENERIC;
  generic.cpu_features = 0;
  platforms.push_back(generic);
  return platforms;
}

// The Vectorscan database of all rules, for `platform` (null: this host).
Result<hs_database*> compile_database(const std::vector<Rule>& rules, const hs_platform_info_t* platform) {
  std::vector<const char*> patterns;
  std::vector<unsigned> flags(rules.size(), kHsDatabaseFlags), ids;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    patterns.push_back(vectorscan_expression(rules[i]).c_str());
    ids.push_back(static_cast<unsigned>(i));
  }
  hs_database* database = nullptr;
  hs_compile_error_t* hs_error = nullptr;
  if (hs_compile_multi(patterns.data(), flags.data(), ids.data(), static_cast<unsigned>(rules.size()), HS_MODE_BLOCK,
                       platform, &database, &hs_error) != HS_SUCCESS) {
    const int index = hs_error ? hs_error->expression : -1;
    const std::string message = hs_error ? hs_error->message : "unknown error";
    hs_free_compile_error(hs_error);
    if (index >= 0 && static_cast<std::size_t>(index) < rules.size()) {
      return rule_error(rules[static_cast<std::size_t>(index)], fmt::format("Vectorscan: {}", message));
    }
    return Error{Errc::bad_value, 0, fmt::format("Vectorscan cannot compile the rules: {}", message)};
  }
  return database;
}

// Everything a serialized database was compiled from and checked against: the format, the
// flags, and each rule's Vectorscan expression, pattern and max_length
// (check_bounds' inputs). A serialized database is used only for rules with the same identity,
// so a stale one is never used, and rules that match it passed check_bounds when it was made.
std::string database_identity(const std::vector<Rule>& rules) {
  std::string identity = fmt::format("dumpguard rule database 1; hs flags {} {}; block mode; {} rules\n",
                                     kHsFlags, kHsDatabaseFlags, rules.size());
  for (const Rule& rule : rules) {
    fmt::format_to(std::back_inserter(identity), "{} {}:{} {}:{}\n", rule.max_length, rule.pattern.size(), rule.pattern,
                   rule.prefilter.size(), rule.prefilter);
  }
  return identity;
}

// The rule's PCRE2 codes (JIT-compiled), appended to `compiled`. About 0.1 ms a rule (the 70
// built-in rules take 2 to 6 ms), so they are compiled in every process, embedded database or not.
Status compile_pcre2(const Rule& rule, RuleEngine::Compiled& compiled) {
  int code = 0;
  PCRE2_SIZE at = 0;
  pcre2_code* main = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rule.pattern.data()), rule.pattern.size(),
                                   kPcreOptions, &code, &at, nullptr);
  if (!main) return rule_error(rule, fmt::format("PCRE2: {} at pattern offset {}", pcre2_message(code), at));
  compiled.main.push_back(main);
  pcre2_jit_compile(main, PCRE2_JIT_COMPLETE);  // without JIT, the interpreter still matches
  std::uint32_t groups = 0;
  pcre2_pattern_info(main, PCRE2_INFO_CAPTURECOUNT, &groups);
  compiled.max_pairs = std::max(compiled.max_pairs, groups + 1);
  compiled.allow.emplace_back();
  for (const std::string& allow : rule.allow_patterns) {
    pcre2_code* a = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(allow.data()), allow.size(), 0, &code, &at, nullptr);
    if (!a) {
      return rule_error(rule, fmt::format("allowlist pattern: PCRE2: {} at pattern offset {}", pcre2_message(code), at));
    }
    compiled.allow.back().push_back(a);
    pcre2_jit_compile(a, PCRE2_JIT_COMPLETE);
  }
  return ok_status();
}

}  // namespace

Result<std::shared_ptr<RuleEngine>> RuleEngine::build(std::vector<Rule>& rules, const hs_platform_info* platform) {
  std::shared_ptr<RuleEngine> engine(new RuleEngine());
  engine->compiled_ = std::make_unique<Compiled>();
  for (const Rule& rule : rules) {
    if (Status checked = check_bounds(rule); !checked) return checked.error();
    if (Status pcre2 = compile_pcre2(rule, *engine->compiled_); !pcre2) return pcre2.error();
    engine->max_length_ = std::max(engine->max_length_, rule.max_length);
  }
  if (!rules.empty()) {
    auto database = compile_database(rules, platform);
    if (!database) return database.error();
    engine->database_ = *database;
  }
  engine->rules_ = std::move(rules);
  return engine;
}

Result<std::shared_ptr<const RuleEngine>> RuleEngine::compile(std::vector<Rule> rules) {
  auto engine = build(rules, nullptr);
  if (!engine) return engine.error();
  return std::shared_ptr<const RuleEngine>(std::move(*engine));
}

namespace {

void append_u64le(std::vector<std::byte>& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}

std::uint64_t u64le(std::span<const std::byte> bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(bytes[static_cast<std::size_t>(i)]) << (8 * i);
  return v;
}

}  // namespace

// The serialized form: the rules' identity, a NUL, then for each platform of
// serialized_platforms() in order, the length of its database (8 bytes, little-endian) and the
// database as hs_serialize_database writes it.
Result<std::vector<std::byte>> RuleEngine::serialize(std::vector<Rule> rules) {
  if (rules.empty()) return Error{Errc::bad_value, 0, "no rules to serialize"};
  const std::string identity = database_identity(rules);
  std::vector<std::byte> out;
  for (char c : identity) out.push_back(static_cast<std::byte>(c));
  out.push_back(std::byte{0});
  const std::vector<hs_platform_info_t> platforms = serialized_platforms();
  // Every check compile() makes, once, with the last (generic) platform's database.
  auto engine = build(rules, &platforms.back());
  if (!engine) return engine.error();
  for (const hs_platform_info_t& platform : platforms) {
    hs_database* database = (*engine)->database_;
    if (&platform != &platforms.back()) {
      auto other = compile_database((*engine)->rules_, &platform);
      if (!other) return other.error();
      database = *other;
    }
    char* bytes = nullptr;
    std::size_t length = 0;
    const hs_error_t rc = hs_serialize_database(database, &bytes, &length);
    if (database != (*engine)->database_) hs_free_database(database);
    if (rc != HS_SUCCESS) return Error{Errc::bad_value, 0, "Vectorscan cannot serialize the rules' database"};
    append_u64le(out, length);
    out.insert(out.end(), reinterpret_cast<const std::byte*>(bytes), reinterpret_cast<const std::byte*>(bytes) + length);
    std::free(bytes);  // allocated with the default misc allocator (malloc)
  }
  return out;
}

std::shared_ptr<const RuleEngine> RuleEngine::deserialize(std::vector<Rule>& rules,
                                                          std::span<const std::byte> serialized) {
  if (rules.empty()) return nullptr;
  const std::string identity = database_identity(rules);
  if (serialized.size() <= identity.size() ||
      std::memcmp(serialized.data(), identity.data(), identity.size()) != 0 ||
      serialized[identity.size()] != std::byte{0}) {
    return nullptr;  // not made from these rules (or by this version of the engine)
  }
  std::shared_ptr<RuleEngine> engine(new RuleEngine());
  // The first database this host accepts. hs_deserialize_database checks Vectorscan's version,
  // the platform, the length and a CRC32C of the bytecode.
  for (auto rest = serialized.subspan(identity.size() + 1); rest.size() >= 8 && !engine->database_;) {
    const std::uint64_t length = u64le(rest);
    rest = rest.subspan(8);
    if (length > rest.size()) break;
    const auto database = rest.first(static_cast<std::size_t>(length));
    rest = rest.subspan(static_cast<std::size_t>(length));
    if (hs_deserialize_database(reinterpret_cast<const char*>(database.data()), database.size(), &engine->database_) !=
        HS_SUCCESS) {
      engine->database_ = nullptr;
    }
  }
  if (!engine->database_) return nullptr;
  engine->compiled_ = std::make_unique<Compiled>();
  for (const Rule& rule : rules) {
    if (!compile_pcre2(rule, *engine->compiled_)) return nullptr;
    engine->max_length_ = std::max(engine->max_length_, rule.max_length);
  }
  engine->deserialized_ = true;
  engine->rules_ = std::move(rules);
  return engine;
}

Result<std::shared_ptr<const RuleEngine>> RuleEngine::load(std::vector<Rule> rules,
                                                           std::span<const std::byte> serialized) {
  if (auto engine = deserialize(rules, serialized)) return engine;
  return compile(std::move(rules));
}

RuleScanner::RuleScanner(std::shared_ptr<const RuleEngine> engine) : engine_(std::move(engine)) {
  if (engine_->database_ && hs_alloc_scratch(engine_->database_, &scratch_) != HS_SUCCESS) throw std::bad_alloc();
  match_data_ = pcre2_match_data_create(engine_->compiled_->max_pairs, nullptr);
  auto* context = pcre2_match_context_create(nullptr);
  match_context_ = context;
  if (!match_data_ || !context) throw std::bad_alloc();
  pcre2_set_match_limit(context, kMatchLimit);
}

RuleScanner::~RuleScanner() {
  if (scratch_) hs_free_scratch(scratch_);
  pcre2_match_data_free(static_cast<pcre2_match_data*>(match_data_));
  pcre2_match_context_free(static_cast<pcre2_match_context*>(match_context_));
}

void RuleScanner::collect(std::span<const std::uint8_t> text) {
  hits_.clear();
  open_hit_.assign(engine_->rules_.size(), kNone);
  if (!engine_->database_ || text.empty()) return;
  Collector collector{hits_, open_hit_, truncated_};
  // on_hit stops the scan at kMaxHits and sets truncated_ (reported as a limit); any other stop
  // or failure throws, since the candidates it left out would read as no secret there.
  checked_hs_scan("the text rules", engine_->database_, text, scratch_, on_hit, &collector, &truncated_);
  std::sort(hits_.begin(), hits_.end(), [](const Hit& a, const Hit& b) {
    return a.rule != b.rule ? a.rule < b.rule : a.first_end < b.first_end;
  });
}

namespace {
struct Span {
  std::size_t match_begin, secret_begin, secret_end;
};
}  // namespace

// PCRE2 over the windows of one run of candidate ends [first_end, last_end] (subject
// coordinates). A candidate end E is where a match, or the prefix of one that the rule's
// prefilter matches, ends: so the match starts in [E - max_length, E] and ends by
// E + max_length. Each search starts max_length before the next unexplained end (or at the
// end of the rule's last match, `cursor`), may only start at or before last_end, and sees
// the subject only up to last_end + max_length (plus a little lookahead for \b), so it is
// bounded however large the subject. Matches never overlap within a rule.
// A window where PCRE2 stopped at its match, depth or heap limit (or the JIT's stack) is
// counted in `stopped` and not searched further: a bound on a hostile dump's cost, which the
// scan reports as a limit. Any other PCRE2 failure throws ScanEngineError.
static void confirm_run(const RuleEngine::Compiled& compiled, const Rule& rule, std::size_t index,
                        pcre2_match_data* data, pcre2_match_context* context, std::string_view subject,
                        std::uint64_t first_end, std::uint64_t last_end, std::uint64_t& cursor,
                        std::vector<Span>& found, std::size_t& stopped) {
  found.clear();
  const std::uint64_t length = rule.max_length;
  const std::size_t subject_end = static_cast<std::size_t>(std::min<std::uint64_t>(subject.size(), last_end + length + kLookahead));
  pcre2_set_offset_limit(context, static_cast<PCRE2_SIZE>(last_end));
  std::uint64_t end = std::max(first_end, cursor + 1);
  while (end <= last_end) {
    const std::uint64_t start = std::max(cursor, end > length ? end - length : 0);
    const int rc = pcre2_match(compiled.main[index], reinterpret_cast<PCRE2_SPTR>(subject.data()), subject_end,
                               static_cast<PCRE2_SIZE>(start), 0, data, context);
    if (rc == PCRE2_ERROR_NOMATCH) break;  // the candidate was not a match
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
        rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      ++stopped;
      break;
    }
    // 0: the match data cannot hold the groups (it is sized for the rules, so never); below
    // 0: PCRE2 failed (out of memory, a bad argument). Either way a match may be lost.
    if (rc <= 0) {
      throw ScanEngineError(fmt::format("the text rules: PCRE2 failed on rule {} ({}), so the bytes were not all searched",
                                        rule.id, rc == 0 ? "its match data is too small" : pcre2_message(rc)));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data);
    if (ov[1] <= ov[0]) break;
    Span s{ov[0], ov[0], ov[1]};
    for (int g = 1; g < rc; ++g) {
      if (ov[2 * g] != PCRE2_UNSET) {
        s.secret_begin = ov[2 * g];
        s.secret_end = ov[2 * g + 1];
        break;
      }
    }
    if (s.secret_end > s.secret_begin) found.push_back(s);
    cursor = ov[1];
    end = std::max(end, cursor + 1);
  }
}

bool RuleScanner::accepted(const Rule& rule, std::size_t index, std::string_view subject, std::size_t begin,
                           std::size_t end) {
  const std::string_view secret = subject.substr(begin, end - begin);
  // NULs are what a zero-filled redaction (or a buffer never written) leaves where a secret
  // was, not a credential a program wrote: a pattern such as <password>[^<]+</password> would
  // match them, and then no redacted copy would rescan clean.
  if (secret.find('\0') != std::string_view::npos) return false;
  if (placeholder_or_reference(subject, begin, end)) return false;
  if (rule.entropy && shannon_entropy(secret) < *rule.entropy) return false;
  for (const std::string& word : rule.stopwords) {
    auto it = std::search(secret.begin(), secret.end(), word.begin(), word.end(), [](char a, char b) {
      return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
    if (!word.empty() && it != secret.end()) return false;
  }
  auto* data = static_cast<pcre2_match_data*>(match_data_);
  for (pcre2_code* allow : engine_->compiled_->allow[index]) {
    if (pcre2_match(allow, reinterpret_cast<PCRE2_SPTR>(secret.data()), secret.size(), 0, 0, data, nullptr) >= 0) {
      return false;
    }
  }
  return true;
}

void RuleScanner::scan(std::span<const std::byte> bytes, const std::function<void(const TextMatch&)>& on_match) {
  // One pass over the bytes says where the text of both encodings is.
  const TextMasks& masks = masks_of(bytes);
  scan_ascii(bytes, masks, on_match);
  scan_utf16le(bytes, masks, on_match);
}

const TextMasks& RuleScanner::masks_of(std::span<const std::byte> bytes) {
  compute_text_masks(simd::best_width(), {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()}, masks_);
  return masks_;
}

void RuleScanner::scan_ascii(std::span<const std::byte> bytes, const std::function<void(const TextMatch&)>& on_match) {
  scan_ascii(bytes, masks_of(bytes), on_match);
}

void RuleScanner::scan_utf16le(std::span<const std::byte> bytes,
                               const std::function<void(const TextMatch&)>& on_match) {
  scan_utf16le(bytes, masks_of(bytes), on_match);
}

void RuleScanner::scan_ascii(std::span<const std::byte> bytes, const TextMasks& masks,
                             const std::function<void(const TextMatch&)>& on_match) {
  const auto& rules = engine_->rules_;
  if (rules.empty() || bytes.empty()) return;
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const std::string_view area(reinterpret_cast<const char*>(p), bytes.size());
  const std::size_t overlap = engine_->max_length_;
  std::vector<std::uint64_t> cursor(rules.size(), 0);
  std::vector<Span> found;
  // Vectorscan reads the stretches around text only; PCRE2 confirms over all the bytes, so a
  // match found is matched whole, whatever lies beyond its stretch.
  const auto scan_stretch = [&](std::size_t begin, std::size_t stop) {
    for (std::size_t c = begin; c < stop; c += kChunk) {
      const std::size_t end = std::min(stop, c + kChunk + overlap);
      collect({p + c, end - c});
      for (const Hit& h : hits_) {
        confirm_run(*engine_->compiled_, rules[h.rule], h.rule, static_cast<pcre2_match_data*>(match_data_),
                    static_cast<pcre2_match_context*>(match_context_), area, c + h.first_end, c + h.last_end,
                    cursor[h.rule], found, stopped_windows_);
        for (const Span& s : found) {
          if (!accepted(rules[h.rule], h.rule, area, s.secret_begin, s.secret_end)) continue;
          on_match(TextMatch{h.rule, TextEncoding::ascii, s.secret_begin, s.secret_end - s.secret_begin, area,
                             s.secret_begin, s.secret_end});
        }
      }
      if (end == stop) break;
    }
  };
  ascii::find_stretches(masks, kMinTextRun, kStretchMargin, kStretchJoin, scan_stretch);
}

void RuleScanner::scan_utf16le(std::span<const std::byte> bytes, const TextMasks& masks,
                               const std::function<void(const TextMatch&)>& on_match) {
  const auto& rules = engine_->rules_;
  if (rules.empty() || bytes.size() < 2 * kMinUtf16Run) return;
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const std::size_t n = bytes.size(), overlap = engine_->max_length_;

  struct Piece {
    std::size_t side;   // offset in narrow_
    std::uint64_t at;   // byte offset of its first character in `bytes`
    std::size_t chars;
    std::size_t owned;  // matches starting at or after this character belong to the next piece
  };
  std::vector<Piece> pieces;
  std::vector<Span> found;
  // narrow_[0, used) holds the batched runs, each followed by a separator; narrow_'s size is
  // its room, grown as needed (utf16::narrow writes up to kNarrowSlack bytes past a run).
  std::size_t used = 0;
  const auto make_room = [&](std::size_t more) {
    if (narrow_.size() >= used + more) return;
    narrow_.resize(std::max(used + more, std::min(2 * narrow_.size(), 2 * kMaxPiece + utf16::kNarrowSlack)));
  };

  auto flush = [&] {
    if (pieces.empty()) return;
    collect({reinterpret_cast<const std::uint8_t*>(narrow_.data()), used});
    std::vector<std::uint64_t> cursor(rules.size(), 0);
    for (const Hit& h : hits_) {
      // The first piece that holds an end of this run (ends are exclusive offsets).
      auto it = std::upper_bound(pieces.begin(), pieces.end(), h.first_end - 1,
                                 [](std::uint64_t v, const Piece& pc) { return v < pc.side; });
      if (it != pieces.begin()) --it;
      for (; it != pieces.end() && it->side < h.last_end; ++it) {
        const Piece& pc = *it;
        const std::uint64_t lo = std::max<std::uint64_t>(h.first_end, pc.side + 1);
        // An end may fall on the separator after the run: a pattern that ends with
        // "(?:[^...]|$)" matches the separator where PCRE2 matches the run's end.
        const std::uint64_t hi = std::min<std::uint64_t>(h.last_end, pc.side + pc.chars + 1);
        if (lo > hi) continue;
        const std::string_view subject = std::string_view(narrow_).substr(pc.side, pc.chars);
        std::uint64_t local = cursor[h.rule] > pc.side ? cursor[h.rule] - pc.side : 0;
        confirm_run(*engine_->compiled_, rules[h.rule], h.rule, static_cast<pcre2_match_data*>(match_data_),
                    static_cast<pcre2_match_context*>(match_context_), subject, std::min<std::uint64_t>(lo - pc.side, pc.chars),
                    std::min<std::uint64_t>(hi - pc.side, pc.chars), local, found, stopped_windows_);
        cursor[h.rule] = pc.side + local;
        for (const Span& s : found) {
          if (s.match_begin >= pc.owned) continue;
          if (!accepted(rules[h.rule], h.rule, subject, s.secret_begin, s.secret_end)) continue;
          on_match(TextMatch{h.rule, TextEncoding::utf16le, pc.at + 2 * s.secret_begin,
                             2 * (s.secret_end - s.secret_begin), subject, s.secret_begin, s.secret_end});
        }
      }
    }
    pieces.clear();
    used = 0;
  };

  const utf16::Width width = utf16::best_width();
  auto add_run = [&](std::size_t at, std::size_t chars) {
    for (std::size_t off = 0;;) {
      const std::size_t len = std::min(chars - off, kMaxPiece);
      const bool last = off + len == chars;
      if (used + len + 1 > 2 * kMaxPiece) flush();
      pieces.push_back({used, at + 2 * off, len, last ? len : len - overlap});
      make_room(len + 1 + utf16::kNarrowSlack);
      const std::size_t from = at + 2 * off;
      utf16::narrow(width, p + from, len, n - from, narrow_.data() + used);
      used += len;
      narrow_[used++] = '\0';  // keeps Vectorscan's candidates from joining two runs
      if (last) break;
      off += len - overlap;
    }
  };

  make_room(std::min<std::size_t>(n / 2 + 1, 2 * kMaxPiece) + utf16::kNarrowSlack);
  utf16::find_runs(masks, kMinUtf16Run, add_run);
  flush();
}

}  // namespace dumpguard::rules
