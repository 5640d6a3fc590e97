// Where the gate keeps what it has claimed and decided must be its own: nobody else may rename,
// replace or plant anything there. An inbox writer who can rename the work directory (it sat in
// the inbox by default) could swap in one of their own and have the gate publish what it finds.
#pragma once
#include <string>

#include "dumpguard/result.hpp"
#include "io/unique_fd.hpp"

namespace dumpguard {

// Opens the directory at the absolute `path`, creating its last component (mode 0700) when it
// is missing, and only if nobody but root and the gate's user can change it: every directory on
// the way from / is a real directory (no symbolic link, each step opened with O_NOFOLLOW),
// owned by root or the gate's user, and writable by no one else unless sticky (as /tmp is:
// others cannot rename what is not theirs there); the directory itself is owned by the gate's
// user, and set to mode 0700. The descriptor is held by the caller.
Result<UniqueFd> open_private_dir(const std::string& path);

// True when `path` (which need not exist yet) is `dir` or lies below it, judged by device and
// inode on the way up from the deepest existing directory of `path`, so that no spelling
// (symbolic links, "..") hides it. Both absolute and normalised; when `dir` does not exist yet,
// by their spelling alone.
Result<bool> lies_within(const std::string& path, const std::string& dir);

}  // namespace dumpguard
