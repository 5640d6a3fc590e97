#include "relay/clean_part.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

#include "crypto/digest.hpp"
#include "format/detect_format.hpp"
#include "gate/finding_summary.hpp"
#include "gate/names.hpp"
#include "relay/upload.hpp"

namespace dumpguard::relay {
namespace {

std::string format_name(Format f) {
  switch (f) {
    case Format::elf_core: return "elf-core";
    case Format::minidump: return "minidump";
    case Format::raw: return "raw";
  }
  return "raw";
}

// SHA-256 of a file's bytes, read in pieces.
Result<std::pair<std::uint64_t, std::string>> hash_file(int fd) {
  Sha256Stream h;
  std::vector<std::byte> buffer(1u << 20);
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(total));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{Errc::io, total, "cannot read an uploaded part"};
    if (n == 0) break;
    h.update(std::span<const std::byte>(buffer.data(), static_cast<std::size_t>(n)));
    total += static_cast<std::uint64_t>(n);
  }
  return std::make_pair(total, h.finish());
}

std::atomic<std::uint64_t> g_copies{0};

}  // namespace

bool looks_like_dump(int fd) {
  std::byte head[64];
  const ssize_t n = ::pread(fd, head, sizeof head, 0);
  if (n <= 0) return false;
  return static_cast<bool>(detect_format(std::span<const std::byte>(head, static_cast<std::size_t>(n))));
}

Result<CleanedPart> clean_part(int fd, const std::string& label, bool raw, const CleanContext& context) {
  CleanedPart out;
  DG_TRY(const auto stored, hash_file(fd));
  out.input_size = stored.first;
  out.input_sha256 = stored.second;
  const auto unclean = [&](std::string reason, std::string message) {
    out.clean = false;
    out.reason = std::move(reason);
    out.message = printable(message);
    return out;
  };
  if (auto too_large = refuse_by_size(context.policy, out.input_size)) return unclean("too-large", *too_large);

  OpenOptions open = context.open;
  if (raw) open.forced_format = Format::raw;
  if (context.policy.max_size != 0 && (open.max_decompressed == 0 || open.max_decompressed > context.policy.max_size)) {
    open.max_decompressed = context.policy.max_size;
  }
  const int copy = dup(fd);
  if (copy < 0) return Error{Errc::io, 0, "cannot duplicate a descriptor"};
  Result<Dump> dump = open_dump_fd(copy, label, open);
  if (!dump) {
    const Error& e = dump.error();
    return unclean(e.code == Errc::limit ? "too-large" : "parse-error", describe(e));
  }
  out.format = format_name(dump->model.format);
  if (!raw) {
    if (auto bad = refuse_by_format(context.policy, *dump)) return unclean("format", *bad);
  }
  if (!dump->model.complete) {
    const std::string first = dump->model.warnings.empty() ? "" : dump->model.warnings.front().message;
    return unclean("partial-parse", fmt::format("the dump was only partly parsed ({} problems; the first: {})",
                                                dump->model.warnings.size(), first));
  }
  Result<ScanReport> report = scan_for_redaction(*dump, context.scan, context.policy.drop);
  if (!report) return unclean("internal-error", report.error().message);
  out.findings = summarise_findings(*report);
  if (!report->limits.empty()) {
    return unclean("scan-limits", fmt::format("a hunt stopped short, so the dump cannot be proven clean ({}: {})",
                                              report->limits.front().detector, report->limits.front().what));
  }
  const PolicyVerdict verdict = apply_policy(context.policy, *report);
  if (verdict.quarantine) return unclean("policy", verdict.message);

  const std::string path = fmt::format("{}/copy-{}-{}", context.work, getpid(), g_copies.fetch_add(1));
  Result<RedactOutcome> outcome = redact_dump(*dump, *report, RedactDestination{path, false, std::nullopt}, context.fill,
                                              context.scan, open, layout_for_drops(context.policy.drop));
  if (!outcome) {
    const Error& e = outcome.error();
    if (e.code == Errc::io) return e;  // the relay's own disk, not the part
    return unclean("verification-failed", describe(e));
  }
  out.clean = true;
  out.copy_path = path;
  out.copy_size = outcome->output_size;
  out.copy_sha256 = outcome->output_sha256;
  return out;
}

Result<CleanedFields> clean_fields(std::vector<std::string*> values, const CleanContext& context) {
  CleanedFields out;
  if (values.empty()) {
    out.clean = true;
    return out;
  }
  // One image: each value, then a newline, so that no rule matches across two fields.
  const auto image_of = [&]() {
    std::string image;
    for (const std::string* v : values) {
      image += *v;
      image += '\n';
    }
    return image;
  };
  const auto scan_image = [&](const std::string& image) -> Result<ScanReport> {
    DG_TRY(UniqueFd fd, make_memory_file("dumpguard-relay-fields"));
    DG_CHECK(write_all(fd.get(), std::as_bytes(std::span<const char>(image.data(), image.size()))));
    OpenOptions open = context.open;
    open.forced_format = Format::raw;
    DG_TRY(Dump dump, open_dump_fd(fd.release(), "form fields", open));
    return Result<ScanReport>(scan_dump(dump, context.scan));
  };
  DG_TRY(const ScanReport report, scan_image(image_of()));
  out.findings = summarise_findings(report);
  std::vector<bool> changed(values.size(), false);
  for (const Finding& f : report.findings) {
    std::uint64_t start = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
      std::string& v = *values[i];
      const std::uint64_t end = start + v.size();
      const std::uint64_t from = std::max(start, f.file_offset);
      const std::uint64_t to = std::min(end, f.file_offset + f.length);
      for (std::uint64_t o = from; o < to; ++o) v[static_cast<std::size_t>(o - start)] = '*';
      if (from < to) changed[i] = true;
      start = end + 1;
    }
  }
  for (const bool c : changed) out.redacted += c ? 1 : 0;
  if (!report.limits.empty()) {
    out.message = "a hunt stopped short in the form fields, so they cannot be proven clean";
    return out;
  }
  if (out.redacted > 0) {
    DG_TRY(const ScanReport again, scan_image(image_of()));
    if (!again.findings.empty() || !again.limits.empty()) {
      out.message = fmt::format("the form fields still held {} findings after redaction", again.findings.size());
      return out;
    }
  }
  out.clean = true;
  return out;
}

}  // namespace dumpguard::relay
