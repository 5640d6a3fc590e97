// Paths and names read from a dump (a module's path, a mapped file's, a thread's name) can hold
// a credential: /tmp/build-ghp_…/libx.so. The scan finds it in the dump's bytes and reports only
// where it is, never its characters; what prints such a path must not show it either.
#pragma once
#include <string>
#include <string_view>

namespace dumpguard {

// `text` with every secret the built-in text rules find in it replaced by "[masked RULE-ID]".
// Text without any comes back as it is. For JSON, which escapes what a terminal must not see.
std::string masked_text(std::string_view text);

// masked_text, then display_text (report/display_text.hpp): how a path from a dump is printed
// for people.
std::string display_path(std::string_view text);

}  // namespace dumpguard
