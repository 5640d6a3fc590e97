#include "report/text_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace dumpguard {

namespace {
// Characters as a terminal counts them: UTF-8 continuation bytes take no column.
std::size_t columns(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

const char* sgr(Tone tone) {
  switch (tone) {
    case Tone::plain: return "";
    case Tone::bold: return "\x1b[1m";
    case Tone::dim: return "\x1b[2m";
    case Tone::red: return "\x1b[31m";
    case Tone::red_bold: return "\x1b[1;31m";
    case Tone::yellow: return "\x1b[33m";
    case Tone::green: return "\x1b[32m";
    case Tone::green_bold: return "\x1b[1;32m";
    case Tone::cyan: return "\x1b[36m";
  }
  return "";
}
}  // namespace

std::string TextStyle::paint(std::string_view text, Tone tone) const {
  if (!color || tone == Tone::plain || text.empty()) return std::string(text);
  return fmt::format("{}{}\x1b[0m", sgr(tone), text);
}

Tone tone_of(Severity severity) {
  switch (severity) {
    case Severity::critical: return Tone::red_bold;
    case Severity::high: return Tone::red;
    case Severity::medium: return Tone::yellow;
    case Severity::low: return Tone::cyan;
  }
  return Tone::plain;
}

std::string TextTable::render(const TextStyle& style, std::string_view indent) const {
  std::vector<std::size_t> width(headers_.size(), 0);
  for (std::size_t c = 0; c < headers_.size(); ++c) width[c] = columns(headers_[c]);
  for (const auto& row : rows_) {
    for (std::size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], columns(row[c].text));
  }
  std::string out;
  const auto line = [&](const std::vector<Cell>& cells) {
    std::string text(indent);
    for (std::size_t c = 0; c < cells.size() && c < width.size(); ++c) {
      text += style.paint(cells[c].text, cells[c].tone);
      if (c + 1 < cells.size() && c + 1 < width.size()) text.append(width[c] - columns(cells[c].text) + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text;
    out += '\n';
  };
  // A table of labels and values has no header to show.
  if (std::any_of(headers_.begin(), headers_.end(), [](const std::string& h) { return !h.empty(); })) {
    std::vector<Cell> header;
    for (const std::string& h : headers_) header.push_back({h, Tone::bold});
    line(header);
  }
  for (const auto& row : rows_) line(row);
  return out;
}

std::string human_bytes(std::uint64_t n) {
  constexpr std::array<const char*, 5> units{"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  std::size_t u = 0;
  while (v >= 1024.0 && u + 1 < units.size()) {
    v /= 1024.0;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", v, units[u]);
}

}  // namespace dumpguard
