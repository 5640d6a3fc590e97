// Detector: JWTs signed with HMAC (HS256/384/512), harvested so the HMAC hunt can look for
// their keys. Tokens are bearer credentials themselves; reporting them is the text rules' job.
#pragma once
#include <memory>
#include "detect/detector.hpp"
namespace dumpguard {
std::unique_ptr<StructureDetector> make_jwt_harvest_detector();
}
