// Writing a file so that readers see the old content or the whole new content, never a part:
// a temporary file beside the target (mode 0600), fsync, rename, then fsync of the directory.
#pragma once
#include <string>
#include <string_view>

#include "dumpguard/result.hpp"

namespace dumpguard {

Status write_file_atomically(const std::string& path, std::string_view content);

}  // namespace dumpguard
