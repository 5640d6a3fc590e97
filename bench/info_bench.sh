#!/usr/bin/env bash
# Time and peak memory of `dumpguard info` on a large real core (default 1 GiB of heap),
# plain and zstd-compressed. Usage: bench/info_bench.sh [BUILD_DIR] [MiB]
# Appends its figures, the command and the machine to bench/RESULTS.md.
set -euo pipefail
BUILD=${1:-build}
MIB=${2:-1024}
DG="$BUILD/dumpguard"
work=$(mktemp -d "${TMPDIR:-/tmp}/dg-bench.XXXXXX")
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

mkfifo "$work/in"
"$BUILD/bench/large_process" "$MIB" <"$work/in" >"$work/out" &
pid=$!
exec 3>"$work/in"
for _ in $(seq 600); do grep -q ready "$work/out" 2>/dev/null && break; sleep 0.2; done
( ulimit -f $((MIB * 1024 + 1000000)); gcore -o "$work/core" "$pid" >/dev/null 2>&1 )
kill "$pid"; pid=""
core="$work/core.$(ls "$work" | sed -n 's/^core\.//p' | head -1)"
size=$(stat -c %s "$core")
cat "$core" >/dev/null  # page-cache the file: we measure parsing, not the disk

measure() {  # prints "seconds max_rss_kb", median of 5 runs by time
  for _ in 1 2 3 4 5; do /usr/bin/time -f '%e %M' "$@" 2>&1 >/dev/null | tail -1; done | sort -n | sed -n 3p
}
read -r t_plain rss_plain < <(measure "$DG" info --json "$core")
zstd -q -T2 -3 "$core" -o "$core.zst"
zsize=$(stat -c %s "$core.zst")
read -r t_zst rss_zst < <(measure "$DG" info --json --tmpdir "$work" "$core.zst")
read -r t_zcat _ < <(measure zstd -qdc "$core.zst")

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
{
  echo
  echo "## dumpguard info on a real ${MIB} MiB-heap core — $(date -u +%Y-%m-%d)"
  echo
  echo "Machine: ${cpu}, $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr)."
  echo "Command: \`bench/info_bench.sh $BUILD $MIB\` (median of 5 runs, core page-cached)."
  echo
  echo "| input | size | wall time | peak RSS |"
  echo "| --- | --- | --- | --- |"
  echo "| plain core (gcore of bench/large_process) | $((size / 1048576)) MiB | ${t_plain} s | $((rss_plain / 1024)) MiB |"
  echo "| same core, zstd -3 (decompressed to an O_TMPFILE) | $((zsize / 1048576)) MiB | ${t_zst} s | $((rss_zst / 1024)) MiB |"
  echo "| peer: \`zstd -dc\` of the same file to /dev/null | | ${t_zcat} s | |"
} | tee -a bench/RESULTS.md
