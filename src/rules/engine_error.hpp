// What happens when a search engine fails mid-scan. Vectorscan's hs_scan and PCRE2's
// pcre2_match say so only in their return value, after reporting no match or only some: a
// caller that ignores it reads "nothing found", and a dump that holds keys would be called
// clean. So a failure throws ScanEngineError. It leaves the scan the way any exception does
// (the thread runner passes it to scan_dump's caller): the CLI prints it on one line and exits
// 2, and the gate quarantines the dump. A scan never ends with a report that looks complete.
#pragma once

#include <hs.h>

#include <climits>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dumpguard {

// A search engine failed, so some bytes were not searched.
class ScanEngineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Vectorscan's name for one of its error codes (hs_common.h).
inline const char* hs_error_name(hs_error_t rc) {
  switch (rc) {
    case HS_SUCCESS: return "HS_SUCCESS";
    case HS_INVALID: return "HS_INVALID";
    case HS_NOMEM: return "HS_NOMEM";
    case HS_SCAN_TERMINATED: return "HS_SCAN_TERMINATED";
    case HS_COMPILER_ERROR: return "HS_COMPILER_ERROR";
    case HS_DB_VERSION_ERROR: return "HS_DB_VERSION_ERROR";
    case HS_DB_PLATFORM_ERROR: return "HS_DB_PLATFORM_ERROR";
    case HS_DB_MODE_ERROR: return "HS_DB_MODE_ERROR";
    case HS_BAD_ALIGN: return "HS_BAD_ALIGN";
    case HS_BAD_ALLOC: return "HS_BAD_ALLOC";
    case HS_SCRATCH_IN_USE: return "HS_SCRATCH_IN_USE";
    case HS_ARCH_ERROR: return "HS_ARCH_ERROR";
    case HS_INSUFFICIENT_SPACE: return "HS_INSUFFICIENT_SPACE";
    case HS_UNKNOWN_ERROR: return "HS_UNKNOWN_ERROR";
    default: return "an unknown error code";
  }
}

// hs_scan of `text` (block mode), with its result checked: anything but HS_SUCCESS throws
// ScanEngineError naming `pass` and the error. HS_SCAN_TERMINATED is success only when the
// callback stopped the scan on purpose and said so in `*stopped_by_callback` (null: it never
// does), since Vectorscan returns the same code for that and for nothing else.
inline void checked_hs_scan(std::string_view pass, const hs_database_t* database, std::span<const std::uint8_t> text,
                            hs_scratch_t* scratch, match_event_handler on_match, void* context,
                            const bool* stopped_by_callback = nullptr) {
  if (text.size() > UINT_MAX) throw std::length_error(std::string(pass) + ": a window over 4 GiB");
  const hs_error_t rc = hs_scan(database, reinterpret_cast<const char*>(text.data()), static_cast<unsigned>(text.size()),
                                0, scratch, on_match, context);
  if (rc == HS_SUCCESS) return;
  if (rc == HS_SCAN_TERMINATED && stopped_by_callback != nullptr && *stopped_by_callback) return;
  throw ScanEngineError(std::string(pass) + ": Vectorscan's hs_scan failed (" + hs_error_name(rc) + ", " +
                        std::to_string(rc) + "), so the bytes were not all searched");
}

}  // namespace dumpguard
