// dg_minidump_callback: keeps live secret allocations out of a MiniDumpWriteDump written by
// the process itself. Traps (docs/protect.md, "Windows"):
//  - RemoveMemoryCallback only trims the memory lists of a normal minidump; a full-memory dump
//    (MiniDumpWithFullMemory) ignores it, so IncludeVmRegionCallback drops the VM regions that
//    overlap a block as well (DbgHelp 6.5 and later);
//  - a region is dropped whole, never trimmed: one region can be replaced by only one range,
//    and secret pages have their own allocation, so their region holds nothing else;
//  - registers and copies outside the secret pages (stacks, heap) are not touched.
// Built only by the mingw-w64 cross compile in make test; not run there.
#include <windows.h>

#include <cstdint>

#include "dumpguard/protect.h"
#include "protect/secret_pages.hpp"

using dumpguard::protect_detail::Lookup;

extern "C" BOOL CALLBACK dg_minidump_callback(PVOID param, PMINIDUMP_CALLBACK_INPUT input,
                                              PMINIDUMP_CALLBACK_OUTPUT output) {
  auto* filter = static_cast<dg_minidump_filter*>(param);
  if (input == nullptr || output == nullptr || filter == nullptr) return FALSE;
  switch (input->CallbackType) {
    case RemoveMemoryCallback: {
      // Called until it returns FALSE: one block per call.
      std::uintptr_t start = 0;
      std::size_t len = 0;
      const Lookup r = dumpguard::protect_detail::live_block(filter->next_block, start, len);
      if (r == Lookup::busy) {
        filter->busy = 1;
        return FALSE;
      }
      if (r == Lookup::none || len > MAXDWORD) return FALSE;
      ++filter->next_block;
      output->MemoryBase = start;
      output->MemorySize = static_cast<ULONG>(len);
      return TRUE;
    }
    case IncludeVmRegionCallback: {
      const Lookup r = dumpguard::protect_detail::overlaps_live_block(
          static_cast<std::uintptr_t>(output->VmRegion.BaseAddress),
          static_cast<std::size_t>(output->VmRegion.RegionSize));
      if (r == Lookup::busy) filter->busy = 1;
      if (r != Lookup::none) output->VmRegion.RegionSize = 0;  // filtered out (fail closed when busy)
      output->Continue = TRUE;
      return TRUE;
    }
    case CancelCallback:
      // Keep receiving cancel callbacks while nothing is wrong; cancel once the registry
      // could not be read, rather than write a dump that may hold secrets.
      output->Cancel = filter->busy != 0 ? TRUE : FALSE;
      output->CheckCancel = TRUE;
      return TRUE;
    default:
      return TRUE;
  }
}
