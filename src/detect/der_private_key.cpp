// Raw DER private keys sit in memory wherever a key file was read or a key serialised.
// Every key form starts SEQUENCE { INTEGER 0|1, ... }: the anchors are that SEQUENCE header
// (short form, or 1 to 3 length bytes) followed by 02 01 00 or 02 01 01, and a parse is tried
// only there.
#include "detect/der_private_key.hpp"

#include <cstring>

#include "detect/private_key_finding.hpp"

namespace dumpguard {

namespace {

class DerPrivateKeyDetector final : public AnchoredDetector {
 public:
  std::string_view name() const override { return "der"; }
  // DER carries its own length and has no cap; a key longer than kMaxStructure that crosses a
  // chunk boundary is missed (docs/design.md, "Chunks, threads and one report").
  Reach reach() const override { return {0, kMaxStructure}; }

  std::vector<AnchorPattern> anchors() const override {
    std::vector<AnchorPattern> a;
    a.push_back(AnchorPattern::literal("\x30").then_range(0x00, 0x7f).then("\x02\x01").then_one_of({0, 1}));
    for (std::uint8_t count = 1; count <= 3; ++count) {
      a.push_back(AnchorPattern::literal("\x30")
                      .then_one_of({static_cast<std::uint8_t>(0x80 | count)})
                      .then_any(count)
                      .then("\x02\x01")
                      .then_one_of({0, 1}));
    }
    return a;
  }

  void scan_anchored(const ScanContext& context, const ScanArea& area, const AnchorHits& hits,
                     FindingSink& sink) override {
    const auto* data = reinterpret_cast<const std::uint8_t*>(area.bytes.data());
    const std::size_t size = area.bytes.size();
    std::size_t next = 0;  // the end of the last key: the whole structure is one finding
    for (std::size_t i : merged(hits)) {
      if (i < next || i + 8 >= size) continue;
      if (const std::size_t consumed = try_at(context, area, data, size, i, sink); consumed > 0) next = i + consumed;
    }
  }

 private:
  static std::size_t try_at(const ScanContext& context, const ScanArea& area, const std::uint8_t* data,
                            std::size_t size, std::size_t i, FindingSink& sink) {
    // Cheap prefilter: the length header, then 02 01 00 or 02 01 01.
    std::size_t header = 2;
    const std::uint8_t len0 = data[i + 1];
    if (len0 & 0x80) {
      header += len0 & 0x7F;
      if ((len0 & 0x7F) == 0 || (len0 & 0x7F) > 3) return 0;
    }
    if (i + header + 3 > size) return 0;
    const std::uint8_t* v = data + i + header;
    if (v[0] != 0x02 || v[1] != 0x01 || v[2] > 1) return 0;
    auto parsed = parse_private_key_der({data + i, size - i});
    if (!parsed) return 0;
    if (!report_private_key(context, area, i, parsed->length, *parsed, "der", "der-" + parsed->form, sink)) return 0;
    return parsed->length;
  }
};

}  // namespace

std::unique_ptr<StructureDetector> make_der_private_key_detector() { return std::make_unique<DerPrivateKeyDetector>(); }

}  // namespace dumpguard
