// ELF core reader (Linux kernel, gdb gcore, systemd-coredump): PT_LOAD segments become
// memory regions, PT_NOTE notes become metadata regions, NT_PRSTATUS gives threads.
// Bounds (docs/formats.md, "Bad input"): at most kMaxRegions regions (notes and PT_LOADs), then a
// warning and the rest left unaccounted; PT_NOTE segments over the same bytes are read once.
#pragma once
#include <span>
#include "dumpguard/dump.hpp"
#include "dumpguard/result.hpp"
namespace dumpguard {
Result<DumpModel> read_elf_core(std::span<const std::byte> bytes);
}
