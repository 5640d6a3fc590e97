// `dumpguard fingerprint SECRET_FILE... -o FILE`: keyed fingerprints of registered secrets.
// The secrets are read, fingerprinted and wiped; only the fingerprints are written.
#include <openssl/crypto.h>

#include <fmt/format.h>
#include <vector>

#include "cli/commands.hpp"
#include "crypto/secret_fingerprint.hpp"
#include "user_files/fingerprint_file.hpp"
#include "io/whole_file.hpp"

namespace dumpguard::cli {

int run_fingerprint(const FingerprintOptions& options) {
  const auto key = load_fingerprint_key_or_report(options.fingerprint_key);
  if (!key) return kExitError;
  std::vector<RegisteredSecret> secrets;
  for (const std::string& path : options.secrets) {
    auto secret = read_secret_file(path, options.keep_newline);
    if (!secret) {
      print_stderr("dumpguard: {}\n", secret.error().message);
      return kExitError;
    }
    secrets.push_back(fingerprint_secret(*key, base_name(path), *secret));
    OPENSSL_cleanse(secret->data(), secret->size());
  }
  if (Status written = write_file_atomically(options.output, write_fingerprint_file(*key, secrets)); !written) {
    print_stderr("dumpguard: {}\n", written.error().message);
    return kExitError;
  }
  print_stderr("dumpguard: {} secret{} fingerprinted into {}\n", secrets.size(), secrets.size() == 1 ? "" : "s",
             options.output);
  return kExitOk;
}

}  // namespace dumpguard::cli
