// Ten YARA rules that look for what dumpguard's default structure detectors and a few of its
// text rules look for, for bench/compare.sh: the speed target compares dumpguard with YARA running an equivalent 10-rule set.
// YARA only finds the bytes; dumpguard then parses, checks and fingerprints what it finds, and
// also does what no YARA rule can (AES schedules, RSA factor hunts, EC scalars): so on equal
// input YARA does less work. Text strings are `ascii wide`, as dumpguard searches ASCII and
// UTF-16LE text.

rule pem_private_key {  // pem detector
  strings:
    $begin = "-----BEGIN " ascii wide
    $private = "PRIVATE KEY-----" ascii wide
  condition:
    $begin and $private
}

rule openssh_private_key {  // openssh detector: the openssh-key-v1 container and key types
  strings:
    $magic = "openssh-key-v1\x00"
    $rsa = { 00 00 00 07 73 73 68 2D 72 73 61 }          // "\0\0\0\x07ssh-rsa"
    $ed25519 = { 00 00 00 0B 73 73 68 2D 65 64 32 35 35 31 39 }  // "\0\0\0\x0bssh-ed25519"
  condition:
    any of them
}

rule cng_key_blob {  // cng detector: BCRYPT_RSAKEY_BLOB and BCRYPT_ECCKEY_BLOB magics
  strings:
    $rsa = /RSA[123]/
    $ecc = /EC[KS][1-6]/
  condition:
    any of them
}

rule capi_key_blob {  // capi detector: PUBLICKEYSTRUC + RSAPUBKEY of a PRIVATEKEYBLOB
  strings:
    $private = { 07 02 00 00 ( 00 A4 | 00 24 ) 00 00 52 53 41 32 }
    $public = { 06 02 00 00 ( 00 A4 | 00 24 ) 00 00 52 53 41 31 }
  condition:
    any of them
}

rule der_private_key {  // der detector: SEQUENCE { INTEGER 0|1, ...
  strings:
    $short = { 30 ?? 02 01 ( 00 | 01 ) }
    $long1 = { 30 81 ?? 02 01 ( 00 | 01 ) }
    $long2 = { 30 82 ?? ?? 02 01 ( 00 | 01 ) }
  condition:
    any of them
}

rule jwt {  // jwt detector (HMAC-signed tokens the HMAC hunt then checks)
  strings:
    $jwt = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/ ascii wide
  condition:
    $jwt
}

rule jwk_private {  // jwk detector: a key object with a private member
  strings:
    $kty = /"kty"\s*:\s*"(RSA|EC|OKP)"/ ascii wide
    $d = /"d"\s*:\s*"[A-Za-z0-9_-]{16,}"/ ascii wide
  condition:
    $kty and $d
}

rule chacha_state {  // chacha-state detector: the ChaCha20 constant
  strings:
    $sigma = "expand 32-byte k"
  condition:
    $sigma
}

rule aws_access_key {  // text rule aws-access-key-id
  strings:
    $id = /(AKIA|ASIA)[0-9A-Z]{16}/ ascii wide
  condition:
    $id
}

rule github_token {  // text rule github-token
  strings:
    $token = /gh[pousr]_[A-Za-z0-9]{36}/ ascii wide
  condition:
    $token
}
