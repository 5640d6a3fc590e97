#!/usr/bin/env bash
# Side-by-side benchmark on one large real core, made here: bench/large_process fills SIZE
# MiB of heap with realistic content and holds an RSA key, and gcore dumps it. Measured on the
# same page-cached file in the same run: `cat` (the physical limit), `dumpguard info`
# (plain and zstd), `dumpguard scan`, and the peers aeskeyfind and rsakeyfind.
# Usage: bench/run.sh [BUILD_DIR] [MiB]. Appends the figures, command and machine to bench/RESULTS.md.
set -euo pipefail
BUILD=${1:-build}
MIB=${2:-1024}
DG="$BUILD/dumpguard"
work=$(mktemp -d "${TMPDIR:-/tmp}/dg-bench.XXXXXX")
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

source "$(dirname "$0")/lib.sh"
make_core run.sh
size=$(stat -c %s "$core")
cat "$core" >/dev/null  # page-cache the file: we measure the tools, not the disk

# Prints "seconds max_rss_kb" for one run of a command (stdout discarded). Exit codes are
# not failures here: scan exits 1 when it finds keys.
once() { { /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null || true; } | tail -1; }
# Median of N runs.
median() { local n=$1; shift; for _ in $(seq "$n"); do once "$@"; done | sort -n | sed -n "$(((n + 1) / 2))p"; }
mbps() { awk -v s="$size" -v t="$1" 'BEGIN { if (t > 0) printf "%.0f", s / 1048576 / t; else print "-" }'; }

read -r t_cat _ < <(median 3 cat "$core")
read -r t_info rss_info < <(median 5 "$DG" info --json "$core")
zstd -q -T2 -3 "$core" -o "$core.zst"
zsize=$(stat -c %s "$core.zst")
read -r t_zinfo rss_zinfo < <(median 3 "$DG" info --json --tmpdir "$work" "$core.zst")
read -r t_scan rss_scan < <(median 3 "$DG" scan --json --fingerprint-key "$work/fp.key" "$core")
read -r t_aes _ < <(median 1 aeskeyfind -q "$core")
read -r t_rsa _ < <(median 1 rsakeyfind "$core")

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
{
  echo
  echo "## Real ${MIB} MiB-heap core ($((size / 1048576)) MiB) — $(date -u +%Y-%m-%d)"
  echo
  echo "Machine: ${cpu}, $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr)."
  echo "Command: \`bench/run.sh $BUILD $MIB\`. Core page-cached; median of the runs shown."
  echo
  echo "| what | runs | wall time | throughput | peak RSS |"
  echo "| --- | --- | --- | --- | --- |"
  echo "| \`cat core > /dev/null\` (physical limit) | 3 | ${t_cat} s | $(mbps "$t_cat") MiB/s | |"
  echo "| \`dumpguard info --json core\` | 5 | ${t_info} s | | $((rss_info / 1024)) MiB |"
  echo "| \`dumpguard info --json core.zst\` ($((zsize / 1048576)) MiB, zstd -3, via O_TMPFILE) | 3 | ${t_zinfo} s | | $((rss_zinfo / 1024)) MiB |"
  echo "| \`dumpguard scan --json core\` (all default detectors) | 3 | ${t_scan} s | $(mbps "$t_scan") MiB/s | $((rss_scan / 1024)) MiB |"
  echo "| peer: \`aeskeyfind -q core\` | 1 | ${t_aes} s | $(mbps "$t_aes") MiB/s | |"
  echo "| peer: \`rsakeyfind core\` | 1 | ${t_rsa} s | $(mbps "$t_rsa") MiB/s | |"
} | tee -a bench/RESULTS.md
