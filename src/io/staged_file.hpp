// A file written under a temporary name beside its destination and put in place in one step,
// so readers see the destination's old content or the whole new content, never a part, and a
// failure before commit() leaves the destination untouched.
//
// commit() swaps the new file with the destination (renameat2 RENAME_EXCHANGE) when the
// destination is a regular file, keeping the former file under the temporary name: undo() can
// then put it back, until settle() removes it. That is what lets a caller put two files in
// place as one (the redacted dump and its report): if the second fails, the first is undone.
// Where the file system cannot exchange, or there was no destination yet, commit() renames,
// and undo() can only remove the new file.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "dumpguard/dump.hpp"
#include "dumpguard/result.hpp"

namespace dumpguard {

// The file a path names now (lstat, so a symlink is itself), or nothing when there is none.
std::optional<FileIdentity> identity_of_path(const std::string& path);
// The file an open descriptor refers to.
std::optional<FileIdentity> identity_of_fd(int fd);

// The directory part of a path: "." for a bare name.
std::string directory_of(const std::string& path);

// Renames `from` (a finished, fsync'd file in the same directory) to `to`, then fsyncs the
// directory so the rename itself survives a crash: the last step of an atomic write that
// needs no undo (the audit log's rotation).
Status rename_durably(const std::string& from, const std::string& to);

// Makes SIGINT, SIGTERM and SIGHUP remove every staged file's temporary name before the process
// ends by the signal as it would have. For commands that end on those signals (redact); the
// gate handles them itself, finishing the dump in hand.
void remove_staged_files_on_signals();

class StagedFile {
 public:
  // Creates DESTINATION.XXXXXX (mode 0600) in the destination's directory.
  static Result<StagedFile> create(const std::string& destination);

  StagedFile(StagedFile&& other) noexcept;
  StagedFile& operator=(StagedFile&&) = delete;
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  // Before commit: removes the temporary file. After commit: settles.
  ~StagedFile();

  int fd() const { return fd_; }
  const std::string& temp_path() const { return temp_; }
  const std::string& destination() const { return destination_; }

  Status write(std::span<const std::byte> bytes);
  // Leaves the next `n` bytes unwritten: a hole, which reads as zeros (a sparse copy of a
  // sparse input). finish_writing() sets the size when the file ends in one.
  Status skip(std::uint64_t n);
  // fsync and close: the content is durable before it can be put in place.
  Status finish_writing();
  // Puts the file in place and fsyncs the directory. `replaces`: the destination must still
  // be this file (an input redacted in place, which someone may have replaced or changed
  // meanwhile); it is checked on the file actually swapped out, and the swap is reverted on a
  // mismatch, so the check has no window.
  Status commit(const std::optional<FileIdentity>& replaces = std::nullopt);
  // After commit: the destination as it was before (its former file back, or no file).
  Status undo();
  // After commit: final; the former file, kept for undo(), is removed.
  void settle();

 private:
  StagedFile(std::string destination, std::string temp, int fd, int slot)
      : destination_(std::move(destination)), temp_(std::move(temp)), fd_(fd), slot_(slot) {}
  enum class State { writing, written, exchanged, renamed, done };

  std::string destination_;
  std::string temp_;
  int fd_ = -1;
  int slot_ = -1;  // its entry in the table of names removed on a signal
  bool skipped_ = false;
  State state_ = State::writing;
};

}  // namespace dumpguard
