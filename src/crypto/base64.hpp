// Base64 (RFC 4648 4) and base64url (RFC 4648 5), in the few shapes dumpguard reads and
// writes them: one digit table and one bit accumulator for every caller.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dumpguard {

// The value of one character in the alphabet (url: '-' and '_' for 62 and 63), or -1.
int base64_digit(char c, bool url);

// Appends the bytes `text` encodes to `out`. Characters in `skip` (whitespace, padding) are
// passed over; decoding stops at the first other character outside the alphabet, and the
// characters before it count. Returns how many characters were read.
std::size_t base64_append(std::string_view text, bool url, std::string_view skip, std::vector<std::uint8_t>& out);

// Unpadded: a prefix of the padded text too, so a search for it finds both.
std::string base64_encode(std::span<const std::uint8_t> bytes, bool url);

}  // namespace dumpguard
