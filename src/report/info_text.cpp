#include "report/info_text.hpp"

#include "report/display_text.hpp"
#include "report/masked_text.hpp"
#include "report/text_table.hpp"

#include <fmt/format.h>

#include <iterator>
#include <map>

namespace dumpguard {

namespace {
template <class... Args>
void line(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
  out += '\n';
}

// Names and paths come from the dump: masked and escaped (report/masked_text.hpp).
std::string owner_text(const Owner& o) {
  std::string s;
  if (!o.name.empty()) s = display_path(o.name);
  if (o.tid) s += fmt::format("{}tid {}", s.empty() ? "" : " ", *o.tid);
  if (!o.path.empty()) {
    if (!s.empty()) s += ' ';
    s += display_path(o.path);
  }
  return s;
}
}  // namespace

std::string info_text(const Dump& dump) {
  const DumpModel& m = dump.model;
  std::string out;

  line(out, "{}: {} ({}), {}", display_path(dump.source.path), to_string(m.format), m.arch, human_bytes(dump.source.stored_size));
  if (!dump.source.compression.empty()) {
    line(out, "  {}-compressed; {} decompressed; offsets below refer to the decompressed stream",
         dump.source.compression, human_bytes(dump.bytes().size()));
  }
  std::uint64_t memory = 0, metadata = 0, unaccounted = 0;
  std::map<std::string, std::pair<std::size_t, std::uint64_t>> by_kind;
  for (const Region& r : m.regions) {
    (r.vaddr ? memory : metadata) += r.size;
    auto& k = by_kind[to_string(r.kind)];
    ++k.first;
    k.second += r.size;
  }
  for (const ByteRange& u : m.unaccounted) unaccounted += u.size;
  line(out, "  {} regions: {} memory, {} metadata, {} unaccounted", m.regions.size(), human_bytes(memory),
       human_bytes(metadata), human_bytes(unaccounted));
  for (const auto& [kind, v] : by_kind) line(out, "    {:<13} {:>6} regions {:>12}", kind, v.first, human_bytes(v.second));

  line(out, "");
  line(out, "  {:>5}  {:>12}  {:>18}  {:>10}  {:<5}  {:<12}  {}", "#", "file offset", "vaddr", "size", "perms", "kind", "owner");
  for (std::size_t i = 0; i < m.regions.size(); ++i) {
    const Region& r = m.regions[i];
    line(out, "  {:>5}  {:>#12x}  {:>18}  {:>10}  {:<5}  {:<12}  {}", i, r.file_offset,
         r.vaddr ? fmt::format("{:#x}", *r.vaddr) : "-", human_bytes(r.size), r.perms ? to_string(*r.perms) : "-",
         to_string(r.kind), owner_text(r.owner));
  }
  line(out, "");
  line(out, "  threads: {}", m.threads.size());
  for (const Thread& t : m.threads) {
    line(out, "    tid {:<10} sp {:>18}  stack region {}", t.tid, t.sp ? fmt::format("{:#x}", *t.sp) : "-",
         t.stack_region ? fmt::format("{}", *t.stack_region) : "-");
  }
  line(out, "  modules: {}", m.modules.size());
  for (const Module& mod : m.modules) line(out, "    {:#18x} {:>10}  {}", mod.base, human_bytes(mod.size), display_path(mod.path));
  for (const EnvironmentBlock& e : m.environment) {
    line(out, "  environment: {} variables ({}), file offset {:#x}, {} ({})", e.variables, e.encoding, e.file_offset,
         human_bytes(e.size), e.source);
  }
  if (!m.unaccounted.empty()) {
    line(out, "  unaccounted ranges: {} ({}), scanned as raw bytes", m.unaccounted.size(), human_bytes(unaccounted));
  }
  for (const Warning& w : m.warnings) line(out, "  warning: offset {:#x}: {}", w.file_offset, display_text(w.message));
  if (!m.complete) line(out, "  the dump was only partly parsed");
  return out;
}

}  // namespace dumpguard
