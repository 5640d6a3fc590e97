#include "detect/jwt_harvest.hpp"

#include <fmt/format.h>
#include <string_view>

namespace dumpguard {

namespace {

// Every JWS header is a JSON object, so it starts '{"' and its base64url starts "eyJ".
constexpr std::string_view kHeaderStart = "eyJ";

class JwtHarvest final : public AnchoredDetector {
 public:
  std::string_view name() const override { return "jwt"; }
  Reach reach() const override { return {0, kMaxJwt + 16}; }

  std::vector<AnchorPattern> anchors() const override { return {AnchorPattern::literal(kHeaderStart)}; }

  void scan_anchored(const ScanContext& /*context*/, const ScanArea& area, const AnchorHits& hits,
                     FindingSink& sink) override {
    const std::string_view text(reinterpret_cast<const char*>(area.bytes.data()), area.bytes.size());
    std::size_t next = 0;  // a token's end, or past an "eyJ" that starts none
    for (std::size_t pos : hits[0]) {
      if (pos < next) continue;
      std::size_t length = 0;
      if (auto token = parse_hmac_jwt(text.substr(pos), length)) {
        token->origin = fmt::format("{} JWT at file offset {:#x}", token->alg, area.file_offset + pos);
        sink.mac_token(std::move(*token));
        next = pos + length;
      } else {
        next = pos + kHeaderStart.size();
      }
    }
  }
};

}  // namespace

std::unique_ptr<StructureDetector> make_jwt_harvest_detector() { return std::make_unique<JwtHarvest>(); }

}  // namespace dumpguard
