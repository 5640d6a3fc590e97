#include "gate/names.hpp"

#include "report/display_text.hpp"

namespace dumpguard {

bool acceptable_name(std::string_view name) { return !name.empty() && name.size() <= 200 && clean_text(name); }

bool plain_file_name(std::string_view name) {
  return acceptable_name(name) && name.find('/') == std::string_view::npos && name != "." && name != "..";
}

std::string printable(std::string_view text) { return display_text(text); }

}  // namespace dumpguard
