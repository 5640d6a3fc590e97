#include "detect/jwt_harvest.hpp"

#include <fmt/format.h>
#include <string_view>

namespace dumpguard {

namespace {

// Every JWS header is a JSON object, so it starts '{"' and its base64url starts "eyJ".
constexpr std::string_view kHeaderStart = "eyJ";

class JwtHarvest final : public Detector {
 public:
  std::string_view name() const override { return "jwt"; }
  Phase phase() const override { return Phase::structure; }
  Reach reach() const override { return {0, kMaxJwt + 16}; }

  void scan(const ScanContext& /*context*/, const ScanArea& area, FindingSink& sink) override {
    const std::string_view text(reinterpret_cast<const char*>(area.bytes.data()), area.bytes.size());
    std::size_t pos = 0;
    while ((pos = text.find(kHeaderStart, pos)) != std::string_view::npos) {
      std::size_t length = 0;
      if (auto token = parse_hmac_jwt(text.substr(pos), length)) {
        token->origin = fmt::format("{} JWT at file offset {:#x}", token->alg, area.file_offset + pos);
        sink.mac_token(std::move(*token));
        pos += length;
      } else {
        pos += kHeaderStart.size();
      }
    }
  }
};

}  // namespace

std::unique_ptr<Detector> make_jwt_harvest_detector() { return std::make_unique<JwtHarvest>(); }

}  // namespace dumpguard
