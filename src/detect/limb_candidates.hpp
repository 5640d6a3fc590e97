// Where big numbers live in a process's heap, as candidate windows for the hunts
// (candidates come from structure first: a test at every window costs too much). Shared by
// the RSA factor hunt and the EC scalar hunt, so both see the same allocator and BIGNUM priors.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <functional>
#include <span>

#include "detect/byte_statistics.hpp"
#include "detect/little_endian.hpp"
#include "format/address_map.hpp"

namespace dumpguard {

// Code and read-only data of mapped files hold no live keys (a prefilter); the
// hunts skip them.
inline bool may_hold_live_keys(const Region& r) {
  const bool file_backed = r.kind == RegionKind::module || r.kind == RegionKind::file_mapping;
  return !(file_backed && r.perms && !r.perms->write);
}

struct LimbSearch {
  std::span<const std::uint8_t> data;  // the area's bytes (or a chunk's window of them)
  std::uint64_t base_vaddr = 0;        // virtual address of data[0] (or its file offset)
  unsigned word = 8;                   // pointer and size_t width of the process
  std::size_t length = 0;              // bytes of the number sought
  // The walk positions to visit, offsets into data: a chunk visits the ones it owns and reads
  // around them in its window, so chunks together visit each position once, in order.
  std::size_t from = 0;
  std::size_t to = SIZE_MAX;
};

struct ChunkBounds;
struct ScanArea;
struct ScanContext;

// The LimbSearch of a chunk's window (detect/chunks.hpp) that visits the walk positions the
// chunk owns. Alignment is a property of virtual addresses; unaccounted bytes fall back to
// file offsets.
LimbSearch chunk_limb_search(const ScanContext& context, const ScanArea& area, const ScanArea& window,
                             const ChunkBounds& chunk, unsigned word, std::size_t length);

// glibc malloc chunks (malloc/malloc.c): user pointers are 2·SIZE_SZ aligned and preceded
// by the chunk size, which is the request + SIZE_SZ rounded up to 2·SIZE_SZ, with three flag
// bits. Calls found(offset) for every chunk whose size could hold `length` bytes plus at most
// `slack` more (dmax can exceed top). The walk position is the user pointer's offset.
void for_each_chunk(const LimbSearch& s, std::size_t slack, const std::function<void(std::size_t offset)>& found);
// The same for several lengths in one walk (s.length unused): found(target index, offset), in
// walk order, and for one offset in the order of `targets`.
struct ChunkTarget {
  std::size_t length = 0;
  std::size_t slack = 0;
};
void for_each_chunk_of(const LimbSearch& s, std::span<const ChunkTarget> targets,
                       const std::function<void(std::size_t target, std::size_t offset)>& found);

// OpenSSL BIGNUMs (crypto/bn/bn_local.h: { BN_ULONG *d; int top; int dmax; int neg; int
// flags; }) whose top is the limb count of `length` bytes: calls found(file_offset) with the
// file offset of the limbs `d` points to, wherever the allocator put them. The walk position
// is the record's offset.
void for_each_bignum(const LimbSearch& s, const AddressMap& map,
                     const std::function<void(std::uint64_t limbs_file_offset)>& found);
// The same for several lengths in one walk (s.length unused): found(index into lengths, limbs'
// file offset), in walk order.
void for_each_bignum_of(const LimbSearch& s, std::span<const std::size_t> lengths, const AddressMap& map,
                        const std::function<void(std::size_t which, std::uint64_t limbs_file_offset)>& found);

// Islands: 8-byte-aligned windows of `length` bytes that begin right after, or end right
// before, a structured word (byte_statistics.hpp), in a run of unstructured words that ends
// within kIslandReach bytes on the other side: where a secret sits in its own allocation,
// after a chunk header or between fields, and not inside a long run of random bytes (a
// buffer of ciphertext or compressed data). No structure has to point at it. Calls
// found(offset) for each; the caller applies looks_random. The walk position is the structured
// word's offset; windows are reported in the order of the words that bound them.
inline constexpr std::size_t kIslandReach = 256;
// How far around a walk position the island walk reads, for a chunk's Reach.
inline constexpr std::size_t island_reach(std::size_t length) { return length + kIslandReach + 16; }
// Island candidates cost a scalar multiplication or a derivation each (tens of µs). Past this
// many a hunt stops and reports a limit, rather than run for hours on a hostile dump.
inline constexpr std::size_t kIslandBudget = 20000;
void for_each_island(const LimbSearch& s, const std::function<void(std::size_t offset)>& found);
// The same for several lengths in one walk (s.length unused): found(index into lengths, offset),
// for each structured word its windows after it, then before it, each in the order of lengths.
// A length that is not a multiple of 8 has windows after structured words only.
void for_each_island_of(const LimbSearch& s, std::span<const std::size_t> lengths,
                        const std::function<void(std::size_t which, std::size_t offset)>& found);

}  // namespace dumpguard
