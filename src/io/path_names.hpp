// A path's last component and its directory, by string alone: messages and audit records name
// files by them, and no filesystem call is made, so none can throw or touch the disk.
#pragma once
#include <string>

namespace dumpguard {

// "dir/core.1" -> "core.1"; a path without a slash is its own base name.
inline std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "dir/core.1" -> "dir"; "/core" -> "/"; "core" -> ".".
inline std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace dumpguard
