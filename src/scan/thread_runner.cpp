#include "scan/thread_runner.hpp"

#include <sched.h>

#include <algorithm>
#include <exception>
#include <thread>

#include "detect/detector.hpp"

namespace dumpguard {

std::vector<ChunkBounds> split_areas(std::span<const ScanArea> areas, std::uint64_t chunk_size) {
  std::vector<ChunkBounds> chunks;
  chunk_size = std::max<std::uint64_t>(chunk_size, 1);
  for (std::size_t a = 0; a < areas.size(); ++a) {
    const std::uint64_t size = areas[a].bytes.size();
    for (std::uint64_t begin = 0; begin < size; begin += chunk_size) {
      chunks.push_back({a, begin, begin + std::min(chunk_size, size - begin)});
    }
  }
  return chunks;
}

unsigned available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return static_cast<unsigned>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

ThreadRunner::ThreadRunner(std::span<const ScanArea> areas, std::uint64_t chunk_size, unsigned threads,
                           const MappedFile* file, std::uint64_t release_every)
    : areas_(areas),
      chunks_(split_areas(areas, chunk_size)),
      threads_(std::max(1u, threads)),
      file_(file),
      release_every_(release_every) {}

void ThreadRunner::finished(std::uint64_t bytes) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  done_ += bytes;
  since_release_ += bytes;
  // The whole mapping: chunks in flight fault their few pages back in, and pages reached by
  // following pointers (BIGNUM limbs) go as well, so nothing accumulates between releases.
  if (file_ && since_release_ >= release_every_) {
    since_release_ = 0;
    file_->release();
  }
  if (progress_) progress_(done_);
}

void ThreadRunner::run(const std::function<void(std::size_t chunk, unsigned worker)>& fn) const {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    done_ = 0;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  const auto work = [&](unsigned worker) {
    try {
      for (std::size_t i = next++; i < chunks_.size() && !failed; i = next++) {
        const ChunkBounds& c = chunks_[i];
        if (file_) file_->will_need(areas_[c.area].file_offset + c.begin, c.end - c.begin);
        fn(i, worker);
        finished(c.end - c.begin);
      }
    } catch (...) {
      const std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
  const auto extra = static_cast<unsigned>(std::min<std::size_t>(threads_, std::max<std::size_t>(chunks_.size(), 1)) - 1);
  std::vector<std::thread> pool;
  pool.reserve(extra);
  for (unsigned w = 1; w <= extra; ++w) pool.emplace_back(work, w);
  work(0);
  for (std::thread& t : pool) t.join();
  if (file_) file_->release();
  if (error) std::rethrow_exception(error);
}

}  // namespace dumpguard
