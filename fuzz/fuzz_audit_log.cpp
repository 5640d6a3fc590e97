// libFuzzer target for `audit verify`: the input is an audit log's text, verified under a
// fixed key. Beyond "no crash": a verdict is either sound or names a broken record.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "gate/audit_log.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::uint8_t> key(32, 0x5a);
  const std::string text(reinterpret_cast<const char*>(data), size);
  const dumpguard::AuditVerdict v = dumpguard::verify_audit_log(text, key);
  if (v.ok == v.broken.has_value()) __builtin_trap();
  return 0;
}
