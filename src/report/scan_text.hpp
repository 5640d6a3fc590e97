// `dumpguard scan`: the keys found (a table), their findings (a table), what the supplied keys,
// tokens and registered secrets came to, and a one-line verdict last, for people. Colour only
// when `style` asks for it.
#pragma once
#include <string>

#include "dumpguard/dump.hpp"
#include "dumpguard/scan.hpp"
#include "report/text_table.hpp"

namespace dumpguard {
std::string scan_text(const Dump& dump, const ScanReport& report, const TextStyle& style = {});
}
