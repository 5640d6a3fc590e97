#!/usr/bin/env bash
# Hunt throughput against the number of supplied keys (the goal: ten RSA moduli add under 30%), on one large
# real core made here: bench/large_process fills SIZE MiB of heap and, given a directory, also
# holds an RSA-2048 key, a P-256 key and an HS256 secret with a JWT it signed, and writes only
# their public halves (rsa.pub.pem, ec.pub.pem, token.txt). gcore dumps it. Keys and tokens the
# process never held are then made here (`openssl genpkey`, piped straight to `openssl pkey
# -pubout`, so no private key touches the disk; the extra HMAC secrets live only inside one
# python process). On the same page-cached core in the same run, `dumpguard scan` is timed
# blind and with 1/10/100 RSA moduli, 1/10 EC keys and 10 tokens supplied, and each JSON report
# is checked: the held keys and token must be "present", every other one "absent".
# Usage: bench/hunt.sh [BUILD_DIR] [MiB]. Appends the figures, command and machine to bench/RESULTS.md.
set -euo pipefail
BUILD=${1:-build}
MIB=${2:-1024}
RUNS=${RUNS:-3}  # override only to debug the script
DG="$BUILD/dumpguard"
CONFIGS=(blind rsa1 rsa10 rsa100 ec1 ec10 tok10)
umask 077
# The runs go in rounds, one run of every configuration per round, so that a build starting or
# stopping beside us (the machine may be shared) falls on every configuration alike.
# HUNT_DIR=DIR keeps the work (the core, the public keys and tokens, every run's figures) in
# DIR instead of a temporary directory, so that a long run can be split across invocations on
# the same core: each one does at most HUNT_ROUNDS rounds (default: all that are left), and
# the section is appended once RUNS rounds are done. DIR then holds a core full of private
# keys: delete it afterwards.
pid=""
if [[ -n "${HUNT_DIR:-}" ]]; then
  work=$HUNT_DIR
  mkdir -p "$work"
  if [[ ! -e "$work/.dg-hunt" && -n "$(ls -A "$work")" ]]; then
    echo "hunt.sh: $work is not empty and was not made by hunt.sh" >&2
    exit 2
  fi
  chmod 700 "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/dg-hunt.XXXXXX")
fi
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; fi
  if [[ -z "${HUNT_DIR:-}" ]]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ ! -s "$work/meta" ]]; then  # make the core and the keys (again, if an earlier attempt stopped)
find "$work" -mindepth 1 -delete
touch "$work/.dg-hunt"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir "$work/held"
source "$(dirname "$0")/lib.sh"
make_core hunt.sh "$work/held"
cat "$core" >/dev/null  # page-cache the file: we measure the tools, not the disk

# Public keys the process never held. The held key comes first in every bundle.
fp_of() { openssl pkey -pubin -in "$1" -outform DER | sha256sum | awk '{print "sha256:" $1}'; }
gen_pub() { openssl genpkey "$@" 2>/dev/null | openssl pkey -pubout; }
t0=$(date +%s)
cp "$work/held/rsa.pub.pem" "$work/rsa1.pem"
cp "$work/held/rsa.pub.pem" "$work/rsa10.pem"
cp "$work/held/rsa.pub.pem" "$work/rsa100.pem"
for i in $(seq 99); do
  gen_pub -algorithm RSA -pkeyopt rsa_keygen_bits:2048 >"$work/other.pem"
  ((i <= 9)) && cat "$work/other.pem" >>"$work/rsa10.pem"
  cat "$work/other.pem" >>"$work/rsa100.pem"
done
cp "$work/held/ec.pub.pem" "$work/ec1.pem"
cp "$work/held/ec.pub.pem" "$work/ec10.pem"
for _ in $(seq 9); do gen_pub -algorithm EC -pkeyopt ec_paramgen_curve:P-256 >>"$work/ec10.pem"; done
rm -f "$work/other.pem"
# Nine HS256 tokens signed with fresh 32-byte secrets that exist only inside this python.
cp "$work/held/token.txt" "$work/tokens10.txt"
/usr/bin/python3 - >>"$work/tokens10.txt" <<'EOF'
import base64, hmac, hashlib, json, secrets, time
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
for i in range(1, 10):
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64(json.dumps({"sub": f"bench-other-{i}", "iss": "hunt.sh", "iat": int(time.time())},
                          separators=(",", ":")).encode())
    signed = f"{head}.{body}"
    key = secrets.token_bytes(32)
    print(f"{signed}.{b64(hmac.new(key, signed.encode(), hashlib.sha256).digest())}")
    del key
EOF
t_keygen=$(($(date +%s) - t0))
held_rsa=$(fp_of "$work/held/rsa.pub.pem")
held_ec=$(fp_of "$work/held/ec.pub.pem")
[[ $(grep -c 'BEGIN PUBLIC KEY' "$work/rsa100.pem") == 100 && $(grep -c 'BEGIN PUBLIC KEY' "$work/ec10.pem") == 10 &&
   $(wc -l <"$work/tokens10.txt") == 10 ]] || { echo "hunt.sh: could not make the extra keys" >&2; exit 1; }
printf 'made_mib=%q\nload_start=%q\nt_keygen=%q\nheld_rsa=%q\nheld_ec=%q\n' \
  "$MIB" "$load_start" "$t_keygen" "$held_rsa" "$held_ec" >"$work/meta"
fi  # made the core and the keys
made_mib=""
# shellcheck source=/dev/null
source "$work/meta"
[[ "$made_mib" == "$MIB" ]] || { echo "hunt.sh: $work holds a $made_mib MiB core, not $MIB" >&2; exit 1; }
core=$(ls "$work"/core.* | head -1)
size=$(stat -c %s "$core")
cat "$core" >/dev/null

# One run of configuration NAME: appends "wall_seconds max_rss_kb cpu_seconds busy" to
# $work/NAME.runs and keeps the JSON report in $work/NAME.json. CPU is user+system time, which
# a build running beside us disturbs least; busy is 1 when a compiler (gcc or clang) ran at the
# run's start or end. Exit 1 (findings) is not a failure here; exit 2 is.
compiling() { pgrep -x 'cc1|cc1plus|clang|clang\+\+|clang-[0-9]+|ld|ld\.gold|ld\.lld' >/dev/null 2>&1; }
once() {
  local name=$1; shift
  local rc=0 busy=0
  compiling && busy=1
  /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$DG" scan --json --fingerprint-key "$work/fp.key" "$@" "$core" \
    >"$work/$name.json" 2>"$work/stderr" || rc=$?
  compiling && busy=1
  if ((rc > 1)); then echo "hunt.sh: $name: exit $rc" >&2; cat "$work/stderr" >&2; exit 1; fi
  tail -1 "$work/time" | awk -v busy="$busy" '{ printf "%s %s %.2f %d\n", $1, $2, $3 + $4, busy }' >>"$work/$name.runs"
  echo "hunt.sh: $name: $(tail -1 "$work/$name.runs")" >&2
}
runs_of() { if [[ -e "$work/$1.runs" ]]; then wc -l <"$work/$1.runs"; else echo 0; fi; }
args_of() {  # sets args[] for configuration $1
  case $1 in
    blind) args=() ;;
    rsa1 | rsa10 | rsa100 | ec1 | ec10) args=(--pubkey "$work/$1.pem") ;;
    tok10) args=(--token "@$work/tokens10.txt") ;;
  esac
}
mbps() { awk -v s="$size" -v t="$1" 'BEGIN { if (t > 0) printf "%.0f", s / 1048576 / t; else print "-" }'; }
overhead() { awk -v t="$1" -v b="$2" 'BEGIN { printf "%+.0f %%", (t - b) / b * 100 }'; }

rounds=${HUNT_ROUNDS:-$RUNS}
for ((r = 0; r < rounds; ++r)); do
  cat "$core" >/dev/null
  for n in "${CONFIGS[@]}"; do
    if (($(runs_of "$n") < RUNS)); then
      args_of "$n"
      once "$n" "${args[@]}"
    fi
  done
done
for n in "${CONFIGS[@]}"; do
  if (($(runs_of "$n") < RUNS)); then
    echo "hunt.sh: $(runs_of "$n") of $RUNS rounds done; run again with HUNT_DIR=$work" >&2
    exit 0
  fi
done

# Per configuration: T and RSS of the median wall time, CPU (median CPU time), BUSY (runs beside
# a compiler) and ALL (every wall time, sorted).
declare -A T RSS CPU BUSY ALL
median_of() { sort -n | sed -n "$(((RUNS + 1) / 2))p"; }
for n in "${CONFIGS[@]}"; do
  read -r "T[$n]" "RSS[$n]" _ < <(head -"$RUNS" "$work/$n.runs" | sort -n | median_of)
  CPU[$n]=$(head -"$RUNS" "$work/$n.runs" | awk '{print $3}' | median_of)
  BUSY[$n]=$(head -"$RUNS" "$work/$n.runs" | awk '{ b += $4 } END { print b + 0 }')
  ALL[$n]=$(head -"$RUNS" "$work/$n.runs" | awk '{print $1}' | sort -n | paste -sd/ | sed 's#/# / #g')
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
busy_runs=0
for n in "${CONFIGS[@]}"; do busy_runs=$((busy_runs + BUSY[$n])); done

# The reports must say "present" for the held key or token and "absent" for every other one.
warnings=()
check_keys() {  # NAME HELD_FINGERPRINT COUNT
  local got
  got=$(jq -r --arg held "$2" '[.supplied[] | if .fingerprint == $held then "held:" + .status else .status end]
        | group_by(.) | map("\(length) \(.[0])") | join(", ")' "$work/$1.json") || got="(unreadable report)"
  local want="1 held:present"
  (($3 > 1)) && want="$(($3 - 1)) absent, 1 held:present"
  [[ "$got" == "$want" ]] || warnings+=("**Warning:** $1: expected the held key present and $(($3 - 1)) others absent; the report says: $got.")
}
check_keys rsa1 "$held_rsa" 1
check_keys rsa10 "$held_rsa" 10
check_keys rsa100 "$held_rsa" 100
check_keys ec1 "$held_ec" 1
check_keys ec10 "$held_ec" 10
tok=$(jq -r '[.supplied_tokens[] | .status] | join(",")' "$work/tok10.json") || tok="(unreadable report)"
[[ "$tok" == "present$(printf ',absent%.0s' $(seq 9))" ]] ||
  warnings+=("**Warning:** tok10: expected the held token (first) present and 9 others absent; the report says (in order): $tok.")
# What the blind scan itself found, from the held keys (no secret bytes: kinds and counts).
blind_found=$(jq -r '[.findings[] | "\(.detector)/\(.kind)"] | group_by(.) | map("\(length) \(.[0])") | join(", ")' "$work/blind.json")

row() {  # NAME LABEL SUPPLIED
  local n=$1
  local ov="—" ov_cpu="—"
  if [[ $n != blind ]]; then
    ov=$(overhead "${T[$n]}" "${T[blind]}")
    ov_cpu=$(overhead "${CPU[$n]}" "${CPU[blind]}")
  fi
  echo "| $2 | $3 | ${T[$n]} s | ${ALL[$n]} | $(mbps "${T[$n]}") MiB/s | $ov | ${CPU[$n]} s | $ov_cpu | ${BUSY[$n]} of $RUNS | $((${RSS[$n]} / 1024)) MiB |"
}
holds() { awk -v t="$1" -v b="$2" 'BEGIN { print ((t - b) / b * 100 < 30) ? "holds" : "does not hold" }'; }
model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
{
  echo
  echo "## Hunt throughput against the number of keys, real ${MIB} MiB-heap core ($((size / 1048576)) MiB) — $(date -u +%Y-%m-%d)"
  echo
  echo "Machine: ${model}, $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr)."
  echo "Command: \`bench/hunt.sh $BUILD $MIB\`. Each row: \`dumpguard scan --json --fingerprint-key FP CORE\` plus what"
  echo "it supplies, $RUNS runs, the median shown; core page-cached; the keys and the token the process held come"
  echo "first in each bundle, the others were made by the script (${t_keygen} s) and never held."
  echo
  echo "| scan | supplied | wall time | all runs (s) | throughput | vs blind | CPU time | CPU vs blind | runs beside a build | peak RSS |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  row blind "blind (baseline)" "nothing"
  row rsa1 "1 RSA modulus" "\`--pubkey\` bundle: the held RSA-2048 key"
  row rsa10 "10 RSA moduli" "\`--pubkey\` bundle: held + 9 others"
  row rsa100 "100 RSA moduli" "\`--pubkey\` bundle: held + 99 others"
  row ec1 "1 EC key" "\`--pubkey\` bundle: the held P-256 key"
  row ec10 "10 EC keys" "\`--pubkey\` bundle: held + 9 others"
  row tok10 "10 tokens" "\`--token @FILE\`: the held HS256 JWT + 9 others"
  echo
  echo "Notes on this run:"
  echo "- Goal: ten RSA moduli add less than 30% to the blind scan's time. In wall time this"
  echo "  **$(holds "${T[rsa10]}" "${T[blind]}")** here ($(overhead "${T[rsa10]}" "${T[blind]}")); in CPU time it" \
    "**$(holds "${CPU[rsa10]}" "${CPU[blind]}")** ($(overhead "${CPU[rsa10]}" "${CPU[blind]}"))."
  if ((BUSY[blind] + BUSY[rsa10] > 0)); then
    echo "  Some of these runs had a build beside them, so the margins are indicative; CPU time is the steadier figure."
  fi
  if ((${#warnings[@]} == 0)); then
    echo "- Reports checked: the held RSA and EC keys and the held token are \`present\`, every other supplied key"
    echo "  and token \`absent\`, in every configuration."
  else
    for w in "${warnings[@]}"; do echo "- $w"; done
  fi
  echo "- The blind scan's own findings, by detector/kind (the process holds the keys, and its JWT is harvested" \
    "from the dump): ${blind_found:-none}." | fold -s -w 104 | sed -e 's/ *$//' -e '2,$s/^/  /'
  echo "- Shared machine: another build may have been running. Load average (1/5/15 min) ${load_start} before,"
  echo "  ${load_end} after; a compiler (gcc or clang) was running at the start or the end of ${busy_runs} of $((${#CONFIGS[@]} * RUNS)) timed runs."
} | tee -a bench/RESULTS.md
