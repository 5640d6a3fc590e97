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
#include "report/display_text.hpp"
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

// The directory entry a path names, even before the file exists: (device, inode) of the file
// when it exists, else of its directory plus the last name. Two paths with the same entry are
// one file, whatever their spelling (./a, dir/../a, a hard link).
struct EntryIdentity {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  std::string name;  // only when the file does not exist yet
  bool operator==(const EntryIdentity&) const = default;
};
std::optional<EntryIdentity> entry_of(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) return EntryIdentity{true, st.st_dev, st.st_ino, {}};
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (stat(dir.c_str(), &st) != 0) return std::nullopt;  // the write names the problem
  return EntryIdentity{false, st.st_dev, st.st_ino, name};
}

// --report naming the dump or the copy would replace one with the JSON: refused before anything
// is read, whichever way the path is spelt.
bool report_refused(const std::string& report, const std::string& input, const std::string& output) {
  if (report.empty()) return false;
  const std::optional<EntryIdentity> r = entry_of(report);
  if (!r) return false;
  for (const auto& [other, what] : {std::pair{input, "the input"}, std::pair{output, "the output"}}) {
    if (other.empty() || other == "-") continue;
    if (entry_of(other) == r) {
      print_stderr("dumpguard: {}: --report names {}; the report must be a file of its own\n",
                 display_text(report), what);
      return true;
    }
  }
  return false;
}

// --in-place replaces the path's directory entry. Through a symlink that would replace the
// link, and with more hard links the other names would keep the unredacted bytes: refused.
bool in_place_refused(const std::string& path) {
  if (path == "-") {
    print_stderr("dumpguard: --in-place needs a file; standard input cannot be redacted in place (use -o)\n");
    return true;
  }
  const std::optional<FileIdentity> id = identity_of_path(path);
  if (!id) return false;  // open_dump names the problem
  if (!id->regular) {
    print_stderr("dumpguard: {}: not a regular file (a symlink?); --in-place replaces only regular files: name the "
               "target, or use -o\n",
               path);
    return true;
  }
  if (id->links > 1) {
    print_stderr("dumpguard: {}: the file has {} hard links; --in-place would leave the unredacted bytes under the "
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
    print_stderr("dumpguard: redact takes exactly one dump, {} given\n", options.scan.input.dumps.size());
    return kExitError;
  }
  const std::string& path = options.scan.input.dumps.front();
  if (options.in_place == !options.output.empty()) {
    print_stderr("dumpguard: redact needs exactly one of -o OUT and --in-place\n");
    return kExitError;
  }
  if (options.in_place && in_place_refused(path)) return kExitError;
  if (!options.in_place && path != "-" && same_file(path, options.output)) {
    print_stderr("dumpguard: {}: the output is the input; redact modifies its input only with --in-place\n",
               options.output);
    return kExitError;
  }
  if (report_refused(options.report, path, options.in_place ? path : options.output)) return kExitError;
  // Interrupted (Ctrl-C, a service stop, a closed terminal), redact leaves no temporary file.
  remove_staged_files_on_signals();
  std::optional<ScanOptions> scan_options = build_scan_options(options.scan);
  if (!scan_options) return kExitError;
  // One bar on stderr (only on a terminal) for the scan, the write and the verification.
  ProgressBar bar(progress_wanted(options.scan.no_progress), base_name(path));
  const Fill fill = options.fill == "0defaced" ? defaced_fill() : zero_fill();

  const OpenOptions open = to_open_options(options.scan.input);
  Result<Dump> dump = open_dump(path, open);
  if (!dump) {
    print_error(path, dump.error());
    return kExitError;
  }
  print_warnings(*dump);
  if (!dump->model.complete && !options.allow_partial) {
    print_stderr("dumpguard: {}: the dump was only partly parsed (warnings above); nothing was written. "
               "--allow-partial redacts it anyway, its unparsed bytes searched as raw bytes only\n",
               path);
    return kExitError;
  }
  // The findings say what was secret, the --drop policies what else goes (the gate does the same).
  Result<ScanReport> report = scan_for_redaction(*dump, *scan_options, options.drops, &bar);
  if (!report) {
    print_stderr("dumpguard: {}\n", report.error().message);
    return kExitError;
  }
  const RedactDestination to{options.in_place ? path : options.output, options.in_place, std::nullopt};
  Result<VerifiedCopy> copy =
      write_verified_copy(*dump, *report, to, fill, *scan_options, open, layout_for_drops(options.drops), &bar);
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
    Result<StagedFile> staged = stage_report(options.report, redact_json(*dump, copy->outcome(), fill)
                                                                      .dump(2, ' ', true, nlohmann::ordered_json::error_handler_t::replace) +
                                                                  "\n");
    if (!staged) {
      print_stderr("dumpguard: {}: {}; nothing was written\n", options.report, staged.error().message);
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
      print_stderr("dumpguard: {}: {}; {}\n", options.report, committed.error().message,
                 undone ? fmt::format("{} is as it was before", to.path)
                        : fmt::format("and putting {} back failed too: {}", to.path, undone.error().message));
      return kExitError;
    }
    report_file->settle();
  }
  copy->settle();
  if (!copy->outcome().layout_note.empty()) {
    print_stderr("dumpguard: {}: note: {}\n", path, copy->outcome().layout_note);
  }
  std::fputs(redact_text(*dump, copy->outcome(), fill, text_style(options.scan.color)).c_str(), stdout);
  return kExitOk;
}

}  // namespace dumpguard::cli
