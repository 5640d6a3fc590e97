#include "handler/core_pattern.hpp"

#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

// core(5): the kernel keeps at most 128 bytes of core_pattern, its terminating NUL included.
constexpr std::size_t kMaxPattern = 127;

bool kernel_has_pidfd_specifier() {
  utsname u{};
  if (uname(&u) != 0) return false;
  unsigned major = 0, minor = 0;
  if (std::sscanf(u.release, "%u.%u", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 16);
}

// A /proc/sys value as the kernel shows it, without the newline it adds.
Result<std::string> read_sysctl(const std::string& path) {
  std::string text(4096, '\0');
  DG_TRY(const std::size_t n, read_file_into(path, text));
  text.resize(n);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// One write(2) of the whole value: the kernel takes a sysctl's value from a single write.
Status write_sysctl(const std::string& path, const std::string& value) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return os_error(fmt::format("cannot open {}", path));
  const ssize_t n = write(fd, value.data(), value.size());
  const int saved = errno;
  close(fd);
  errno = saved;
  if (n != static_cast<ssize_t>(value.size())) return os_error(fmt::format("cannot write {}", path));
  return ok_status();
}

bool is_ours(const std::string& pattern) {
  return pattern.starts_with("|") && pattern.find(" core-handler --config ") != std::string::npos;
}

}  // namespace

Result<std::string> core_pattern_line(const std::string& binary, const std::string& config) {
  std::string line = fmt::format("|{} core-handler --config {} -- %P %u %g %s %t %c %h %e %d", binary, config);
  if (kernel_has_pidfd_specifier()) line += " %F";
  if (binary.find(' ') != std::string::npos || config.find(' ') != std::string::npos) {
    return Error{Errc::bad_value, 0, "the kernel splits core_pattern at spaces: the binary's and the config file's paths must have none"};
  }
  // "--" ends the options: a process may call itself "-x", and %e would then read as one.
  if (line.size() > kMaxPattern) {
    return Error{Errc::limit, 0,
                 fmt::format("the core_pattern line would be {} bytes, more than the kernel's {}: choose a shorter "
                             "--config path (the settings live in that file, not on the line)",
                             line.size(), kMaxPattern)};
  }
  return line;
}

Status install_core_pattern(const std::string& line, unsigned pipe_limit, const CorePatternPlaces& places) {
  const std::string pattern_path = places.proc_kernel + "/core_pattern";
  const std::string limit_path = places.proc_kernel + "/core_pipe_limit";
  DG_TRY(const std::string pattern, read_sysctl(pattern_path));
  DG_TRY(const std::string limit, read_sysctl(limit_path));
  // A second install keeps what the first one found, not dumpguard's own line.
  if (access(places.previous_file.c_str(), F_OK) != 0 || !is_ours(pattern)) {
    const nlohmann::ordered_json previous = {{"core_pattern", pattern}, {"core_pipe_limit", limit}};
    DG_CHECK(write_file_atomically(places.previous_file, previous.dump() + "\n"));
  }
  DG_CHECK(write_file_atomically(places.sysctl_file,
                                 fmt::format("# Written by dumpguard core-handler --install; removed by --uninstall.\n"
                                             "kernel.core_pattern = {}\nkernel.core_pipe_limit = {}\n",
                                             line, pipe_limit)));
  DG_CHECK(write_sysctl(limit_path, std::to_string(pipe_limit)));
  return write_sysctl(pattern_path, line);
}

Status uninstall_core_pattern(const CorePatternPlaces& places) {
  const std::string pattern_path = places.proc_kernel + "/core_pattern";
  std::string text(8192, '\0');
  auto got = read_file_into(places.previous_file, text);
  if (!got) {
    return Error{Errc::io, 0, fmt::format("{}: nothing to restore (was the handler installed with this --config?)",
                                          places.previous_file)};
  }
  text.resize(*got);
  const auto previous = nlohmann::json::parse(text, nullptr, false);
  if (previous.is_discarded() || !previous.is_object() || !previous.contains("core_pattern") ||
      !previous["core_pattern"].is_string() || !previous.contains("core_pipe_limit") ||
      !previous["core_pipe_limit"].is_string()) {
    return Error{Errc::bad_value, 0, fmt::format("{} is not what --install writes", places.previous_file)};
  }
  DG_TRY(const std::string now, read_sysctl(pattern_path));
  if (!is_ours(now)) {
    return Error{Errc::bad_value, 0,
                 fmt::format("core_pattern is no longer dumpguard's (\"{}\"): another handler was installed since; "
                             "left as it is",
                             now)};
  }
  DG_CHECK(write_sysctl(pattern_path, previous["core_pattern"].get<std::string>()));
  DG_CHECK(write_sysctl(places.proc_kernel + "/core_pipe_limit", previous["core_pipe_limit"].get<std::string>()));
  if (unlink(places.sysctl_file.c_str()) != 0 && errno != ENOENT) {
    return os_error(fmt::format("cannot remove {}", places.sysctl_file));
  }
  if (unlink(places.previous_file.c_str()) != 0 && errno != ENOENT) {
    return os_error(fmt::format("cannot remove {}", places.previous_file));
  }
  return ok_status();
}

}  // namespace dumpguard
