#include "gate/audit_log.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fmt/format.h>

#include "crypto/digest.hpp"
#include "io/whole_file.hpp"

namespace dumpguard {

namespace {

constexpr std::string_view kPrefix = "{\"record\":";
constexpr std::string_view kSigOpen = ",\"sig\":\"";
constexpr std::size_t kSigTail = kSigOpen.size() + 64 + 2;  // ,"sig":"<64 hex>"}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string line_hash(std::string_view line) { return hex(sha256(bytes_of(line))); }

std::string sign(std::span<const std::uint8_t> key, std::string_view record) {
  std::array<std::uint8_t, 32> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(record.data()),
       record.size(), mac.data(), &len);
  return hex(mac);
}

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

std::string host_name() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return "unknown";
  return name.data();
}

// The record object of a line in the log's form, or nothing.
std::optional<std::string_view> record_of(std::string_view line) {
  if (line.size() < kPrefix.size() + kSigTail + 2 || line.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const std::string_view tail = line.substr(line.size() - kSigTail);
  if (tail.substr(0, kSigOpen.size()) != kSigOpen || tail.substr(tail.size() - 2) != "\"}") return std::nullopt;
  return line.substr(kPrefix.size(), line.size() - kPrefix.size() - kSigTail);
}

}  // namespace

Result<AuditLog> AuditLog::open(const std::string& path, std::vector<std::uint8_t> key, std::string checkpoint_path) {
  AuditLog log;
  log.path_ = path;
  log.checkpoint_ = std::move(checkpoint_path);
  log.key_ = std::move(key);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Error{Errc::io, 0, fmt::format("cannot open audit log {}: {}", path, std::strerror(errno))};
  struct stat st {};
  fstat(fd, &st);
  // The last line is within the last 1 MiB: records are small (summaries, never dumps).
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  const std::uint64_t from = size > (1u << 20) ? size - (1u << 20) : 0;
  std::string tail(size - from, '\0');
  const ssize_t got = pread(fd, tail.data(), tail.size(), static_cast<off_t>(from));
  close(fd);
  if (got != static_cast<ssize_t>(tail.size())) return Error{Errc::io, 0, fmt::format("cannot read audit log {}", path)};
  if (tail.empty()) return log;
  if (tail.back() != '\n') {
    return Error{Errc::bad_value, size, fmt::format("{}: the last record is cut short; run `dumpguard audit verify`", path)};
  }
  tail.pop_back();
  const auto start = tail.rfind('\n');
  const std::string_view last = std::string_view(tail).substr(start == std::string::npos ? 0 : start + 1);
  const auto record = record_of(last);
  const auto parsed = record ? nlohmann::json::parse(*record, nullptr, false) : nlohmann::json();
  if (!record || parsed.is_discarded() || !parsed.contains("seq") || !parsed["seq"].is_number_unsigned()) {
    return Error{Errc::bad_value, size, fmt::format("{}: the last record is not in the log's form", path)};
  }
  log.head_ = line_hash(last);
  log.count_ = parsed["seq"].get<std::uint64_t>();
  return log;
}

Status AuditLog::append(const std::string& event, nlohmann::ordered_json data) {
  nlohmann::ordered_json record;
  record["seq"] = count_ + 1;
  record["time"] = utc_now();
  record["host"] = host_name();
  record["version"] = DUMPGUARD_VERSION;
  record["event"] = event;
  record["data"] = std::move(data);
  record["prev"] = head_;
  const std::string body = record.dump();
  const std::string line = std::string(kPrefix) + body + std::string(kSigOpen) + sign(key_, body) + "\"}";
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Error{Errc::io, 0, fmt::format("cannot open audit log {}: {}", path_, std::strerror(errno))};
  const std::string out = line + "\n";
  // One write: O_APPEND puts the whole line at the end even if another process appends too.
  const ssize_t written = write(fd, out.data(), out.size());
  const bool synced = written == static_cast<ssize_t>(out.size()) && fsync(fd) == 0;
  close(fd);
  if (!synced) return Error{Errc::io, 0, fmt::format("cannot append to audit log {}", path_)};
  head_ = line_hash(line);
  ++count_;
  if (!checkpoint_.empty()) {
    nlohmann::ordered_json cp = {{"head", head_}, {"records", count_}};
    DG_CHECK(write_file_atomically(checkpoint_, cp.dump() + "\n"));
  }
  return std::monostate{};
}

AuditVerdict verify_audit_log(const std::string& text, std::span<const std::uint8_t> key, std::string_view opening_prev,
                              std::optional<std::string> expect_head, std::optional<std::uint64_t> expect_records) {
  AuditVerdict v;
  v.head = std::string(opening_prev);
  const auto broken = [&](std::uint64_t n, std::string problem) {
    v.broken = n;
    v.problem = std::move(problem);
    return v;
  };
  if (!text.empty() && text.back() != '\n') {
    const auto lines = static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n'));
    return broken(lines + 1, "cut short: the file does not end with a complete record");
  }
  std::optional<std::uint64_t> first_seq;
  std::size_t at = 0;
  for (std::uint64_t n = 1; at < text.size(); ++n) {
    const std::size_t end = text.find('\n', at);
    const std::string_view line = std::string_view(text).substr(at, end - at);
    at = end + 1;
    const auto record = record_of(line);
    if (!record) return broken(n, "not in the log's form");
    const std::string sig(line.substr(line.size() - 66, 64));
    const std::string expected = sign(key, *record);
    if (CRYPTO_memcmp(sig.data(), expected.data(), 64) != 0) {
      return broken(n, "its signature does not verify: the record was changed, or the key is not the log's");
    }
    const auto parsed = nlohmann::json::parse(*record, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("seq") || !parsed["seq"].is_number_unsigned() ||
        !parsed.contains("prev") || !parsed["prev"].is_string()) {
      return broken(n, "a signed record without seq or prev");
    }
    const std::uint64_t seq = parsed["seq"].get<std::uint64_t>();
    if (!first_seq) {
      first_seq = seq;
      if (opening_prev == kGenesisHash && seq != 1) return broken(n, fmt::format("the log starts at record {}", seq));
    }
    if (seq != *first_seq + (n - 1)) {
      return broken(n, fmt::format("record number {} where {} belongs: records were removed or reordered", seq,
                                   *first_seq + (n - 1)));
    }
    if (parsed["prev"].get<std::string>() != v.head) {
      return broken(n, "it does not continue the record before it: records were removed, inserted or reordered");
    }
    v.head = line_hash(line);
    v.records = n;
  }
  if (expect_records && *expect_records != (first_seq ? *first_seq + v.records - 1 : 0)) {
    return broken(v.records + 1, fmt::format("the checkpoint counts {} records; the log ends at {}: records were cut "
                                             "from the end",
                                             *expect_records, first_seq ? *first_seq + v.records - 1 : 0));
  }
  if (expect_head && *expect_head != v.head) {
    return broken(v.records + 1, "the log's head is not the checkpoint's: records were cut from the end or replaced");
  }
  v.ok = true;
  return v;
}

Result<std::pair<std::string, std::uint64_t>> read_audit_checkpoint(const std::string& path) {
  std::string text(4096, '\0');
  DG_TRY(const std::size_t got, read_file_into(path, text));
  text.resize(got);
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("head") || !j["head"].is_string() || !j.contains("records") ||
      !j["records"].is_number_unsigned()) {
    return Error{Errc::bad_value, 0, fmt::format("{} is not an audit checkpoint", path)};
  }
  return std::make_pair(j["head"].get<std::string>(), j["records"].get<std::uint64_t>());
}

}  // namespace dumpguard
