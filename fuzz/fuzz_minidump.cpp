// libFuzzer target for the minidump reader: any bytes in, a model or an Error out, and
// never a crash, a hang or an allocation the input cannot pay for.
//
// It also holds the stack-only writer (`redact --drop heap`) to a property: every minidump the
// reader parses completely is rewritten stack-only (or refused with Errc::unsupported, for
// structures that overlap so that one field would need two values), and the rewrite parses
// again completely, with the same threads and modules and no memory but stacks.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "format/minidump.hpp"
#include "redact/minidump_stack_only.hpp"

namespace {

void check_stack_only_rewrite(const dumpguard::DumpModel& model, std::span<const std::byte> bytes) {
  auto rewrite = dumpguard::plan_stack_only_minidump(model, bytes);
  if (!rewrite) {
    if (rewrite.error().code != dumpguard::Errc::unsupported) __builtin_trap();
    return;
  }
  std::vector<std::byte> out;
  const dumpguard::ByteSink sink = [&](std::span<const std::byte> piece) -> dumpguard::Status {
    out.insert(out.end(), piece.begin(), piece.end());
    return dumpguard::ok_status();
  };
  if (!dumpguard::write_layout(bytes, rewrite->layout, {}, dumpguard::zero_fill(), sink)) __builtin_trap();
  auto copy = dumpguard::read_minidump(out);
  if (!copy) __builtin_trap();
  if (!dumpguard::check_stack_only(model, *copy)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span<const std::uint8_t>(data, size));
  auto model = dumpguard::read_minidump(bytes);
  if (model) {
    // Every index the reader hands out must point into regions[].
    for (const auto& t : model->threads) {
      if (t.stack_region && *t.stack_region >= model->regions.size()) __builtin_trap();
      if (t.context_region && *t.context_region >= model->regions.size()) __builtin_trap();
    }
    // Every region must lie inside the input.
    for (const auto& r : model->regions) {
      if (r.file_offset > size || r.size > size - r.file_offset) __builtin_trap();
    }
    if (model->complete) check_stack_only_rewrite(*model, bytes);
  }
  return 0;
}
