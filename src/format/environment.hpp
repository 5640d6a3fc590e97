// Finding a process's environment block in a dump. The block is ordinary memory (or a stream
// of the format); this only says where it is, so that reports can name the variable a secret
// sits in and redaction can drop it (--drop env).
#pragma once
#include <cstdint>
#include <optional>
#include <span>

#include "dumpguard/dump.hpp"

namespace dumpguard {

// Linux: the kernel lays out the initial stack as argc, argv[], NULL, envp[], NULL, auxv[]
// (fs/binfmt_elf.c, create_elf_tables), and the core's NT_AUXV note holds a copy of auxv.
// Finding those bytes on a stack region gives auxv's address; the envp pointers end one word
// before it, and the strings they point at are the block. `auxv` is the note's descriptor.
// Returns nothing when any step fails (no match, pointers outside the dump, not ascending);
// variables a process set later with setenv(3) live on the heap and are not part of it.
std::optional<EnvironmentBlock> linux_initial_environment(const DumpModel& model, std::span<const std::byte> file,
                                                          std::span<const std::byte> auxv, unsigned word);

// Windows: a thread's TEB points at the PEB (TEB+0x60 on x64, +0x30 on x86), whose
// ProcessParameters (PEB+0x20 / +0x10) hold the Environment pointer (+0x80 / +0x48): UTF-16LE
// "NAME=VALUE" strings, each NUL-terminated, ending with an empty one. Needs those pages in the
// dump (full-memory dumps have them); returns nothing otherwise.
std::optional<EnvironmentBlock> windows_environment(const DumpModel& model, std::span<const std::byte> file,
                                                    std::uint64_t teb);

// A NUL-separated "NAME=VALUE" block stored whole in the file (Breakpad's linux-environ
// stream): its count of variables, or nothing when it does not look like an environment.
std::optional<EnvironmentBlock> environment_stream(std::span<const std::byte> file, std::uint64_t file_offset,
                                                   std::uint64_t size, std::string source);

}  // namespace dumpguard
