#include "report/masked_text.hpp"

#include <algorithm>
#include <mutex>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rules/text_rules.hpp"
#include "report/display_text.hpp"
#include "rules/engine.hpp"

namespace dumpguard {

std::string masked_text(std::string_view text) {
  if (text.empty()) return std::string();
  // One scanner for the process: building one costs Vectorscan scratch, a path costs microseconds.
  // A dump names the same few files in thousands of regions: each distinct text is scanned once.
  static std::mutex mutex;
  static rules::RuleScanner scanner(builtin_rule_engine());
  static std::unordered_map<std::string, std::string> seen;
  const std::lock_guard<std::mutex> lock(mutex);
  if (const auto it = seen.find(std::string(text)); it != seen.end()) return it->second;
  if (seen.size() >= 4096) seen.clear();
  std::string& result = seen[std::string(text)];
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  std::vector<std::string> ids;
  {
    const auto& all = builtin_rule_engine()->rules();
    // ASCII only: a path is narrow text; its UTF-16LE form is the dump's business, not the name's.
    scanner.scan_ascii(std::as_bytes(std::span<const char>(text.data(), text.size())), [&](const rules::TextMatch& m) {
      spans.emplace_back(m.offset, m.offset + m.length);
      ids.push_back(m.rule < all.size() ? all[m.rule].id : "text-rule");
    });
  }
  if (spans.empty()) return result = std::string(text);
  std::vector<std::size_t> order(spans.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return spans[a] < spans[b]; });
  std::string out;
  std::size_t at = 0;
  for (const std::size_t i : order) {
    const auto [begin, end] = spans[i];
    if (end <= at || begin >= text.size()) continue;  // inside a span already masked
    if (begin > at) out.append(text.substr(at, begin - at));
    out += "[masked " + ids[i] + "]";
    at = std::min(end, text.size());
  }
  out.append(text.substr(at));
  return result = out;
}

std::string display_path(std::string_view text) { return display_text(masked_text(text)); }

}  // namespace dumpguard
