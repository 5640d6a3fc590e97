#!/usr/bin/env bash
# `make run`: the main job end to end on a real process. Starts a program that holds an
# RSA key and an AES schedule it generated, dumps it with gcore, and prints dumpguard's
# model of the dump. Later steps (scan, redact) join this demo as they land.
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
echo "demo finished: the dump was read end to end (scan and redact come in later issues)"
