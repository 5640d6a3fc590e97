// `dumpguard selftest`: proves the protection library on this machine with dumpguard itself.
// The process makes two random 32-byte keys: one in a SecretBuffer, one in ordinary heap
// memory. A child runs gcore on THIS process (never on a forked copy: MADV_WIPEONFORK empties
// a child's protected pages and would hide a broken MADV_DONTDUMP). Then both
// keys are fingerprinted as registered secrets and the core is scanned: it passes only when
// the ordinary key is present and the protected one absent. Only fingerprints are printed.
#include <fmt/format.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "cli/commands.hpp"
#include "crypto/secret_fingerprint.hpp"
#include "dumpguard/protect.hpp"
#include "dumpguard/scan.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define DG_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DG_SANITIZED 1
#endif
#if defined(DG_SANITIZED)
constexpr bool kSanitizerBuild = true;
#else
constexpr bool kSanitizerBuild = false;
#endif

namespace dumpguard::cli {
namespace {

bool fill_random(std::uint8_t* p, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t got = getrandom(p + done, n - done, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

// A temporary directory removed with everything in it when this goes out of scope.
struct TempDir {
  std::string path;
  ~TempDir() {
    if (path.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::string last_line(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) return {};
  std::string last;
  char line[512];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (!s.empty()) last = s;
  }
  std::fclose(f);
  return last;
}

// Runs `gcore [-a] -o PREFIX <our pid>` in a child, under RLIMIT_FSIZE. Returns "" or an error.
std::string dump_self(const SelftestOptions& options, const std::string& prefix, const std::string& log) {
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  const pid_t self = getpid();
  const pid_t child = fork();
  if (child < 0) return std::string("fork: ") + std::strerror(errno);
  if (child == 0) {
    close(go[1]);
    char byte = 0;
    if (read(go[0], &byte, 1) != 1) _exit(126);
    const rlim_t limit = static_cast<rlim_t>(options.core_limit);
    const struct rlimit fsize{limit, limit};
    setrlimit(RLIMIT_FSIZE, &fsize);
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const int null_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out >= 0) {
      dup2(out, STDOUT_FILENO);
      dup2(out, STDERR_FILENO);
    }
    if (null_in >= 0) dup2(null_in, STDIN_FILENO);
    const std::string pid = std::to_string(self);
    if (options.gcore_all) {
      execlp(options.gcore.c_str(), options.gcore.c_str(), "-a", "-o", prefix.c_str(), pid.c_str(),
             static_cast<char*>(nullptr));
    } else {
      execlp(options.gcore.c_str(), options.gcore.c_str(), "-o", prefix.c_str(), pid.c_str(),
             static_cast<char*>(nullptr));
    }
    _exit(127);
  }
  close(go[0]);
  // Yama (ptrace_scope 1) lets only an ancestor trace us unless we name the tracer. Without
  // Yama the call fails with EINVAL, and plain ptrace rules apply.
  prctl(PR_SET_PTRACER, static_cast<unsigned long>(child), 0, 0, 0);
  const char byte = 1;
  const bool told = write(go[1], &byte, 1) == 1;
  close(go[1]);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.timeout);
  while (true) {
    const pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) break;
    if (r < 0 && errno != EINTR) return std::string("waitpid: ") + std::strerror(errno);
    if (std::chrono::steady_clock::now() > deadline) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      return fmt::format("{} did not finish within {} s", options.gcore, options.timeout);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  prctl(PR_SET_PTRACER, 0UL, 0, 0, 0);
  if (!told) return "could not start the dumping child";
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return fmt::format("cannot run {} (is gdb installed?)", options.gcore);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string why = last_line(log);
    return fmt::format("{} failed ({}){}{}", options.gcore,
                       WIFEXITED(status) ? fmt::format("exit {}", WEXITSTATUS(status))
                                         : fmt::format("signal {}", WTERMSIG(status)),
                       why.empty() ? "" : ": ", why);
  }
  return {};
}

const SuppliedKeyStatus* status_of(const ScanReport& report, const std::string& name) {
  for (const SuppliedKeyStatus& s : report.registered) {
    if (s.source == name) return &s;
  }
  return nullptr;
}

}  // namespace

int run_selftest(const SelftestOptions& options) {
  if (kSanitizerBuild) {
    print_stderr("dumpguard: selftest refused: this binary is built with a sanitizer, and gcore of a sanitizer "
               "process writes its whole reserved shadow memory (tens of GB); run the Release build's selftest\n");
    return kExitError;
  }
  constexpr std::size_t kKeyBytes = 32;
  // The protected key goes straight from the kernel into secret pages: no copy anywhere else.
  SecretBuffer protected_key(kKeyBytes);
  // The ordinary key: heap memory, as most programs hold keys.
  auto ordinary_key = std::make_unique<std::uint8_t[]>(kKeyBytes);
  if (!fill_random(protected_key.data(), kKeyBytes) || !fill_random(ordinary_key.get(), kKeyBytes)) {
    print_stderr("dumpguard: selftest: getrandom failed: {}\n", std::strerror(errno));
    return kExitError;
  }
  const ProtectStatus status = protect_status();

  TempDir dir;
  {
    std::string base = options.tmpdir;
    if (base.empty()) base = std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp";
    std::string templ = base + "/dumpguard-selftest-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) {
      print_stderr("dumpguard: selftest: cannot make a temporary directory in {}: {}\n", base, std::strerror(errno));
      return kExitError;
    }
    dir.path = templ;
  }
  const std::string prefix = dir.path + "/core";
  const std::string core = fmt::format("{}.{}", prefix, getpid());
  if (std::string error = dump_self(options, prefix, dir.path + "/gcore.log"); !error.empty()) {
    print_stderr("dumpguard: selftest: {}\n", error);
    return kExitError;
  }
  std::error_code ec;
  const auto core_size = std::filesystem::file_size(core, ec);
  if (ec) {
    print_stderr("dumpguard: selftest: {} wrote no core ({})\n", options.gcore, core);
    return kExitError;
  }
  if (core_size >= options.core_limit) {
    print_stderr("dumpguard: selftest: the core reached the {}-byte limit (--core-limit) and is cut short\n",
               options.core_limit);
    return kExitError;
  }

  // From here on copies of the keys no longer matter: the dump is written. Fingerprint both
  // under a one-time key, so the ids printed mean nothing outside this run.
  std::vector<std::uint8_t> fingerprint_key(32);
  if (!fill_random(fingerprint_key.data(), fingerprint_key.size())) {
    print_stderr("dumpguard: selftest: getrandom failed: {}\n", std::strerror(errno));
    return kExitError;
  }
  ScanOptions scan;
  scan.fingerprint_key = fingerprint_key;
  scan.registered_secrets.push_back(fingerprint_secret(fingerprint_key, "protected", protected_key.bytes()));
  scan.registered_secrets.push_back(
      fingerprint_secret(fingerprint_key, "ordinary", std::span<const std::uint8_t>(ordinary_key.get(), kKeyBytes)));

  auto dump = open_dump(core, OpenOptions{});
  if (!dump) {
    print_error(core, dump.error());
    return kExitError;
  }
  const ScanReport report = scan_dump(*dump, scan);
  const SuppliedKeyStatus* prot = status_of(report, "protected");
  const SuppliedKeyStatus* ord = status_of(report, "ordinary");
  if (prot == nullptr || ord == nullptr) {
    print_stderr("dumpguard: selftest: the scan did not answer for both keys\n");
    return kExitError;
  }

  const bool protected_absent = prot->status == Presence::absent;
  const bool ordinary_present = ord->status == Presence::present;
  fmt::print("dumpguard selftest: dumped this process (pid {}) with {}{} into a {}-byte core; {} bytes searched\n",
             getpid(), options.gcore, options.gcore_all ? " -a" : "", core_size, report.bytes_searched);
  fmt::print("  protected key (SecretBuffer, {} bytes, id {}): {}{}\n", kKeyBytes, prot->fingerprint, to_string(prot->status),
             prot->findings.empty() ? "" : fmt::format(", {} finding(s)", prot->findings.size()));
  fmt::print("  ordinary key  (heap,         {} bytes, id {}): {}{}\n", kKeyBytes, ord->fingerprint, to_string(ord->status),
             ord->findings.empty() ? "" : fmt::format(", {} finding(s)", ord->findings.size()));
  fmt::print("  secret pages: {} buffer(s), {} bytes, {} locked in RAM, {} wiped in forked children\n",
             status.live_buffers, status.live_bytes, status.unlocked_bytes == 0 ? "all" : "NOT all",
             status.no_wipe_on_fork_bytes == 0 ? "all" : "NOT all");
  if (protected_absent && ordinary_present) {
    fmt::print("selftest passed: the ordinary key is in the dump and the protected key is not\n");
    return kExitOk;
  }
  if (!ordinary_present) {
    fmt::print("selftest FAILED: the ordinary key is not in the dump, so this dump proves nothing\n");
  }
  if (!protected_absent) {
    fmt::print("selftest FAILED: the protected key is in the dump{}\n",
               options.gcore_all ? " (expected with gcore -a, which ignores MADV_DONTDUMP)" : "");
  }
  return kExitFindings;
}

}  // namespace dumpguard::cli
