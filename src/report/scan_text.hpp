// `dumpguard scan`: the keys found, their findings, and a one-line verdict, for people.
#pragma once
#include <string>

#include "dumpguard/dump.hpp"
#include "dumpguard/scan.hpp"

namespace dumpguard {
std::string scan_text(const Dump& dump, const ScanReport& report);
}
