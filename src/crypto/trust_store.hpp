// The system trust store's public keys. Their private halves are never in a dump
// (CAs keep them offline), so the hunts skip them by default: a server that loaded the CA bundle
// holds a hundred or more of them.
#pragma once
#include <set>
#include <string>

namespace dumpguard {
// Fingerprints of every certificate's key in OpenSSL's default CA file
// (X509_get_default_cert_file(), on Debian /usr/lib/ssl/cert.pem); empty if unreadable.
std::set<std::string> trust_store_fingerprints();
}
