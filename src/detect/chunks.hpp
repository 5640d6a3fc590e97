// How the scanner splits areas into chunks for its threads, as detectors see it. A chunk owns
// a range of one area; a detector reads a window around it, widened by its Reach, so that a
// finding starting in the chunk is found whole, as in one pass over the area. Each finding
// belongs to the chunk where it starts, whatever the thread count, so a finding in the
// overlap of two windows is kept once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace dumpguard {

struct ScanArea;
struct ScanContext;

// The bytes [begin, end) of area `area` (offsets within the area) that one chunk owns.
struct ChunkBounds {
  std::size_t area = 0;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
};

// How far around a chunk a detector reads: `before` bytes before its first byte (a structure
// that starts before the byte that reveals it, e.g. a JWK's brace before "kty"), and `after`
// bytes past its last (the longest structure that may start in the chunk).
struct Reach {
  std::size_t before = 0;
  std::size_t after = 0;
};

// How far past a chunk detectors parse structures that carry their own length and no cap (DER
// keys and certificates): one that is longer and crosses a chunk boundary is not found.
inline constexpr std::size_t kMaxStructure = std::size_t{256} << 10;

// Runs work on the chunks of a scan's areas, on the scan's threads.
class ChunkRunner {
 public:
  virtual ~ChunkRunner() = default;
  virtual std::span<const ChunkBounds> chunks() const = 0;
  virtual unsigned threads() const = 0;
  // Calls fn(chunk index, worker) once for every chunk; worker < threads() names the calling
  // thread, for per-thread scratch. Returns when all calls have returned; an exception thrown
  // by fn is rethrown here. Chunks are started in order, so memory use follows a front.
  virtual void run(const std::function<void(std::size_t chunk, unsigned worker)>& fn) const = 0;
};

// The window of `chunk` for a detector with `reach`: the chunk widened by it, clipped to the
// area. Its file_offset is the window's, so offsets a detector computes stay file offsets.
ScanArea chunk_window(const ScanArea& area, const ChunkBounds& chunk, Reach reach);

// Whether a finding at `file_offset` belongs to `chunk` of `area`.
bool owns(const ScanArea& area, const ChunkBounds& chunk, std::uint64_t file_offset);

// The chunks of the scan (the runner's), or one chunk per area when the context has no runner
// (unit tests run a detector over areas directly).
std::vector<ChunkBounds> chunks_of(const ScanContext& context);

// fn(chunk index, worker) for every chunk of chunks_of(context): on the runner's threads, or
// in order on this thread.
void run_chunks(const ScanContext& context, const std::function<void(std::size_t chunk, unsigned worker)>& fn);

// Threads run_chunks may use (1 without a runner).
unsigned worker_count(const ScanContext& context);

}  // namespace dumpguard
