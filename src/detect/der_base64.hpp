// Detector: private keys as base64 DER without PEM lines: the body of a PEM file read into a
// buffer whose BEGIN line was overwritten or left behind (glibc's stdio buffer after
// SSL_CTX_use_PrivateKey_file), or a key kept in configuration as one base64 line. Each is
// decoded and checked like a DER key, so a supplied --pubkey is found "present" there.
#pragma once
#include <memory>
#include "detect/detector.hpp"
namespace dumpguard {
std::unique_ptr<StructureDetector> make_der_base64_detector();
}
