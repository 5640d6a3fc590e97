// One uploaded part made safe to pass on, with the same library calls the gate makes for a dump
// in its inbox (gate/pipeline.cpp): open_dump_fd, the completeness check, scan_for_redaction,
// the gate's policy, and write_verified_copy, whose rescan must find the copy clean. A part that
// cannot be proven clean is not cleaned "as far as possible": it is reported unclean, with the
// gate's quarantine reason, and the caller quarantines the upload. Form fields are scanned with
// the same options as one raw image, and each finding's bytes overwritten.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dumpguard/open_dump.hpp"
#include "dumpguard/redact.hpp"
#include "dumpguard/scan.hpp"
#include "gate/release_policy.hpp"
#include "io/unique_fd.hpp"

namespace dumpguard::relay {

struct CleanContext {
  ScanOptions scan;
  OpenOptions open;
  GatePolicy policy;
  Fill fill = zero_fill();
  std::string work;  // the relay's own directory for verified copies (mode 0700)
};

struct CleanedPart {
  bool clean = false;
  std::string reason;   // when not clean: the gate's reasons (parse-error, partial-parse, scan-limits, ...)
  std::string message;
  std::string format;   // "minidump", "elf-core", "raw"
  nlohmann::ordered_json findings;  // summarise_findings, when the scan ran
  std::uint64_t input_size = 0;
  std::string input_sha256;
  // When clean: the verified copy, a file in CleanContext::work (the caller removes it).
  std::string copy_path;
  std::uint64_t copy_size = 0;
  std::string copy_sha256;
};

// `fd`: the part's bytes (read only). `raw`: scan it as a raw image, whatever it holds (an
// attachment that is no dump); else its format is detected, and a part that is no dump dumpguard
// reads is unclean (parse-error). Errors are the relay's own (a write in the work directory).
Result<CleanedPart> clean_part(int fd, const std::string& label, bool raw, const CleanContext& context);

// True when the first bytes are a dump format dumpguard reads (the attachment is a dump).
bool looks_like_dump(int fd);

struct CleanedFields {
  bool clean = false;        // every finding overwritten and a rescan found nothing
  std::string message;       // when not clean
  nlohmann::ordered_json findings;
  std::size_t redacted = 0;  // fields changed
};
// Scans the values as one raw image and overwrites each finding's bytes with '*'.
Result<CleanedFields> clean_fields(std::vector<std::string*> values, const CleanContext& context);

}  // namespace dumpguard::relay
