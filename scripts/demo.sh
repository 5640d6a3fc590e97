#!/usr/bin/env bash
# `make run`: the main job end to end on real processes. Starts a program that holds an
# RSA key and an AES schedule it generated, dumps it with gcore, prints dumpguard's model of
# the dump and scans it, redacts it, and shows the redacted copy is clean and still opens in
# gdb with the same threads; then scans an `openssl s_server` holding a key and certificate
# made here.
set -euo pipefail
BUILD=${1:-build}
DG="$BUILD/dumpguard"
HOLDER="$BUILD/tests/programs/key_holder"
work=$(mktemp -d "${TMPDIR:-/tmp}/dumpguard-demo.XXXXXX")
holder_pid=""
cleanup() {
  [[ -n "$holder_pid" ]] && kill "$holder_pid" 2>/dev/null || true
  exec 3>&- 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== 1. start a process that generates and holds an RSA-2048 key and an AES-256 key"
mkfifo "$work/stdin"
"$HOLDER" 2048 <"$work/stdin" >"$work/holder.out" &
holder_pid=$!
exec 3>"$work/stdin"  # keep its stdin open until we are done
for _ in $(seq 100); do grep -q ready "$work/holder.out" 2>/dev/null && break; sleep 0.1; done
echo "   $(cat "$work/holder.out") (key generated at run time, never printed)"

echo "== 2. dump it with gcore"
( ulimit -f 2000000; gcore -o "$work/core" "$holder_pid" >/dev/null 2>&1 )
core="$work/core.$holder_pid"
ls -l "$core" | awk '{print "   " $5 " bytes: " $9}'

echo "== 3. dumpguard info"
"$DG" info "$core" | sed 's/^/   /' | awk 'NR<=12 || /threads:|modules:|tid |lib|key_holder/' | head -60
echo
echo "== 4. the same dump, zstd-compressed as systemd-coredump stores it"
zstd -q "$core" -o "$core.zst"
"$DG" info --json "$core.zst" | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
print("   format {} arch {} compression {} regions {} threads {} modules {} complete {}".format(
    j["format"], j["arch"], j["compression"]["format"], len(j["regions"]), len(j["threads"]),
    len(j["modules"]), j["complete"]))'
echo
echo "== 5. dumpguard scan of the same dump: blind, told nothing about the key"
"$DG" scan --fingerprint-key "$work/fingerprint.key" "$core" | sed 's/^/   /' || true

echo
echo "== 6. dumpguard redact: a copy with every finding overwritten, verified by a rescan"
"$DG" redact --fingerprint-key "$work/fingerprint.key" "$core" -o "$work/core.redacted" \
  --report "$work/redact.json" | sed 's/^/   /'
ls -l "$work/core.redacted" | awk '{print "   " $1 " " $5 " bytes: " $9}'
echo "   the redaction report (dumpguard-redact/1), abridged:"
/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print("   input  sha256 {} ({} bytes)".format(r["input"]["sha256"], r["input"]["size"]))
print("   output sha256 {} ({} bytes)".format(r["output"]["sha256"], r["output"]["size"]))
print("   {} spans overwritten; verification: {}".format(len(r["spans"]), r["verification"]["verdict"]))' "$work/redact.json"
echo "   rescan of the redacted copy:"
"$DG" scan --fingerprint-key "$work/fingerprint.key" "$work/core.redacted" | tail -1 | sed 's/^/   /'
echo "   gdb on the original and on the redacted copy (threads and the first frames):"
for c in "$core" "$work/core.redacted"; do
  echo "   -- $(basename "$c")"
  gdb -batch -ex "info threads" -ex "bt 3" "$HOLDER" "$c" 2>/dev/null | grep -E '^\*|^#' | sed 's/^/      /' | head -6
done

echo
echo "== 7. a TLS server: openssl s_server with an EC P-256 key and certificate made just now"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/server.key" 2>/dev/null
openssl req -x509 -key "$work/server.key" -out "$work/server.crt" -days 1 -subj /CN=localhost 2>/dev/null
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkfifo "$work/server.in"
openssl s_server -accept "127.0.0.1:$port" -key "$work/server.key" -cert "$work/server.crt" -www -quiet \
  <"$work/server.in" >/dev/null 2>&1 &
server_pid=$!
exec 4>"$work/server.in"
for _ in $(seq 100); do (exec 5<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
( ulimit -f 2000000; gcore -o "$work/server" "$server_pid" >/dev/null 2>&1 )
kill "$server_pid" 2>/dev/null || true
exec 4>&-
echo "   (the openssl program carries test keys for 'openssl speed' in its own binary: real keys, found too)"
echo "   the server key's fingerprint, from openssl: sha256:$(openssl pkey -in "$work/server.key" -pubout -outform DER | sha256sum | cut -d' ' -f1)"
"$DG" scan --fingerprint-key "$work/fingerprint.key" "$work/server.$server_pid" | sed 's/^/   /' | grep -v '^   *$' | head -40 || true
echo
echo "demo finished: real dumps read, keys found and proven, a dump redacted and verified clean"
