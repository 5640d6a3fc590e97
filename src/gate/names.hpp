// Names from the inbox are chosen by whoever writes there: the gate takes only names it can
// print, record and publish safely, and prints any other text it records without harm.
#pragma once
#include <string>
#include <string_view>

namespace dumpguard {

// At most 200 bytes (room for the suffixes the gate adds), and clean text (report/display_text.hpp):
// valid UTF-8 without controls or characters that reorder or hide what is shown.
bool acceptable_name(std::string_view name);

// An acceptable name that names an entry of its directory and nothing else: no '/', not "." or
// "..". What a decision may name as its target.
bool plain_file_name(std::string_view name);

// display_text: `text` as it is when clean; else every byte outside printable ASCII becomes
// \xNN. For audit records (JSON needs valid UTF-8) and messages.
std::string printable(std::string_view text);

}  // namespace dumpguard
