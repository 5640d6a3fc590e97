#include "crypto/fingerprint_key.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>

#include "io/unique_fd.hpp"

namespace dumpguard {

std::string default_fingerprint_key_path() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && *xdg != '\0') return std::string(xdg) + "/dumpguard/fingerprint.key";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "/root") + "/.config/dumpguard/fingerprint.key";
}

namespace {
Error key_error(const std::string& path, const std::string& what) {
  return Error{Errc::io, 0, fmt::format("fingerprint key {}: {}", path, what)};
}

Result<std::vector<std::uint8_t>> read_key(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return key_error(path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return key_error(path, "not a regular file");
  if (st.st_mode & 0077) {
    return key_error(path, fmt::format("mode {:04o} lets others read it; chmod 600 it", st.st_mode & 07777));
  }
  std::vector<std::uint8_t> key(33);
  const ssize_t n = ::read(fd.get(), key.data(), key.size());
  if (n != 32) return key_error(path, "expected exactly 32 bytes");
  key.resize(32);
  return key;
}
}  // namespace

Result<std::vector<std::uint8_t>> load_or_create_fingerprint_key(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return read_key(path);
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return key_error(path, ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  std::vector<std::uint8_t> key(32);
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) return key_error(path, "no randomness");
  // Written whole under a name of its own, then linked into place: link(2) fails if the key
  // exists, so processes that start together (gate workers) all end up with one key, and none
  // ever reads a key file another has created but not yet written.
  std::string staged = path + ".XXXXXX";
  UniqueFd fd(::mkostemp(staged.data(), O_CLOEXEC));
  if (fd.get() < 0) return key_error(path, std::strerror(errno));
  const bool written = ::fchmod(fd.get(), 0600) == 0 && ::write(fd.get(), key.data(), key.size()) == 32 &&
                       ::fsync(fd.get()) == 0;
  const int write_errno = errno;
  const int linked = written ? ::link(staged.c_str(), path.c_str()) : -1;
  const int link_errno = errno;
  ::unlink(staged.c_str());
  if (!written) return key_error(path, std::strerror(write_errno));
  if (linked != 0) {
    if (link_errno == EEXIST) return read_key(path);  // another process made it first
    return key_error(path, std::strerror(link_errno));
  }
  return key;
}

}  // namespace dumpguard
