// The redaction plan and the span writer: overlapping and touching spans merge, spans clip to
// the file, the copy is the same whatever the chunk size (spans across and at chunk
// boundaries), and the fill pattern is aligned to file offsets. The expected bytes come from a
// byte-by-byte reference written here, not from the writer.
#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <vector>

#include "dumpguard/redact.hpp"

using namespace dumpguard;

namespace {

Finding finding_at(std::uint64_t offset, std::uint64_t length) {
  Finding f;
  f.file_offset = offset;
  f.length = length;
  return f;
}

ScanReport report_of(std::initializer_list<std::pair<std::uint64_t, std::uint64_t>> spans) {
  ScanReport r;
  for (auto [o, n] : spans) r.findings.push_back(finding_at(o, n));
  return r;
}

std::vector<std::byte> input_of(std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = std::byte(0x40 + i % 61);  // no 0x00, no 0x0d/0xef/0xac/0xed
  return bytes;
}

// The reference: each byte inside a finding becomes pattern[offset % 4].
std::vector<std::byte> reference(const std::vector<std::byte>& input, const ScanReport& report, const Fill& fill) {
  std::vector<std::byte> out = input;
  for (const Finding& f : report.findings) {
    for (std::uint64_t o = f.file_offset; o < f.file_offset + f.length && o < out.size(); ++o) {
      out[o] = fill.pattern[o % 4];
    }
  }
  return out;
}

std::vector<std::byte> redact_in_memory(const std::vector<std::byte>& input, const ScanReport& report,
                                        const Fill& fill, std::size_t chunk, std::size_t* largest = nullptr) {
  std::vector<std::byte> out;
  const ByteSink sink = [&](std::span<const std::byte> piece) -> Status {
    EXPECT_LE(piece.size(), chunk);
    EXPECT_FALSE(piece.empty());
    if (largest) *largest = std::max(*largest, piece.size());
    out.insert(out.end(), piece.begin(), piece.end());
    return ok_status();
  };
  const Status s = write_redacted(input, plan_redaction(report, input.size()), fill, sink, chunk);
  EXPECT_TRUE(s.ok());
  return out;
}

TEST(RedactPlan, MergesOverlappingAndTouchingSpansAndSorts) {
  const ScanReport r = report_of({{100, 10}, {5, 10}, {105, 20}, {125, 5}, {200, 1}, {8, 2}});
  const auto plan = plan_redaction(r, 1000);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].file_offset, 5u);
  EXPECT_EQ(plan[0].size, 10u);
  EXPECT_EQ(plan[1].file_offset, 100u);
  EXPECT_EQ(plan[1].size, 30u);  // 100..110, 105..125 and the touching 125..130
  EXPECT_EQ(plan[2].file_offset, 200u);
  EXPECT_EQ(plan[2].size, 1u);
}

TEST(RedactPlan, ClipsSpansToTheFileWithoutOverflow) {
  const ScanReport r = report_of({{90, 50}, {200, 5}, {95, ~0ull}});
  const auto plan = plan_redaction(r, 100);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].file_offset, 90u);
  EXPECT_EQ(plan[0].size, 10u);
}

TEST(RedactWriter, NoFindingsGivesAnIdenticalCopy) {
  const auto input = input_of(1000);
  EXPECT_EQ(redact_in_memory(input, ScanReport{}, zero_fill(), 64), input);
}

TEST(RedactWriter, SpansAtAndAcrossChunkBoundaries) {
  const auto input = input_of(256);
  // chunk 16: a span ending at a boundary, one starting at one, one across two, one spanning
  // several chunks, and the last byte of the file.
  const ScanReport r = report_of({{0, 16}, {32, 3}, {46, 5}, {60, 70}, {255, 1}});
  for (const Fill& fill : {zero_fill(), defaced_fill()}) {
    EXPECT_EQ(redact_in_memory(input, r, fill, 16), reference(input, r, fill)) << fill.name;
  }
}

TEST(RedactWriter, OverlappingSpansAreFilledOnce) {
  const auto input = input_of(300);
  const ScanReport r = report_of({{10, 50}, {20, 10}, {55, 30}, {84, 2}});
  EXPECT_EQ(redact_in_memory(input, r, defaced_fill(), 7), reference(input, r, defaced_fill()));
}

TEST(RedactWriter, FillPatternIsAlignedToFileOffsets) {
  const auto input = input_of(64);
  const ScanReport r = report_of({{5, 11}});
  for (std::size_t chunk : {1u, 2u, 3u, 5u, 8u, 1000u}) {
    const auto out = redact_in_memory(input, r, defaced_fill(), chunk);
    ASSERT_EQ(out.size(), input.size());
    // 0x0d at offsets 4k, 0xef at 4k+1, 0xac at 4k+2, 0xed at 4k+3.
    const std::byte expected[] = {std::byte{0xef}, std::byte{0xac}, std::byte{0xed}, std::byte{0x0d},
                                  std::byte{0xef}, std::byte{0xac}, std::byte{0xed}, std::byte{0x0d},
                                  std::byte{0xef}, std::byte{0xac}, std::byte{0xed}};
    for (std::size_t i = 0; i < 11; ++i) EXPECT_EQ(out[5 + i], expected[i]) << "chunk " << chunk << " byte " << i;
    EXPECT_EQ(out[4], input[4]);
    EXPECT_EQ(out[16], input[16]);
  }
}

TEST(RedactWriter, RandomSpansMatchTheReferenceAtEveryChunkSize) {
  std::mt19937_64 rng(20261127);
  const auto input = input_of(4096);
  for (int round = 0; round < 200; ++round) {
    ScanReport r;
    const int count = static_cast<int>(rng() % 12);
    for (int i = 0; i < count; ++i) r.findings.push_back(finding_at(rng() % 4200, 1 + rng() % 300));
    const std::size_t chunk = 1 + rng() % 700;
    const Fill fill = (round % 2) ? defaced_fill() : zero_fill();
    std::size_t largest = 0;
    ASSERT_EQ(redact_in_memory(input, r, fill, chunk, &largest), reference(input, r, fill)) << "round " << round;
    EXPECT_LE(largest, chunk);
  }
}

TEST(RedactWriter, RefusesUnsortedSpans) {
  const auto input = input_of(100);
  const std::vector<ByteRange> spans = {{50, 10}, {10, 10}};
  const ByteSink sink = [](std::span<const std::byte>) -> Status { return ok_status(); };
  EXPECT_FALSE(write_redacted(input, spans, zero_fill(), sink, 16).ok());
  const std::vector<ByteRange> past_end = {{95, 10}};
  EXPECT_FALSE(write_redacted(input, past_end, zero_fill(), sink, 16).ok());
}

TEST(RedactWriter, SinkErrorsStopTheCopy) {
  const auto input = input_of(100);
  int calls = 0;
  const ByteSink failing = [&](std::span<const std::byte>) -> Status {
    ++calls;
    return Error{Errc::io, 0, "disk full"};
  };
  EXPECT_FALSE(write_redacted(input, {}, zero_fill(), failing, 10).ok());
  EXPECT_EQ(calls, 1);
}

}  // namespace
