#include "gate/stop_signal.hpp"

#include <signal.h>

#include <csignal>
#include <initializer_list>

namespace dumpguard {

namespace {
volatile std::sig_atomic_t stop_requested = 0;
extern "C" void on_stop_signal(int) { stop_requested = 1; }
}  // namespace

void watch_stop_signals() {
  stop_requested = 0;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  for (const int signal : {SIGTERM, SIGINT, SIGHUP}) sigaction(signal, &action, nullptr);
}

bool stop_signalled() { return stop_requested != 0; }

}  // namespace dumpguard
