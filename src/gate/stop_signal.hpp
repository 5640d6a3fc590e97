// How a long-running gate process (the inbox gate, a cluster worker) learns it should stop:
// SIGTERM, SIGINT or SIGHUP set a flag it checks between dumps. The handlers are installed
// without SA_RESTART, so that a wait for work returns at once; the dump in hand is finished
// first, and nothing is left half done in any case (the steps survive kill -9).
#pragma once

namespace dumpguard {

// Clears the flag and installs the handlers.
void watch_stop_signals();
// True once one of the signals arrived.
bool stop_signalled();

}  // namespace dumpguard
