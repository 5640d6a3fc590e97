// The one way a name or path reaches a person: file names come from a hostile inbox and paths
// from hostile dumps, so no byte may reach a terminal or a log line that can move the cursor,
// reorder the text (bidirectional overrides such as U+202E) or hide what follows.
#pragma once
#include <string>
#include <string_view>

namespace dumpguard {

// Valid UTF-8 (RFC 3629, shortest form) without C0 or C1 controls, DEL, bidirectional
// embeddings, overrides and isolates, zero-width characters, or line and paragraph separators.
bool clean_text(std::string_view text);

// `text` as it is when clean_text holds; else every byte outside printable ASCII, and the
// backslash, becomes \xNN, so that the escaped form cannot be mistaken for a clean one.
std::string display_text(std::string_view text);

}  // namespace dumpguard
