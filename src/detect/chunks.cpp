#include "detect/chunks.hpp"

#include <algorithm>

#include "detect/detector.hpp"

namespace dumpguard {

ScanArea chunk_window(const ScanArea& area, const ChunkBounds& chunk, Reach reach) {
  const std::uint64_t size = area.bytes.size();
  const std::uint64_t begin = chunk.begin > reach.before ? chunk.begin - reach.before : 0;
  const std::uint64_t end = std::min<std::uint64_t>(size, chunk.end + std::min<std::uint64_t>(reach.after, size));
  return ScanArea{area.file_offset + begin, area.bytes.subspan(begin, end - begin), area.region};
}

bool owns(const ScanArea& area, const ChunkBounds& chunk, std::uint64_t file_offset) {
  return file_offset >= area.file_offset + chunk.begin && file_offset < area.file_offset + chunk.end;
}

std::vector<ChunkBounds> chunks_of(const ScanContext& context) {
  if (context.runner) {
    const auto c = context.runner->chunks();
    return {c.begin(), c.end()};
  }
  std::vector<ChunkBounds> out;
  for (std::size_t i = 0; i < context.areas.size(); ++i) out.push_back({i, 0, context.areas[i].bytes.size()});
  return out;
}

void run_chunks(const ScanContext& context, const std::function<void(std::size_t chunk, unsigned worker)>& fn) {
  if (context.runner) return context.runner->run(fn);
  for (std::size_t i = 0; i < context.areas.size(); ++i) fn(i, 0);
}

unsigned worker_count(const ScanContext& context) { return context.runner ? context.runner->threads() : 1; }

}  // namespace dumpguard
