// The redaction report (`redact --report FILE`, schema "dumpguard-redact/1") and the one-line
// text summary. Both name spans by offset, kind, detector and key fingerprint, never by bytes;
// input and output are tied to the report by SHA-256, since nothing in the copy marks it redacted.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "dumpguard/dump.hpp"
#include "dumpguard/redact.hpp"
#include "report/text_table.hpp"

namespace dumpguard {
inline constexpr const char* kRedactSchema = "dumpguard-redact/1";
// "clean", or why not quite: "no findings; the redacted copy was only partly parsed", "no
// findings; a hunt stopped at its budget". A copy with findings is never written.
std::string redact_verdict(const RedactOutcome& outcome);
nlohmann::ordered_json redact_json(const Dump& input, const RedactOutcome& outcome, const Fill& fill);
// For people: what was overwritten (a table, one row per key), the layout, the copy, the
// verification, and the verdict last.
std::string redact_text(const Dump& input, const RedactOutcome& outcome, const Fill& fill, const TextStyle& style = {});
}  // namespace dumpguard
