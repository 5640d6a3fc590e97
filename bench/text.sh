#!/usr/bin/env bash
# Text rules against YARA (the goal: at least as fast, in both encodings), on one large real core made here: bench/large_process fills
# SIZE MiB of heap with realistic content (JSON, log lines, UTF-16LE text, integers, random and
# zeroed pages) and gcore dumps it. On the same page-cached core in the same run, median of 3:
#   - bench/text_scan: dumpguard's text rule engine alone (src/rules/engine.hpp), every built-in
#     rule, ASCII/UTF-8 and UTF-16LE, over the whole file as one area (as YARA scans a file);
#   - YARA (Debian yara) with text_rules.yar, the same rules translated by bench/yara_rules.py
#     at run time (so it always matches rules/*.toml), each string `ascii wide` (both
#     encodings), `-p 1` and `-p 2`;
#   - `dumpguard scan` with every default detector, with the built-in rules and with none
#     (`--rules-only` and no file), so their difference is what the rules cost inside a scan.
# `dumpguard scan` has no switch to run one detector alone, hence the driver.
# Usage: bench/text.sh [BUILD_DIR] [MiB]. Appends the figures, command and machine to bench/RESULTS.md.
set -euo pipefail
BUILD=${1:-build}
MIB=${2:-1024}
RUNS=${RUNS:-3}
DG="$BUILD/dumpguard"
TS="$BUILD/bench/text_scan"
command -v yara >/dev/null || { echo "text.sh: yara is not installed (apt-get install yara)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/dg-text.XXXXXX")
YAR="$work/text_rules.yar"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
python3 bench/yara_rules.py > "$YAR"

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
source "$(dirname "$0")/lib.sh"
make_core text.sh
size=$(stat -c %s "$core")

# One run of configuration NAME: appends "wall_s max_rss_kb cpu_s" to $work/NAME.runs; the
# command's stdout goes to $work/NAME.out. Exit 1 (dumpguard found something) is not a failure.
once() {
  local name=$1; shift
  local rc=0
  /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
  if ((rc > 1)); then echo "text.sh: $name: exit $rc" >&2; cat "$work/$name.err" >&2; exit 1; fi
  tail -1 "$work/time" | awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' >>"$work/$name.runs"
  echo "text.sh: $name: $(tail -1 "$work/$name.runs")" >&2
}
CONFIGS=(engine yara1 yara2 scan_rules scan_none)
run() {
  case $1 in
    engine) once engine "$TS" "$core" ;;
    yara1) once yara1 yara -p 1 "$YAR" "$core" ;;
    yara2) once yara2 yara -p 2 "$YAR" "$core" ;;
    scan_rules) once scan_rules "$DG" scan --json --fingerprint-key "$work/fp.key" "$core" ;;
    scan_none) once scan_none "$DG" scan --json --fingerprint-key "$work/fp.key" --rules-only "$core" ;;
  esac
}
# Rounds, one run of every configuration per round, so that load beside us falls on all alike.
for ((r = 0; r < RUNS; ++r)); do
  cat "$core" >/dev/null  # page-cache the file: we measure the tools, not the disk
  for n in "${CONFIGS[@]}"; do run "$n"; done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

declare -A T RSS CPU ALL
for n in "${CONFIGS[@]}"; do
  read -r "T[$n]" "RSS[$n]" _ < <(sort -n "$work/$n.runs" | sed -n "$(((RUNS + 1) / 2))p")
  CPU[$n]=$(awk '{print $3}' "$work/$n.runs" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
  ALL[$n]=$(awk '{print $1}' "$work/$n.runs" | sort -n | paste -sd/ | sed 's#/# / #g')
done
# The driver's own split of its last run: compiling the rules, then scanning.
read -r compile_s scan_s matches ascii utf16 < <(sed -E 's/[a-z0-9_]+=//g' "$work/engine.out" | awk '{print $1, $2, $4, $5, $6}')
nrules=$(grep -c '^rule ' "$YAR")
yara_hit=$(awk '{print $1}' "$work/yara1.out" | sort -u | sed 's/^dg_//; s/_/-/g' | paste -sd' ' | sed 's/ /, /g')
# What the scan's text-rules detector found, by kind (no secret bytes: kinds and counts).
scan_text=$(jq -r '[.findings[] | select(.detector == "text-rules") | .kind] | group_by(.) | map("\(length) \(.[0])") | join(", ")' "$work/scan_rules.out")
mbps() { awk -v s="$size" -v t="$1" 'BEGIN { if (t > 0) printf "%.0f", s / 1048576 / t; else print "-" }'; }
diff_s() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
holds() { awk -v d="$1" -v y="$2" 'BEGIN { print (d <= y) ? "holds" : "does not hold" }'; }
row() { echo "| $2 | ${T[$1]} s | ${ALL[$1]} | $(mbps "${T[$1]}") MiB/s | ${CPU[$1]} s | $((${RSS[$1]} / 1024)) MiB |"; }
text_in_scan=$(diff_s "${T[scan_rules]}" "${T[scan_none]}")
model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
{
  echo
  echo "## Text rules against YARA, real ${MIB} MiB-heap core ($((size / 1048576)) MiB) — $(date -u +%Y-%m-%d)"
  echo
  echo "Machine: ${model}, $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr); $(yara --version | sed 's/^/YARA /')."
  echo "Command: \`bench/text.sh $BUILD $MIB\`. $RUNS rounds (one run of each row per round), the median shown;"
  echo "core page-cached. Rule set: the $nrules built-in rules (rules/*.toml); for YARA, their translation by \`bench/yara_rules.py\`."
  echo
  echo "| what | wall time | all runs (s) | throughput | CPU time | peak RSS |"
  echo "| --- | --- | --- | --- | --- | --- |"
  row engine "dumpguard text engine alone (\`bench/text_scan core\`): ASCII + UTF-16LE, compile included"
  row yara1 "YARA \`yara -p 1 text_rules.yar core\`: \`ascii wide\` strings"
  row yara2 "YARA \`yara -p 2 text_rules.yar core\`"
  row scan_rules "\`dumpguard scan --json core\`: every default detector, built-in rules"
  row scan_none "\`dumpguard scan --json --rules-only core\`: every default detector, no text rule"
  echo
  echo "Notes on this run:"
  echo "- Goal: dumpguard at least as fast as YARA while doing both encodings. Engine alone against"
  echo "  \`yara -p 1\`: **$(holds "${T[engine]}" "${T[yara1]}")** (${T[engine]} s against ${T[yara1]} s). Inside a full scan the rules"
  echo "  cost ${text_in_scan} s (difference of the medians of the last two rows): against \`yara -p 1\` this"
  echo "  **$(holds "$text_in_scan" "${T[yara1]}")**."
  echo "- The engine's last run split: compiling the $nrules rules ${compile_s} s, scanning ${scan_s} s ($(mbps "$scan_s") MiB/s"
  echo "  for both encodings). Matches reported: ${matches} (${ascii} ASCII, ${utf16} UTF-16LE)."
  echo "- YARA matched rules: ${yara_hit:-none}. The scan's text findings: ${scan_text:-none}."
  echo "- dumpguard is single-threaded; \`yara -p\` sets threads for scanning a directory, so on one file"
  echo "  \`-p 2\` scans with one thread too. YARA ran with its defaults (no timeout in effect, at most"
  echo "  1,000,000 matches recorded per string)."
  echo "- Shared machine: load average (1/5/15 min) ${load_start} before, ${load_end} after."
} | tee -a bench/RESULTS.md
