// What a process that holds secrets (plaintext dumps, uploads, the audit key) does first: every
// file and directory it makes is its owner's alone (umask 077), it leaves no core of its own
// (least of all into an inbox it watches), and, no longer dumpable, no other process of its user
// may ptrace it or read its memory.
#pragma once
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

namespace dumpguard {

inline void make_process_private() {
  ::umask(077);
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

}  // namespace dumpguard
