// Names from the inbox are chosen by whoever writes there: the gate takes only names it can
// print, record and publish safely, and prints any other text it records without harm.
#pragma once
#include <string>
#include <string_view>

namespace dumpguard {

// At most 200 bytes (room for the suffixes the gate adds), valid UTF-8, no control characters.
bool acceptable_name(std::string_view name);

// `text` as it is when it is valid UTF-8 without control characters; else every byte outside
// printable ASCII becomes \xNN. For audit records (JSON needs valid UTF-8) and messages.
std::string printable(std::string_view text);

}  // namespace dumpguard
