// `dumpguard info`: print the model of each dump (table, or JSON with --json).
#include <fmt/format.h>

#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "report/info_json.hpp"
#include "report/info_text.hpp"

namespace dumpguard::cli {

int run_info(const InfoOptions& options) {
  const OpenOptions open = to_open_options(options.input);
  int exit_code = kExitOk;
  // One dump prints one JSON object; several print an array, in the order given.
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const std::string& path : options.input.dumps) {
    Result<Dump> dump = open_dump(path, open);
    if (!dump) {
      print_error(path, dump.error());
      exit_code = kExitError;
      continue;
    }
    print_warnings(*dump);
    if (options.json) {
      all.push_back(info_json(*dump));
    } else {
      std::fputs(info_text(*dump).c_str(), stdout);
    }
  }
  if (options.json && !all.empty()) {
    const auto& out = options.input.dumps.size() == 1 ? all[0] : all;
    // ASCII only (\uXXXX): a path's bidirectional override reaches no terminal raw, and bytes
    // that are not UTF-8 (a hostile dump's path) become U+FFFD instead of an exception.
    std::cout << out.dump(2, ' ', true, nlohmann::ordered_json::error_handler_t::replace) << '\n';
  }
  return exit_code;
}

}  // namespace dumpguard::cli
