// Replays a fuzz corpus without libFuzzer, so every build (gcc Release included) runs
// every committed input through the same entry point the fuzzer uses.
// `--rss-limit-mb=N` (before the corpora) fails the replay, naming the input, once the
// process's peak resident memory passes N MiB, as libFuzzer's -rss_limit_mb does: a reader
// that lets a small input cost memory far beyond its size fails here in every build.
#include <sys/resource.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

long peak_rss_mb() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return usage.ru_maxrss / 1024;  // KiB on Linux
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 0;
  long rss_limit_mb = 0;  // 0: no limit
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--rss-limit-mb=")) {
      rss_limit_mb = std::strtol(argv[i] + arg.find('=') + 1, nullptr, 10);
      continue;
    }
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(argv[i])) {
      for (const auto& entry : std::filesystem::directory_iterator(argv[i])) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else {
      files.emplace_back(argv[i]);
    }
    for (const auto& path : files) {
      std::ifstream in(path, std::ios::binary);
      std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++count;
      if (rss_limit_mb > 0 && peak_rss_mb() > rss_limit_mb) {
        std::fprintf(stderr, "peak resident memory %ld MiB passed the limit of %ld MiB at %s\n", peak_rss_mb(),
                     rss_limit_mb, path.c_str());
        return 1;
      }
    }
  }
  std::printf("replayed %zu inputs, peak resident memory %ld MiB\n", count, peak_rss_mb());
  return count > 0 ? 0 : 1;  // an empty corpus is a broken test, not a pass
}
