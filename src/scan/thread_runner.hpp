// The scanner's ChunkRunner: splits areas into chunks of a fixed size (the same whatever the
// thread count, so results do not depend on it), runs work on them on a few threads, and keeps
// resident memory bounded by releasing the mapping's pages as the front of finished chunks
// moves on (MappedFile::release).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "detect/chunks.hpp"
#include "dumpguard/mapped_file.hpp"

namespace dumpguard {

// Chunks of `chunk_size` bytes over every area (the last one of an area shorter).
std::vector<ChunkBounds> split_areas(std::span<const ScanArea> areas, std::uint64_t chunk_size);

// The default: all the cores this process may run on.
unsigned available_cores();

class ThreadRunner final : public ChunkRunner {
 public:
  // Resident pages are released after every `release_every` bytes of finished chunks. `file`
  // may be null (nothing is released).
  ThreadRunner(std::span<const ScanArea> areas, std::uint64_t chunk_size, unsigned threads, const MappedFile* file,
               std::uint64_t release_every);

  std::span<const ChunkBounds> chunks() const override { return chunks_; }
  unsigned threads() const override { return threads_; }
  void run(const std::function<void(std::size_t chunk, unsigned worker)>& fn) const override;

  // Called after each finished chunk with the owned bytes finished so far in this run(); calls
  // never overlap. Set between runs only.
  void on_progress(std::function<void(std::uint64_t done)> progress) { progress_ = std::move(progress); }

 private:
  void finished(std::uint64_t bytes) const;

  std::span<const ScanArea> areas_;
  std::vector<ChunkBounds> chunks_;
  unsigned threads_;
  const MappedFile* file_;
  std::uint64_t release_every_;
  std::function<void(std::uint64_t)> progress_;
  mutable std::mutex mutex_;  // guards the counters below and progress_ calls
  mutable std::uint64_t done_ = 0;
  mutable std::uint64_t since_release_ = 0;
};

}  // namespace dumpguard
