// Opens a dump through the installed public API and prints its format and region count.
#include <cstdio>

#include <dumpguard/open_dump.hpp>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  dumpguard::OpenOptions options;
  options.forced_format = dumpguard::Format::raw;
  auto dump = dumpguard::open_dump(argv[1], options);
  if (!dump) {
    std::fprintf(stderr, "%s\n", dumpguard::describe(dump.error()).c_str());
    return 2;
  }
  std::printf("%s %zu\n", dumpguard::to_string(dump->model.format), dump->model.regions.size());
  return 0;
}
