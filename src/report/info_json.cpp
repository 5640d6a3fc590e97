#include "report/info_json.hpp"

#include "report/masked_text.hpp"

namespace dumpguard {

namespace {
template <class T>
nlohmann::ordered_json nullable(const std::optional<T>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json owner_json(const Owner& owner) {
  nlohmann::ordered_json o = nlohmann::ordered_json::object();
  if (owner.tid) o["tid"] = *owner.tid;
  if (!owner.path.empty()) o["path"] = masked_text(owner.path);
  if (!owner.name.empty()) o["name"] = masked_text(owner.name);
  return o;
}
}  // namespace

nlohmann::ordered_json dump_header_json(const Dump& dump) {
  const DumpModel& m = dump.model;
  nlohmann::ordered_json j;
  j["file"] = dump.source.path;
  j["file_size"] = dump.source.stored_size;
  if (dump.source.compression.empty()) {
    j["compression"] = nullptr;
  } else {
    // Every offset in a report refers to the decompressed stream.
    j["compression"] = {{"format", dump.source.compression},
                        {"decompressed_size", dump.bytes().size()},
                        {"offsets", "decompressed"}};
  }
  j["format"] = to_string(m.format);
  j["arch"] = m.arch;
  j["complete"] = m.complete;
  return j;
}

nlohmann::ordered_json info_json(const Dump& dump) {
  const DumpModel& m = dump.model;
  nlohmann::ordered_json j;
  j["schema"] = kInfoSchema;
  j.update(dump_header_json(dump));

  auto& regions = j["regions"] = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < m.regions.size(); ++i) {
    const Region& r = m.regions[i];
    regions.push_back({{"index", i},
                       {"file_offset", r.file_offset},
                       {"size", r.size},
                       {"vaddr", nullable(r.vaddr)},
                       {"memory_size", nullable(r.memory_size)},
                       {"perms", r.perms ? nlohmann::ordered_json(to_string(*r.perms)) : nlohmann::ordered_json(nullptr)},
                       {"kind", to_string(r.kind)},
                       {"owner", owner_json(r.owner)}});
  }
  auto& threads = j["threads"] = nlohmann::ordered_json::array();
  for (const Thread& t : m.threads) {
    threads.push_back({{"tid", t.tid},
                       {"sp", nullable(t.sp)},
                       {"stack_region", nullable(t.stack_region)},
                       {"context_region", nullable(t.context_region)}});
  }
  auto& modules = j["modules"] = nlohmann::ordered_json::array();
  for (const Module& mod : m.modules) {
    modules.push_back({{"path", masked_text(mod.path)}, {"base", mod.base}, {"size", mod.size}});
  }
  auto& unaccounted = j["unaccounted"] = nlohmann::ordered_json::array();
  for (const ByteRange& u : m.unaccounted) {
    unaccounted.push_back({{"file_offset", u.file_offset}, {"size", u.size}});
  }
  auto& environment = j["environment"] = nlohmann::ordered_json::array();
  for (const EnvironmentBlock& e : m.environment) {
    nlohmann::ordered_json block = {{"file_offset", e.file_offset}, {"size", e.size}};
    block["vaddr"] = e.vaddr ? nlohmann::ordered_json(*e.vaddr) : nlohmann::ordered_json(nullptr);
    block["encoding"] = e.encoding;
    block["variables"] = e.variables;
    block["source"] = e.source;
    environment.push_back(std::move(block));
  }
  auto& warnings = j["warnings"] = nlohmann::ordered_json::array();
  for (const Warning& w : m.warnings) {
    warnings.push_back({{"file_offset", w.file_offset}, {"message", w.message}});
  }
  return j;
}

}  // namespace dumpguard
