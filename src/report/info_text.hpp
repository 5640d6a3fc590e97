// `dumpguard info`: the dump model as a table for people.
#pragma once
#include <string>
#include "dumpguard/dump.hpp"
namespace dumpguard {
std::string info_text(const Dump& dump);
}
