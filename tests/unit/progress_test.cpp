// The scanner's progress reports: one pass for the structure detectors (which share their walk
// over the dump), then one per hunt, each counting up to the bytes of all areas, in order; the
// whole stage reaches 1. Reports change nothing the scan finds.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "dumpguard/mapped_file.hpp"
#include "dumpguard/open_dump.hpp"
#include "dumpguard/scan.hpp"
#include "fixtures/detector_harness.hpp"

using namespace dumpguard;

namespace {

struct Seen {
  std::string stage, step;
  std::size_t pass = 0, passes = 0;
  std::uint64_t done = 0, total = 0;
  double fraction = 0;
};

TEST(ScanProgress, OnePassPerDetectorCountingEveryAreaByte) {
  const std::vector<std::uint8_t> bytes = test::seeded_bytes(1 << 16, 7);
  const auto span = std::as_bytes(std::span<const std::uint8_t>(bytes));
  Dump dump;
  dump.file = std::make_shared<const MappedFile>(MappedFile::borrow(span));
  auto model = read_model(Format::raw, span);
  ASSERT_TRUE(model.ok());
  dump.model = *model;

  ScanOptions options;
  options.fingerprint_key = test::seeded_bytes(32, 8);
  const ScanReport quiet = scan_dump(dump, options);
  std::vector<Seen> seen;
  ProgressObserver observer([&](const Progress& p) {
    seen.push_back({std::string(p.stage), std::string(p.step), p.pass, p.passes, p.done, p.total, p.fraction()});
  });
  const ScanReport reported = scan_dump(dump, options, &observer, "verify");

  EXPECT_EQ(reported.findings.size(), quiet.findings.size());
  ASSERT_FALSE(seen.empty());
  // The structure detectors' shared pass, then one per hunt.
  const std::vector<std::string> hunts = {"rsa-factor", "ec-scalar", "edwards-seed", "hmac-key"};
  const std::size_t passes = 1 + hunts.size();
  std::vector<std::uint64_t> finished(passes, 0);
  std::vector<std::string> step_of(passes);
  double last_fraction = 0;
  for (const Seen& s : seen) {
    EXPECT_EQ(s.stage, "verify");
    EXPECT_EQ(s.passes, passes);
    ASSERT_LT(s.pass, passes);
    if (step_of[s.pass].empty()) step_of[s.pass] = s.step;
    EXPECT_EQ(s.step, step_of[s.pass]) << "pass " << s.pass;
    EXPECT_EQ(s.total, bytes.size());
    EXPECT_LE(s.done, s.total);
    EXPECT_GE(s.fraction, last_fraction);
    last_fraction = s.fraction;
    finished[s.pass] = std::max(finished[s.pass], s.done);
  }
  for (std::size_t p = 0; p < passes; ++p) EXPECT_EQ(finished[p], bytes.size()) << step_of[p];
  for (const std::string& h : hunts) {
    ASSERT_NE(std::find(reported.detectors.begin(), reported.detectors.end(), h), reported.detectors.end()) << h;
  }
  EXPECT_EQ(step_of[0], "structure");
  std::vector<std::string> hunt_steps(step_of.begin() + 1, step_of.end());
  std::vector<std::string> expected = hunts;
  std::sort(hunt_steps.begin(), hunt_steps.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(hunt_steps, expected);
  EXPECT_DOUBLE_EQ(seen.back().fraction, 1.0);
}

}  // namespace
