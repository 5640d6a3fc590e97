// Tables and colour for the text reports (scan, redact): columns padded to their widest cell,
// and ANSI colour only when the caller asks for it (the CLI decides from --color, whether
// stdout is a terminal, and NO_COLOR). Cells are words about findings, never dump bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dumpguard/finding.hpp"

namespace dumpguard {

enum class Tone { plain, bold, dim, red, red_bold, yellow, green, green_bold, cyan };

struct TextStyle {
  bool color = false;
  // `text` wrapped in the tone's SGR sequence and a reset, or `text` as it is without colour.
  std::string paint(std::string_view text, Tone tone) const;
};

// critical red and bold, high red, medium yellow, low cyan.
Tone tone_of(Severity severity);

struct Cell {
  std::string text;
  Tone tone = Tone::plain;
};

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add(std::vector<Cell> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  // One line per row, the header first (bold), every line starting with `indent`; the last
  // column is not padded, so no line ends in spaces.
  std::string render(const TextStyle& style, std::string_view indent = "  ") const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<Cell>> rows_;
};

// "1.5 MiB", "312 B".
std::string human_bytes(std::uint64_t n);

}  // namespace dumpguard
