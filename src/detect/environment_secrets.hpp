// Detector: secrets in environment blocks (DumpModel::environment). The environment is a
// target of its own: a variable whose name says it holds a secret (…_PASSWORD,
// …_TOKEN, …_SECRET, …_API_KEY, …) is reported with that name even when its value matches
// no text rule, because a value like "changeme2024" fits no provider's format. The finding
// covers the value alone; the name stays readable for the people who debug the crash.
#pragma once
#include <memory>
#include <string_view>

#include "detect/detector.hpp"

namespace dumpguard {

inline constexpr std::string_view kEnvironmentDetector = "environment";

// True for a variable name that says its value is a secret, and is not the path of one.
bool secret_bearing_name(std::string_view name);

std::unique_ptr<StructureDetector> make_environment_secrets_detector();

}  // namespace dumpguard
