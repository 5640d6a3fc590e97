// The parallel scan over a raw image with structures planted across 4 KiB boundaries: the
// report is the same for any thread count and chunk size, each structure is one finding, and
// the progress callback advances, never runs twice at once, and ends at its total. (The same on
// real cores: tests/integration/test_dump_parallel.py.) Under ASan+UBSan this also runs the
// thread runner and the shared anchor pass.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "crypto/aes_key_expansion.hpp"
#include "dumpguard/open_dump.hpp"
#include "dumpguard/scan.hpp"
#include "fixtures/detector_harness.hpp"

namespace dumpguard {
namespace {

std::string pem_private_key() {
  EVP_PKEY* key = EVP_RSA_gen(1024);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(key);
  while (!pem.empty() && pem.back() == '\n') pem.pop_back();
  return pem;
}

// An AES-256 encryption schedule (FIPS-197 5.2) in FIPS byte order.
std::string aes256_schedule(const std::vector<std::uint8_t>& key) {
  std::array<std::uint32_t, aes::kMaxScheduleWords> w{};
  for (unsigned i = 0; i < 8; ++i) {
    w[i] = (std::uint32_t{key[4 * i]} << 24) | (std::uint32_t{key[4 * i + 1]} << 16) |
           (std::uint32_t{key[4 * i + 2]} << 8) | key[4 * i + 3];
  }
  for (unsigned i = 8; i < aes::schedule_words(8); ++i) w[i] = w[i - 8] ^ aes::expansion_term(i, 8, w[i - 1]);
  std::string out;
  for (unsigned i = 0; i < aes::schedule_words(8); ++i) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>((w[i] >> s) & 0xFF));
  }
  return out;
}

struct Planted {
  std::size_t offset;
  std::size_t length;
};

class ParallelScan : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string image = std::string(64 * 1024, 'x');
    for (std::size_t i = 0; i < image.size(); i += 97) image[i] = '\n';
    const std::string pem = pem_private_key();
    const std::string aes = aes256_schedule(test::seeded_bytes(32, 9));
    std::size_t boundary = 4096;
    for (const std::string& blob : {pem, aes, pem}) {
      const std::size_t at = boundary - blob.size() / 2;
      image.replace(at, blob.size(), blob);
      planted_.push_back({at, blob.size()});
      boundary += 2 * 4096;
    }
    path_ = ::testing::TempDir() + "parallel-scan-image-" + std::to_string(::getpid());
    std::ofstream(path_, std::ios::binary) << image;
    OpenOptions open;
    open.forced_format = Format::raw;
    auto dump = open_dump(path_, open);
    ASSERT_TRUE(dump) << dump.error().message;
    dump_ = std::make_unique<Dump>(std::move(*dump));
    options_.fingerprint_key = test::seeded_bytes(32, 4);
  }
  void TearDown() override { std::remove(path_.c_str()); }

  std::vector<std::tuple<std::uint64_t, std::uint64_t, std::string, std::string, std::string>> scan(
      unsigned threads, std::uint64_t chunk_size) {
    ScanOptions options = options_;
    options.threads = threads;
    options.chunk_size = chunk_size;
    const ScanReport report = scan_dump(*dump_, options);
    std::vector<std::tuple<std::uint64_t, std::uint64_t, std::string, std::string, std::string>> out;
    for (const Finding& f : report.findings) out.emplace_back(f.file_offset, f.length, f.kind, f.key, f.proof);
    return out;
  }

  std::vector<Planted> planted_;
  std::string path_;
  std::unique_ptr<Dump> dump_;
  ScanOptions options_;
};

TEST_F(ParallelScan, SameFindingsForAnyThreadCountAndChunkSize) {
  const auto base = scan(1, 0);
  EXPECT_EQ(scan(3, 0), base);
  EXPECT_EQ(scan(1, 4096), base);
  EXPECT_EQ(scan(3, 4096), base);
  EXPECT_EQ(scan(2, 12288), base);
  // Each planted structure, across a 4 KiB boundary, is one finding with exactly its span.
  const auto split = scan(3, 4096);
  for (const Planted& p : planted_) {
    std::size_t overlapping = 0, exact = 0;
    for (const auto& [offset, length, kind, key, proof] : split) {
      if (offset < p.offset + p.length && p.offset < offset + length) ++overlapping;
      if (offset == p.offset && length == p.length) ++exact;
    }
    EXPECT_EQ(overlapping, 1u) << "at " << p.offset;
    EXPECT_EQ(exact, 1u) << "at " << p.offset;
  }
}

TEST_F(ParallelScan, ProgressAdvancesOneCallAtATimeToItsTotal) {
  std::atomic<int> inside{0};
  double last = 0;
  bool overlapped = false, backwards = false;
  ScanOptions options = options_;
  options.threads = 3;
  options.chunk_size = 4096;
  ProgressObserver observer([&](const Progress& p) {
    if (inside.fetch_add(1) != 0) overlapped = true;
    if (p.fraction() < last || p.done > p.total || p.pass >= p.passes) backwards = true;
    last = p.fraction();
    inside.fetch_sub(1);
  });
  scan_dump(*dump_, options, &observer);
  EXPECT_FALSE(overlapped);
  EXPECT_FALSE(backwards);
  EXPECT_DOUBLE_EQ(last, 1.0);
}

}  // namespace
}  // namespace dumpguard
