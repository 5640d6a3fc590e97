// Which reader a dump needs, decided from its first bytes only. Raw is never guessed:
// content that matches no format is an error that points the user at --format raw.
#pragma once
#include <span>
#include "dumpguard/dump.hpp"
#include "dumpguard/result.hpp"
namespace dumpguard {
Result<Format> detect_format(std::span<const std::byte> head);
}
