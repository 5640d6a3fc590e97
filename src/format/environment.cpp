#include "format/environment.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <string_view>
#include <vector>

#include "format/address_map.hpp"

namespace dumpguard {

namespace {

std::uint64_t load_word(const std::byte* p, unsigned word) {
  std::uint64_t v = 0;
  for (unsigned i = 0; i < word; ++i) v |= std::uint64_t{std::to_integer<std::uint8_t>(p[i])} << (8 * i);
  return v;
}

// Environment strings are "NAME=VALUE": a name of at least one character before '='.
bool looks_like_variable(std::string_view s) {
  const auto eq = s.find('=');
  return eq != std::string_view::npos && eq > 0;
}

// The variables and the end of a run of NUL-terminated strings starting at `at`, reading at
// most `limit` strings and never past `end`.
struct Run {
  std::size_t variables = 0;
  std::uint64_t end = 0;
};

Run count_strings(std::span<const std::byte> file, std::uint64_t at, std::uint64_t end, std::size_t limit) {
  Run run{0, at};
  const char* base = reinterpret_cast<const char*>(file.data());
  while (run.end < end && run.variables < limit) {
    const void* nul = std::memchr(base + run.end, 0, end - run.end);
    if (nul == nullptr) break;
    const std::uint64_t stop = static_cast<std::uint64_t>(static_cast<const char*>(nul) - base);
    const std::string_view s(base + run.end, stop - run.end);
    if (s.empty() || !looks_like_variable(s)) break;
    ++run.variables;
    run.end = stop + 1;
  }
  return run;
}

// The value of auxv entry `type` (elf.h: pairs of words, type then value, ended by AT_NULL).
std::optional<std::uint64_t> auxv_value(std::span<const std::byte> auxv, unsigned word, std::uint64_t type) {
  for (std::size_t at = 0; at + 2ull * word <= auxv.size(); at += 2ull * word) {
    const std::uint64_t t = load_word(auxv.data() + at, word);
    if (t == 0) break;
    if (t == type) return load_word(auxv.data() + at + word, word);
  }
  return std::nullopt;
}

// One NUL-terminated "NAME=VALUE" string at `at`, read within `end`: its end (the offset of its
// NUL), or nothing when it is no variable.
std::optional<std::uint64_t> variable_at(std::span<const std::byte> file, std::uint64_t at, std::uint64_t end) {
  if (at >= end) return std::nullopt;
  const char* base = reinterpret_cast<const char*>(file.data());
  const void* nul = std::memchr(base + at, 0, end - at);
  if (nul == nullptr) return std::nullopt;
  const auto stop = static_cast<std::uint64_t>(static_cast<const char*>(nul) - base);
  if (!looks_like_variable(std::string_view(base + at, stop - at))) return std::nullopt;
  return stop;
}

constexpr std::uint64_t kAtExecfn = 31;  // elf.h: AT_EXECFN, the address of the program's file name

}  // namespace

std::optional<EnvironmentBlock> linux_initial_environment(const DumpModel& model, std::span<const std::byte> file,
                                                          std::span<const std::byte> auxv, unsigned word) {
  // At least AT_PHDR..AT_ENTRY and more: a short or empty note matches by chance.
  const std::size_t needle = std::min<std::size_t>(auxv.size(), 8u * 2 * word);
  if (needle < 4u * 2 * word || (word != 4 && word != 8)) return std::nullopt;
  constexpr std::size_t kMaxVariables = 1u << 16;
  const AddressMap map(model);
  // The initial stack is a stack region: those are searched first, so a large heap is read
  // only when no stack holds the vector (memmem: glibc's two-way search, far faster than
  // std::search on a GiB of heap).
  std::vector<const Region*> order;
  for (RegionKind kind : {RegionKind::stack, RegionKind::heap, RegionKind::anon}) {
    for (const Region& r : model.regions) {
      if (r.kind == kind) order.push_back(&r);
    }
  }
  for (const Region* region : order) {
    const Region& r = *region;
    if (!r.vaddr || r.file_offset > file.size() || r.size > file.size() - r.file_offset) continue;
    const std::byte* begin = file.data() + r.file_offset;
    const void* found = ::memmem(begin, r.size, auxv.data(), needle);
    if (found == nullptr) continue;
    const std::byte* hit = static_cast<const std::byte*>(found);
    // envp[] ends with a NULL word right before auxv; walk back over the pointers to the NULL
    // that ends argv[].
    const std::uint64_t auxv_at = static_cast<std::uint64_t>(hit - begin);
    if (auxv_at < 2ull * word || load_word(begin + auxv_at - word, word) != 0) continue;
    std::uint64_t first_string = UINT64_MAX, last_string = 0;
    std::size_t pointers = 0;
    for (std::uint64_t at = auxv_at - 2ull * word;; at -= word) {
      const std::uint64_t p = load_word(begin + at, word);
      if (p == 0) break;
      if (++pointers > kMaxVariables) return std::nullopt;
      first_string = std::min(first_string, p);
      last_string = std::max(last_string, p);
      if (at < word) return std::nullopt;
    }
    if (pointers == 0) return std::nullopt;
    // The strings are contiguous on the stack: map the first and the last.
    const auto start = map.file_offset(first_string, 1);
    const auto last = map.file_offset(last_string, 1);
    if (!start || !last || *last < *start || *last - *start != last_string - first_string) return std::nullopt;
    const std::uint64_t reach = std::min<std::uint64_t>(file.size(), *last + 65536);
    // Each string is read where its envp pointer says it starts, not one after another up to
    // an empty one: in a redacted copy a zero-filled value reads as that empty string, and the
    // block (and `info`) would end there.
    for (std::uint64_t at = auxv_at - 2ull * word;; at -= word) {
      const std::uint64_t p = load_word(begin + at, word);
      if (p == 0) break;
      if (p < first_string || !variable_at(file, *start + (p - first_string), reach)) return std::nullopt;
    }
    // exec copies the program's file name right above the environment strings (fs/exec.c,
    // do_execveat_common), so AT_EXECFN is where the block ends whatever its last value holds
    // now. Without it, the block ends with the last string's NUL.
    std::uint64_t block_end = *variable_at(file, *last, reach) + 1;
    if (const auto execfn = auxv_value(auxv, word, kAtExecfn); execfn && *execfn > last_string) {
      const std::uint64_t name_at = *last + (*execfn - last_string);
      if (*execfn - last_string < reach - *last && name_at >= block_end && file[name_at - 1] == std::byte{0}) {
        block_end = name_at;
      }
    }
    EnvironmentBlock block;
    block.file_offset = *start;
    block.size = block_end - *start;
    block.vaddr = first_string;
    block.encoding = "ascii";
    block.source = "initial stack, located through the NT_AUXV note";
    block.variables = pointers;
    return block;
  }
  return std::nullopt;
}

std::optional<EnvironmentBlock> windows_environment(const DumpModel& model, std::span<const std::byte> file,
                                                    std::uint64_t teb) {
  const bool x64 = model.arch == "x86_64" || model.arch == "aarch64";
  const bool x86 = model.arch == "x86" || model.arch == "arm";
  if (teb == 0 || (!x64 && !x86)) return std::nullopt;
  const unsigned word = x64 ? 8 : 4;
  const AddressMap map(model);
  const auto pointer_at = [&](std::uint64_t vaddr) -> std::optional<std::uint64_t> {
    const auto at = map.file_offset(vaddr, word);
    if (!at) return std::nullopt;
    return load_word(file.data() + *at, word);
  };
  const auto peb = pointer_at(teb + (x64 ? 0x60 : 0x30));
  if (!peb || *peb == 0) return std::nullopt;
  const auto parameters = pointer_at(*peb + (x64 ? 0x20 : 0x10));
  if (!parameters || *parameters == 0) return std::nullopt;
  const auto environment = pointer_at(*parameters + (x64 ? 0x80 : 0x48));
  if (!environment || *environment == 0) return std::nullopt;
  const auto start = map.file_offset(*environment, 2);
  if (!start) return std::nullopt;
  // Walk UTF-16LE strings up to the empty one that ends the block, within the memory region
  // that holds its start (the bytes after it in the file are another range) and 1 MiB.
  constexpr std::uint64_t kMaxBlock = 1u << 20;
  std::uint64_t region_end = 0;
  for (const Region& r : model.regions) {
    if (r.vaddr && *start >= r.file_offset && *start - r.file_offset < r.size) region_end = r.file_offset + r.size;
  }
  const std::uint64_t limit = std::min<std::uint64_t>({file.size(), region_end, *start + kMaxBlock});
  std::uint64_t at = *start;
  std::size_t variables = 0;
  bool terminated = false;
  const auto unit = [&](std::uint64_t o) {
    return static_cast<unsigned>(std::to_integer<std::uint8_t>(file[o])) |
           (static_cast<unsigned>(std::to_integer<std::uint8_t>(file[o + 1])) << 8);
  };
  while (at + 2 <= limit) {
    std::uint64_t end = at;
    bool has_equals = false;
    while (end + 2 <= limit && unit(end) != 0) {
      has_equals = has_equals || (unit(end) == '=' && end > at);
      end += 2;
    }
    if (end + 2 > limit) return std::nullopt;  // no terminator in reach
    if (end == at) {                           // the empty string: the block's end
      terminated = true;
      break;
    }
    if (!has_equals) return std::nullopt;      // not an environment after all
    ++variables;
    at = end + 2;
  }
  if (variables == 0 || !terminated) return std::nullopt;
  EnvironmentBlock block;
  block.file_offset = *start;
  block.size = at + 2 - *start;
  block.vaddr = *environment;
  block.encoding = "utf16le";
  block.source = "process parameters, located through the TEB and the PEB";
  block.variables = variables;
  return block;
}

std::optional<EnvironmentBlock> environment_stream(std::span<const std::byte> file, std::uint64_t file_offset,
                                                   std::uint64_t size, std::string source) {
  if (file_offset > file.size() || size > file.size() - file_offset || size == 0) return std::nullopt;
  const Run run = count_strings(file, file_offset, file_offset + size, 1u << 16);
  if (run.variables == 0) return std::nullopt;
  EnvironmentBlock block;
  block.file_offset = file_offset;
  block.size = size;
  block.encoding = "ascii";
  block.source = std::move(source);
  block.variables = run.variables;
  return block;
}

}  // namespace dumpguard
