// The file operations the gate's crash safety rests on, in one place: a rename that never
// replaces, fsync of a file or directory by path, and removal of a work directory's leftovers.
// Every name the gate publishes appears by one atomic rename of an fsync'd file, and the
// directory is fsync'd after, so kill -9 or a power cut leaves either the old state or the new.
#pragma once
#include <string>
#include <vector>

#include "dumpguard/result.hpp"
#include "io/path_names.hpp"

namespace dumpguard {

enum class RenameResult { done, exists, missing, cross_device };

// renameat2(RENAME_NOREPLACE): `to` is never replaced. Where the file system lacks the flag, a
// file is published by link(2) + unlink(2) (link fails if the name exists, atomically too) and
// a directory by a check and a rename (the only non-atomic case; docs/commands/gate.md says so).
Result<RenameResult> rename_no_replace(int from_dir, const std::string& from, int to_dir, const std::string& to);

// fsync of a file or a directory, by path (AT_FDCWD) or relative to `dir`.
Status fsync_at(int dir, const std::string& path);

// The names in a directory, sorted, "." and ".." left out; none when it cannot be read.
std::vector<std::string> names_in(const std::string& dir);

// Removes `path` and, if it is a directory, everything below it, never following a symlink.
// A missing path is fine.
Status remove_tree(const std::string& path);

// Creates the directory with mode 0700, or sets an existing one to 0700 (the gate's own
// directories are private); an error if `path` is anything but a directory.
Status make_private_dir(const std::string& path);

}  // namespace dumpguard
