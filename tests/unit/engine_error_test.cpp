// A search engine that fails mid-scan ends the scan as an error, never as "nothing found":
// Vectorscan's own failures (a scratch from another database, a scan stopped that nobody
// asked to stop) throw ScanEngineError naming the error; a window where PCRE2 stops at its
// backtracking limit is reported as a limit of the text rules, so the verdict is not "clean".
// That the error reaches the CLI as exit 2 is tested in integration/test_scan_engine_failure.py.
#include <gtest/gtest.h>

#include <hs.h>

#include <string>
#include <vector>

#include "detect/text_rule_detector.hpp"
#include "fixtures/detector_harness.hpp"
#include "rules/engine.hpp"
#include "rules/engine_error.hpp"
#include "rules/rule_file.hpp"

namespace dumpguard {
namespace {

// A Vectorscan database and its scratch, freed at the end of the test.
struct Database {
  hs_database_t* database = nullptr;
  hs_scratch_t* scratch = nullptr;
  Database(const std::vector<const char*>& patterns) {
    std::vector<unsigned> flags(patterns.size(), HS_FLAG_DOTALL), ids;
    for (unsigned i = 0; i < patterns.size(); ++i) ids.push_back(i);
    hs_compile_error_t* error = nullptr;
    if (hs_compile_multi(patterns.data(), flags.data(), ids.data(), static_cast<unsigned>(patterns.size()),
                         HS_MODE_BLOCK, nullptr, &database, &error) != HS_SUCCESS) {
      ADD_FAILURE() << (error ? error->message : "hs_compile_multi failed");
      hs_free_compile_error(error);
      return;
    }
    if (hs_alloc_scratch(database, &scratch) != HS_SUCCESS) ADD_FAILURE() << "hs_alloc_scratch failed";
  }
  ~Database() {
    if (scratch) hs_free_scratch(scratch);
    if (database) hs_free_database(database);
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
};

int count_match(unsigned, unsigned long long, unsigned long long, unsigned, void* context) {
  ++*static_cast<int*>(context);
  return 0;
}

int stop_at_first_match(unsigned, unsigned long long, unsigned long long, unsigned, void* context) {
  ++*static_cast<int*>(context);
  return 1;
}

const std::string kText = "xx foo0123456789abcdefbar yy q42w zz abcdefdef";

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(EngineError, VectorscanFailureThrowsNamingTheErrorAndThePass) {
  const Database rules({"foo[0-9a-f]{10,40}bar", "q\\d+w", "abc(def|ghi){2,9}", "[0-9]{20}z", "x.{0,30}y"});
  const Database other({"a"});
  ASSERT_TRUE(rules.scratch && other.scratch);

  int matches = 0;
  checked_hs_scan("the test pass", rules.database, bytes_of(kText), rules.scratch, count_match, &matches);
  EXPECT_GT(matches, 0) << "the database's own scratch scans";

  // Vectorscan refuses a scratch allocated for another database (HS_INVALID) and reports no
  // match: unchecked, that was "no secret here".
  matches = 0;
  try {
    checked_hs_scan("the test pass", rules.database, bytes_of(kText), other.scratch, count_match, &matches);
    FAIL() << "a failed hs_scan did not throw";
  } catch (const ScanEngineError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("the test pass"), std::string::npos) << what;
    EXPECT_NE(what.find("HS_INVALID"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line";
  }
  EXPECT_EQ(matches, 0);
}

TEST(EngineError, StoppedScanIsAnErrorUnlessTheCallbackStoppedItOnPurpose) {
  const Database rules({"foo[0-9a-f]{10,40}bar", "q\\d+w"});
  ASSERT_TRUE(rules.scratch);
  int matches = 0;
  try {
    checked_hs_scan("the test pass", rules.database, bytes_of(kText), rules.scratch, stop_at_first_match, &matches);
    FAIL() << "HS_SCAN_TERMINATED that nobody asked for did not throw";
  } catch (const ScanEngineError& e) {
    EXPECT_NE(std::string(e.what()).find("HS_SCAN_TERMINATED"), std::string::npos) << e.what();
  }
  EXPECT_EQ(matches, 1);

  bool stopped = false;  // the callback's flag, not set: still an error
  EXPECT_THROW(checked_hs_scan("the test pass", rules.database, bytes_of(kText), rules.scratch, stop_at_first_match,
                               &matches, &stopped),
               ScanEngineError);
  stopped = true;  // the callback stopped it and said so (the text rules' candidate cap)
  EXPECT_NO_THROW(checked_hs_scan("the test pass", rules.database, bytes_of(kText), rules.scratch, stop_at_first_match,
                                  &matches, &stopped));
}

// A user's rule whose pattern backtracks without end on a run of 'a's before "bz": Vectorscan
// proposes windows (the prefilter), PCRE2 gives up at its match limit in each. Those windows
// were not checked, so the text rules report a limit and the scan cannot be called clean.
constexpr const char* kBacktrackingRule = R"(
[[rule]]
id = "test-backtracking"
description = "a pattern that backtracks exponentially on runs of a"
prefilter = '''aaaaaaaa'''
pattern = '''((?:a|aa){1,40}z)'''
max_length = 81
)";

std::shared_ptr<const rules::RuleEngine> backtracking_engine() {
  auto parsed = rules::parse_rule_file(kBacktrackingRule, "backtracking.toml");
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message);
  auto compiled = rules::RuleEngine::compile(std::move(*parsed));
  EXPECT_TRUE(compiled) << (compiled ? "" : compiled.error().message);
  return *compiled;
}

TEST(EngineError, PcreLimitIsCountedAndReportedAsALimit) {
  const auto engine = backtracking_engine();
  ASSERT_TRUE(engine);
  std::string text(64, ' ');
  text += std::string(60, 'a') + "bz";
  text += std::string(64, ' ');

  rules::RuleScanner scanner(engine);
  std::size_t matches = 0;
  scanner.scan_ascii(std::as_bytes(std::span(text)), [&](const rules::TextMatch&) { ++matches; });
  EXPECT_EQ(matches, 0u);
  EXPECT_GT(scanner.stopped_windows(), 0u);

  const std::vector<std::uint8_t> buf(text.begin(), text.end());
  auto detector = make_text_rules_detector({engine});
  const auto key = test::seeded_bytes(32, 7);
  const auto sink = test::run_over(*detector, buf, key);
  EXPECT_TRUE(sink.findings.empty());
  ASSERT_EQ(sink.limits.size(), 1u);
  EXPECT_NE(sink.limits[0].find("PCRE2 stopped at its backtracking limit"), std::string::npos) << sink.limits[0];

  // The same rule on text it can match within the limit: a finding and no limit.
  std::string short_run(64, ' ');
  short_run += "aaaaaaaaaaz";
  short_run += std::string(64, ' ');
  const std::vector<std::uint8_t> ok(short_run.begin(), short_run.end());
  auto again = make_text_rules_detector({engine});
  const auto fine = test::run_over(*again, ok, key);
  EXPECT_EQ(fine.findings.size(), 1u);
  EXPECT_TRUE(fine.limits.empty());
}

}  // namespace
}  // namespace dumpguard
