// OpenSSH's own key formats: the "openssh-key-v1" container of PROTOCOL.key (what
// ssh-keygen writes inside "-----BEGIN OPENSSH PRIVATE KEY-----"), the per-key private
// fields it and the agent protocol share, and SSH wire-format public key blobs (RFC 4253
// 6.6, RFC 5656 3.1, RFC 8709 4). Results are spans into the input; nothing is copied.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "crypto/private_key.hpp"
#include "crypto/public_key.hpp"

namespace dumpguard {

// "openssh-key-v1" and its terminating NUL (PROTOCOL.key, "AUTH_MAGIC").
inline constexpr std::string_view kOpensshMagic{"openssh-key-v1\0", 15};

struct OpensshKey {
  std::size_t length = 0;      // bytes from the magic to the end of the private section
  std::string cipher;          // "none", "aes256-ctr", ...
  std::string kdf;             // "none", "bcrypt"
  bool encrypted = false;      // cipher is not "none": the private section is ciphertext
  std::optional<PublicKey> public_key;          // from the clear public section, fingerprinted
  std::optional<ParsedPrivateKey> private_key;  // unencrypted keys only; spans into the input
};

// The openssh-key-v1 structure whose magic starts at in[0], or nullopt. A structure whose
// header and public key parse but whose private section does not (cut off, or cipher
// "none" with mismatched checkints) is returned without private_key.
std::optional<OpensshKey> parse_openssh_key(ByteSpan in);

// The private fields of one key as PROTOCOL.key's private section and the agent's
// SSH2_AGENTC_ADD_IDENTITY lay them out, starting at the key type string:
//   ssh-rsa: n e d iqmp p q; ssh-ed25519: pk(32) sk(64 = seed‖pk);
//   ecdsa-sha2-nistpN: curve-id Q d.
// key.length is the bytes consumed (the comment that follows is not included).
std::optional<ParsedPrivateKey> parse_ssh_private_fields(ByteSpan in);

struct SshPublicBlob {
  PublicKey key;  // fingerprinted
  std::size_t length = 0;
};

// An SSH wire-format public key blob starting at its type string:
//   ssh-rsa: e n; ssh-ed25519: pk(32); ecdsa-sha2-nistpN: curve-id Q (on the curve).
std::optional<SshPublicBlob> parse_ssh_public_blob(ByteSpan in);

}  // namespace dumpguard
