// `dumpguard redact`: dump -> scan -> findings -> redaction plan -> writer -> verify -> report.
// Exit 0: the copy was written, its rescan found nothing, and the report (if asked for) is in
// place beside it; 2: an error, and neither a new copy nor a report was put in place.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/progress_bar.hpp"
#include "dumpguard/redact.hpp"
#include "io/staged_file.hpp"
#include "report/redact_json.hpp"

namespace dumpguard::cli {

namespace {
// The same file under two names would make the rename replace the input, which redact
// modifies only when --in-place says so.
bool same_file(const std::string& a, const std::string& b) {
  struct stat sa {}, sb {};
  if (stat(a.c_str(), &sa) != 0 || stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// --in-place replaces the path's directory entry. Through a symlink that would replace the
// link, and with more hard links the other names would keep the unredacted bytes: refused.
bool in_place_refused(const std::string& path) {
  if (path == "-") {
    fmt::print(stderr, "dumpguard: --in-place needs a file; standard input cannot be redacted in place (use -o)\n");
    return true;
  }
  const std::optional<FileIdentity> id = identity_of_path(path);
  if (!id) return false;  // open_dump names the problem
  if (!id->regular) {
    fmt::print(stderr,
               "dumpguard: {}: not a regular file (a symlink?); --in-place replaces only regular files: name the "
               "target, or use -o\n",
               path);
    return true;
  }
  if (id->links > 1) {
    fmt::print(stderr,
               "dumpguard: {}: the file has {} hard links; --in-place would leave the unredacted bytes under the "
               "other names: use -o\n",
               path, id->links);
    return true;
  }
  return false;
}

// The report, written to its temporary file beside FILE before the copy is put in place, so
// that a report that cannot be written stops everything before anything changed.
Result<StagedFile> stage_report(const std::string& path, const std::string& content) {
  DG_TRY(StagedFile staged, StagedFile::create(path));
  DG_CHECK(staged.write(std::as_bytes(std::span<const char>(content.data(), content.size()))));
  DG_CHECK(staged.finish_writing());
  return staged;
}
}  // namespace

int run_redact(const RedactCliOptions& given) {
  RedactCliOptions options = given;
  if (options.scan.input.dumps.size() != 1) {
    fmt::print(stderr, "dumpguard: redact takes exactly one dump, {} given\n", options.scan.input.dumps.size());
    return kExitError;
  }
  const std::string& path = options.scan.input.dumps.front();
  if (options.in_place == !options.output.empty()) {
    fmt::print(stderr, "dumpguard: redact needs exactly one of -o OUT and --in-place\n");
    return kExitError;
  }
  if (options.in_place && in_place_refused(path)) return kExitError;
  if (!options.in_place && path != "-" && same_file(path, options.output)) {
    fmt::print(stderr, "dumpguard: {}: the output is the input; redact modifies its input only with --in-place\n",
               options.output);
    return kExitError;
  }
  std::optional<ScanOptions> scan_options = build_scan_options(options.scan);
  if (!scan_options) return kExitError;
  // One bar on stderr (only on a terminal) for the scan, the write and the verification.
  ProgressBar bar(progress_wanted(options.scan.no_progress), base_name(path));
  scan_options->progress = bar.callback();
  const Fill fill = options.fill == "0defaced" ? defaced_fill() : zero_fill();

  const OpenOptions open = to_open_options(options.scan.input);
  Result<Dump> dump = open_dump(path, open);
  if (!dump) {
    print_error(path, dump.error());
    return kExitError;
  }
  print_warnings(*dump);
  if (!dump->model.complete && !options.allow_partial) {
    fmt::print(stderr,
               "dumpguard: {}: the dump was only partly parsed (warnings above); nothing was written. "
               "--allow-partial redacts it anyway, its unparsed bytes searched as raw bytes only\n",
               path);
    return kExitError;
  }
  // The findings say what was secret, the --drop policies what else goes (the gate does the same).
  Result<ScanReport> report = scan_for_redaction(*dump, *scan_options, options.drops);
  if (!report) {
    fmt::print(stderr, "dumpguard: {}\n", report.error().message);
    return kExitError;
  }
  const RedactDestination to{options.in_place ? path : options.output, options.in_place};
  Result<VerifiedCopy> copy =
      write_verified_copy(*dump, *report, to, fill, *scan_options, open, layout_for_drops(options.drops));
  bar.erase();
  if (!copy) {
    print_error(to.path, copy.error());
    return kExitError;
  }

  // Exit 0 must mean both files are in place, and an error that neither a new copy nor a
  // report claiming one is. The report goes to its temporary file first (the usual failure:
  // its directory is missing or not writable), then the copy is put in place, then the report;
  // should that last step fail, the copy is undone. A crash between the two leaves a verified
  // copy without a report, never a report without its copy.
  std::optional<StagedFile> report_file;
  if (!options.report.empty()) {
    Result<StagedFile> staged = stage_report(options.report, redact_json(*dump, copy->outcome(), fill).dump(2) + "\n");
    if (!staged) {
      fmt::print(stderr, "dumpguard: {}: {}; nothing was written\n", options.report, staged.error().message);
      return kExitError;
    }
    report_file.emplace(std::move(*staged));
  }
  if (Status committed = copy->commit(); !committed) {
    print_error(to.path, committed.error());
    return kExitError;
  }
  if (report_file) {
    if (Status committed = report_file->commit(); !committed) {
      const Status undone = copy->undo();
      fmt::print(stderr, "dumpguard: {}: {}; {}\n", options.report, committed.error().message,
                 undone ? fmt::format("{} is as it was before", to.path)
                        : fmt::format("and putting {} back failed too: {}", to.path, undone.error().message));
      return kExitError;
    }
    report_file->settle();
  }
  copy->settle();
  if (!copy->outcome().layout_note.empty()) {
    fmt::print(stderr, "dumpguard: {}: note: {}\n", path, copy->outcome().layout_note);
  }
  std::fputs(redact_text(*dump, copy->outcome(), fill, text_style(options.scan.color)).c_str(), stdout);
  return kExitOk;
}

}  // namespace dumpguard::cli
