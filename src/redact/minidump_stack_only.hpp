// The stack-only minidump writer (`redact --drop heap` on a minidump): the copy a
// MiniDumpNormal dump of the same process would be. Every stream is kept except the memory
// lists, which become one MemoryListStream of the threads' live stacks (from each thread's
// Stack descriptor, else from its stack pointer to the top of its stack range); all other
// memory is left out, and the file shrinks accordingly.
//
// Only this writer knows the layout. Kept bytes keep their order; a field that points into the
// file (an RVA or a location) is rewritten when bytes before its target were left out, in every
// structure dumpguard knows (thread, thread-ex, module, exception, system-info, thread-names,
// unloaded-module and handle-data streams, Breakpad's linux-dso-debug, Crashpad's info and
// annotations). The stream directory stays where it is. A stream dumpguard does not know is
// kept as it is: pointers inside it stay right when what they point to lies before the first
// byte left out, which is how dbghelp, Breakpad and Crashpad lay files out (memory data after
// the strings and records that streams point to).
#pragma once

#include <span>

#include "dumpguard/dump.hpp"
#include "dumpguard/redact.hpp"
#include "dumpguard/result.hpp"

namespace dumpguard {

struct StackOnlyRewrite {
  OutputLayout layout;
  LayoutChange change;
};

// The layout of the stack-only copy of a completely parsed minidump (`model` read from
// `bytes`). Errc::unsupported when it cannot be written faithfully: structures that overlap so
// that one field would need two values, or a copy whose offsets would not fit 32 bits.
Result<StackOnlyRewrite> plan_stack_only_minidump(const DumpModel& model, std::span<const std::byte> bytes);

// What the copy must still be to a debugger, checked on the copy as the reader parses it:
// complete and without warnings, the same threads (ids and stack pointers) and modules (path,
// base, size) in the same order, and no memory but stacks.
Status check_stack_only(const DumpModel& input, const DumpModel& copy);

}  // namespace dumpguard
