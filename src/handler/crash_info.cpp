#include "handler/crash_info.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <fmt/format.h>

#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

bool parse_u64(const std::string& s, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

std::string read_boot_id() {
  std::string text(64, '\0');
  auto got = read_file_into("/proc/sys/kernel/random/boot_id", text);
  if (!got) return "0";
  text.resize(*got);
  std::string id;
  for (const char c : text) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) id += c;
  }
  return id.empty() ? "0" : id;
}

// The executable's path, through the pidfd where there is one: it pins the process, so a PID
// reused meanwhile is noticed (the process behind the descriptor is gone) instead of read.
std::string read_exe(std::uint64_t pid, int pidfd) {
  std::array<char, 4096> buf{};
  const ssize_t n = readlink(fmt::format("/proc/{}/exe", pid).c_str(), buf.data(), buf.size() - 1);
  if (n <= 0) return "";
#ifdef SYS_pidfd_send_signal
  if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) != 0) return "";
#endif
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

std::string escaped(const std::string& text) {
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '.' || c == '/' || c == '\\') {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace

Result<CrashInfo> parse_crash_info(const std::vector<std::string>& args) {
  if (args.size() != kSpecifierCount && args.size() != kSpecifierCount + 1) {
    return Error{Errc::bad_value, 0,
                 fmt::format("core-handler takes the kernel's %P %u %g %s %t %c %h %e %d [%F], {} arguments given",
                             args.size())};
  }
  CrashInfo c;
  std::uint64_t* const numbers[] = {&c.pid, &c.uid, &c.gid, &c.signal, &c.time, &c.core_limit};
  for (std::size_t i = 0; i < 6; ++i) {
    if (!parse_u64(args[i], *numbers[i])) {
      return Error{Errc::bad_value, 0,
                   fmt::format("argument {} (%{}) must be a decimal number", i + 1, kSpecifierOrder[i])};
    }
  }
  c.host = args[6];
  c.comm = args[7];
  if (!parse_u64(args[8], c.dump_mode)) return Error{Errc::bad_value, 0, "argument 9 (%d) must be a decimal number"};
  for (std::size_t i = 0; i < kSpecifierCount; ++i) c.given[kSpecifierOrder[i]] = args[i];
  // %F: a kernel before 6.16 expands it to nothing; a handler run by hand may get anything.
  if (args.size() > kSpecifierCount) {
    c.given['F'] = args[kSpecifierCount];
    std::uint64_t fd = 0;
    if (parse_u64(args[kSpecifierCount], fd) && fd > 2 && fd < 65536 && fcntl(static_cast<int>(fd), F_GETFD) >= 0) {
      c.pidfd = static_cast<int>(fd);
    }
  }
  c.exe = read_exe(c.pid, c.pidfd);
  c.boot_id = read_boot_id();
  return c;
}

std::string stored_core_name(const CrashInfo& crash) {
  return fmt::format("core.{}.{}.{}.{}.{}", escaped(crash.comm), crash.uid, crash.boot_id, crash.pid,
                     crash.time * 1'000'000);
}

std::vector<std::pair<std::string, std::string>> coredump_xattrs(const CrashInfo& crash) {
  std::vector<std::pair<std::string, std::string>> out = {
      {"user.coredump.pid", std::to_string(crash.pid)},
      {"user.coredump.uid", std::to_string(crash.uid)},
      {"user.coredump.gid", std::to_string(crash.gid)},
      {"user.coredump.signal", std::to_string(crash.signal)},
      {"user.coredump.timestamp", std::to_string(crash.time * 1'000'000)},
      {"user.coredump.rlimit", std::to_string(crash.core_limit)},
      {"user.coredump.hostname", crash.host},
      {"user.coredump.comm", crash.comm}};
  if (!crash.exe.empty()) out.emplace_back("user.coredump.exe", crash.exe);
  return out;
}

std::string substitute_specifiers(const std::string& word, const CrashInfo& crash) {
  std::string out;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (word[i] != '%' || i + 1 == word.size()) {
      out += word[i];
      continue;
    }
    const char letter = word[++i];
    if (letter == '%') {
      out += '%';
    } else if (const auto it = crash.given.find(letter); it != crash.given.end()) {
      out += it->second;
    }
    // A specifier the handler was not given expands to nothing, as the kernel's unknown ones do.
  }
  return out;
}

}  // namespace dumpguard
