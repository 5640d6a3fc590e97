#!/usr/bin/env bash
# Installs the Debian packages dumpguard needs, and only those missing.
# Says nothing when everything is already there (make deps runs it on every make).
set -euo pipefail

PACKAGES=(
  # build
  cmake ninja-build g++ pkg-config ccache
  clang libfuzzer-14-dev            # ASan+UBSan build and libFuzzer targets
  # libraries
  libcli11-dev nlohmann-json3-dev libfmt-dev libssl-dev
  libzstd-dev liblz4-dev liblzma-dev
  libtomlplusplus-dev               # config and rule files (TOML, header-only use: src/io/toml.hpp)
  libgtest-dev
  libvectorscan-dev libpcre2-dev    # text rules: the prefilter and the exact span
  libcpp-httplib-dev libcurl4-openssl-dev zlib1g-dev  # relay: HTTP(S) server, upstream client, gzip; serve: HTTPS server
  # tools the tests and the demo drive
  gdb elfutils lldb python3-lldb-14 python3 python3-cryptography openssl procps
  zstd lz4 xz-utils openssh-client
  man-db groff-base                 # the man page: rendered by test_man_page, read after install
  python3-jsonschema python3-rfc3987  # SARIF 2.1.0 output validated against the OASIS schema (tests/schemas), URIs included
  # peers for tests and benchmarks
  aeskeyfind rsakeyfind yara nginx-light
  # runtimes whose big-number layouts the closure tests dump: the JVM (javac builds the signer) and V8
  openjdk-17-jdk-headless nodejs
  node-elliptic node-bn.js          # elliptic's EC keys in bn.js's digits (tests/programs/elliptic_holder.js)
  # real aarch64 cores: a static program run under qemu-aarch64 aborts and dumps core
  qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  # the cluster: a JetStream work queue, key-value bucket and audit stream (src/cluster/)
  libnats-dev nats-server
  # benchmarks
  time jq libbenchmark-dev          # bench scripts; bench/micro (Google Benchmark)
  # the protection library's Windows files are cross-compiled in make test (never run)
  g++-mingw-w64-x86-64
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
# The cluster's S3 test server runs on Node.js and is installed with npm (tests/tools/s3). A
# nodejs package may ship npm itself (NodeSource's does, and conflicts with Debian's npm).
command -v npm >/dev/null || missing+=(npm)
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "make deps: installing ${missing[*]}"
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
