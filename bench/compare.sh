#!/usr/bin/env bash
# Everything on the same file in one run, against the speed targets: a real core made here (bench/large_process
# fills MiB of heap with JSON documents, log lines, UTF-16LE text, integer arrays, random and
# zeroed pages, and holds RSA-2048, P-256, AES-128 and AES-256 keys and an HS256 secret; gcore
# dumps it), page-cached, then in rounds (one run of each row per round, so load beside us falls
# on all alike), the median of RUNS:
#   - `cat core > /dev/null`: the physical limit;
#   - `dumpguard scan` with the default detectors, on 1 thread and on every core;
#   - the same with 10 RSA moduli supplied (the held key and 9 made here): the hunts' cost;
#   - dumpguard with each detector alone (`--detectors NAME`, every core);
#   - aeskeyfind -t 0, rsakeyfind, and yara with bench/yara10.yar (10 rules for what the
#     default detectors look for).
# Throughputs, ratios and the machine's description are appended to bench/RESULTS.md. The
# script checks that dumpguard finds every AES key `aeskeyfind -t 0` prints (compared by keyed
# fingerprint in one pipe: no key is written anywhere) and that the held RSA key is "present".
# Usage: bench/compare.sh [BUILD_DIR] [MiB]   (MiB from 256 to 4096; RUNS=3 by default;
# RESULTS=FILE appends there instead, e.g. /dev/null to try the script)
# The core and its work directory are deleted at the end; check `df -h` for 2 x MiB free.
set -euo pipefail
BUILD=${1:-build}
MIB=${2:-1024}
RUNS=${RUNS:-3}
DG="$BUILD/dumpguard"
for tool in aeskeyfind rsakeyfind yara jq; do
  command -v "$tool" >/dev/null || { echo "compare.sh: $tool is not installed (make deps)" >&2; exit 2; }
done
umask 077
work=$(mktemp -d "${TMPDIR:-/tmp}/dg-compare.XXXXXX")
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir "$work/held"
source "$(dirname "$0")/lib.sh"
make_core compare.sh "$work/held"
size=$(stat -c %s "$core")
head -c 32 /dev/urandom >"$work/fp.key"
# Nine RSA-2048 public keys the process never held, after the one it holds.
cp "$work/held/rsa.pub.pem" "$work/rsa10.pem"
for _ in $(seq 9); do openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -pubout >>"$work/rsa10.pem"; done
held_rsa=$(openssl pkey -pubin -in "$work/held/rsa.pub.pem" -outform DER | sha256sum | awk '{print "sha256:" $1}')

# Detectors to time alone: every one a blind scan runs (registered-secret needs fingerprints).
cat "$core" >/dev/null
mapfile -t DETECTORS < <("$DG" scan --json --fingerprint-key "$work/fp.key" "$core" | jq -r '.searched.detectors[]')
CONFIGS=(cat dg1 dg dg_rsa10 aeskeyfind rsakeyfind yara)
for d in "${DETECTORS[@]}"; do CONFIGS+=("only:$d"); done

compiling() { pgrep -x 'cc1|cc1plus|clang|clang\+\+|clang-[0-9]+|ld|ld\.gold|ld\.lld' >/dev/null 2>&1; }
# One run: appends "wall_s max_rss_kb cpu_s busy" to $work/NAME.runs. Exit 1 (findings) is no failure.
once() {
  local name=$1; shift
  local rc=0 busy=0 file=${name//[:\/]/_}
  compiling && busy=1
  /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$@" >"$work/$file.out" 2>"$work/$file.err" || rc=$?
  compiling && busy=1
  if ((rc > 1)); then echo "compare.sh: $name: exit $rc" >&2; cat "$work/$file.err" >&2; exit 1; fi
  tail -1 "$work/time" | awk -v busy="$busy" '{ printf "%s %s %.2f %d\n", $1, $2, $3 + $4, busy }' >>"$work/$file.runs"
  echo "compare.sh: $name: $(tail -1 "$work/$file.runs")" >&2
}
SCAN=("$DG" scan --json --fingerprint-key "$work/fp.key")
run() {
  case $1 in
    cat) once cat sh -c 'cat "$1" >/dev/null' sh "$core" ;;
    dg1) once dg1 "${SCAN[@]}" --threads 1 "$core" ;;
    dg) once dg "${SCAN[@]}" "$core" ;;
    dg_rsa10) once dg_rsa10 "${SCAN[@]}" --pubkey "$work/rsa10.pem" "$core" ;;
    aeskeyfind) once aeskeyfind sh -c 'aeskeyfind -q -t 0 "$1" >/dev/null' sh "$core" ;;
    rsakeyfind) once rsakeyfind sh -c 'rsakeyfind "$1" >/dev/null' sh "$core" ;;
    yara) once yara yara -p 1 "$(dirname "$0")/yara10.yar" "$core" ;;
    only:*) once "$1" "${SCAN[@]}" --detectors "${1#only:}" "$core" ;;
  esac
}
for ((r = 0; r < RUNS; ++r)); do
  cat "$core" >/dev/null  # page-cache the file: we measure the tools, not the disk
  for n in "${CONFIGS[@]}"; do run "$n"; done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# Every AES key aeskeyfind -t 0 prints must be a key of dumpguard's report: compared by keyed
# fingerprint (HMAC-SHA256 under the fingerprint key, as dumpguard names symmetric keys), in
# one pipe, so no key is written anywhere.
aes_check=$(aeskeyfind -q -t 0 "$core" | /usr/bin/python3 -c '
import hashlib, hmac, json, sys
key = open(sys.argv[1], "rb").read()
report = json.load(open(sys.argv[2]))
ours = {k["fingerprint"] for k in report["keys"] if k["kind"].startswith("aes-")}
theirs = {"hmac-sha256:" + hmac.new(key, bytes.fromhex(line.strip()), hashlib.sha256).hexdigest()
          for line in sys.stdin if line.strip()}
print(f"{len(theirs)} {len(theirs & ours)} {len(ours)}")' "$work/fp.key" "$work/dg.out")
read -r aes_theirs aes_both aes_ours <<<"$aes_check"
rsa_status=$(jq -r --arg h "$held_rsa" '[.supplied[] | select(.fingerprint == $h) | .status] | join(",")' "$work/dg_rsa10.out")
rsa_absent=$(jq -r --arg h "$held_rsa" '[.supplied[] | select(.fingerprint != $h) | .status] | map(select(. == "absent")) | length' "$work/dg_rsa10.out")

declare -A T RSS CPU ALL BUSY
median() { sort -n | sed -n "$(((RUNS + 1) / 2))p"; }
for n in "${CONFIGS[@]}"; do
  f="$work/${n//[:\/]/_}.runs"
  read -r "T[$n]" "RSS[$n]" _ < <(sort -n "$f" | median)
  CPU[$n]=$(awk '{print $3}' "$f" | median)
  ALL[$n]=$(awk '{print $1}' "$f" | sort -n | paste -sd/ | sed 's#/# / #g')
  BUSY[$n]=$(awk '{ b += $4 } END { print b + 0 }' "$f")
done
mbps() { awk -v s="$size" -v t="$1" 'BEGIN { if (t > 0) printf "%.0f", s / 1048576 / t; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.1f×", b / a; else print "-" }'; }
row() {  # NAME LABEL
  echo "| $2 | ${T[$1]} s | ${ALL[$1]} | $(mbps "${T[$1]}") MiB/s | ${CPU[$1]} s | $(mbps "${CPU[$1]}") MiB/s | $((${RSS[$1]} / 1024)) MiB | ${BUSY[$1]} of $RUNS |"
}
holds() { if [[ "$1" == 1 ]]; then echo "**holds**"; else echo "**does not hold**"; fi; }
gbps=$(awk -v s="$size" -v t="${T[dg]}" 'BEGIN { printf "%.2f", s / 1e9 / t }')
model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
caches=$(lscpu | sed -n 's/^\(L[123][a-z]*\) cache: *\(.*\)/\1 \2/p' | paste -sd, | sed 's/,/, /g')
busy_total=0
for n in "${CONFIGS[@]}"; do busy_total=$((busy_total + BUSY[$n])); done
{
  echo
  echo "## Side by side on one real ${MIB} MiB-heap core ($((size / 1048576)) MiB) — $(date -u +%Y-%m-%d)"
  echo
  echo "Machine: ${model}, $(nproc) cores ($caches), $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr);"
  echo "$(yara --version | sed 's/^/YARA /'); aeskeyfind and rsakeyfind from Debian. Command: \`bench/compare.sh $BUILD $MIB\`."
  echo "$RUNS rounds (one run of each row per round), the median shown; core page-cached. CPU = user + system;"
  echo "CPU throughput = size / CPU time (what one core would do alone). Busy: runs with a compiler beside them."
  echo
  echo "| what | wall time | all runs (s) | throughput | CPU time | CPU throughput | peak RSS | busy |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
  row cat "\`cat core > /dev/null\` (physical limit)"
  row dg "\`dumpguard scan\`, default detectors, every core ($(nproc) threads)"
  row dg1 "\`dumpguard scan --threads 1\`"
  row dg_rsa10 "\`dumpguard scan --pubkey\` 10 RSA moduli (held + 9), every core"
  row yara "YARA \`yara -p 1 bench/yara10.yar core\` (10 rules)"
  row aeskeyfind "\`aeskeyfind -q -t 0 core\`"
  row rsakeyfind "\`rsakeyfind core\`"
  for d in "${DETECTORS[@]}"; do row "only:$d" "\`dumpguard scan --detectors $d\`"; done
  echo
  echo "Targets, from the medians above:"
  echo "- Default scan at 1 GB/s or more with $(nproc) threads: ${gbps} GB/s, $(holds "$(awk -v g="$gbps" 'BEGIN{print (g >= 1)}')")."
  echo "- At least 2× YARA's throughput: $(ratio "${T[dg]}" "${T[yara]}") ($(holds "$(awk -v y="${T[yara]}" -v d="${T[dg]}" 'BEGIN{print (y/d >= 2)}')"))."
  echo "- AES schedules alone at least 20× aeskeyfind -t 0: $(awk -v a="${T[aeskeyfind]}" -v d="${T[only:aes-schedule]}" 'BEGIN{printf "%.1f", a/d}')× ($(holds "$(awk -v a="${T[aeskeyfind]}" -v d="${T[only:aes-schedule]}" 'BEGIN{print (a/d >= 20)}')")); every key aeskeyfind -t 0 prints is found: $aes_both of $aes_theirs ($(holds "$((aes_both == aes_theirs))"); dumpguard's report has $aes_ours AES keys)."
  echo "- 10 RSA moduli add under 30 %: $(awk -v r="${T[dg_rsa10]}" -v d="${T[dg]}" 'BEGIN{printf "%+.0f %%", (r-d)/d*100}') wall, $(awk -v r="${CPU[dg_rsa10]}" -v d="${CPU[dg]}" 'BEGIN{printf "%+.0f %%", (r-d)/d*100}') CPU ($(holds "$(awk -v r="${T[dg_rsa10]}" -v d="${T[dg]}" 'BEGIN{print ((r-d)/d < 0.30)}')")); the held key is \`${rsa_status:-missing}\`, $rsa_absent of the 9 others \`absent\`."
  echo "- The physical limit: reading the file takes $(ratio "${T[cat]}" "${T[dg]}") less time than the default scan."
  echo "- Shared machine: load average (1/5/15 min) ${load_start} before, ${load_end} after; a compiler ran at the start or"
  echo "  end of ${busy_total} timed runs."
} | tee -a "${RESULTS:-$(dirname "$0")/RESULTS.md}"
