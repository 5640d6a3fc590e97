# Shared by the bench scripts (sourced, not run). They need $BUILD, $MIB and $work set, and a
# cleanup trap that kills "$pid" when it is set.

# make_core NAME [HELD_DIR]: starts bench/large_process (MIB MiB of realistic heap; with
# HELD_DIR it also holds keys and writes their public halves there), dumps it with gcore under
# a file-size limit, stops it, and sets $core to the core's path. NAME labels errors.
make_core() {
  local name=$1
  shift
  mkfifo "$work/in"
  "$BUILD/bench/large_process" "$MIB" "$@" <"$work/in" >"$work/out" &
  pid=$!
  exec 3>"$work/in"
  for _ in $(seq 600); do grep -q ready "$work/out" 2>/dev/null && break; sleep 0.2; done
  grep -q ready "$work/out" || { echo "$name: large_process did not get ready" >&2; exit 1; }
  ( ulimit -f $((MIB * 1024 + 1000000)); gcore -o "$work/core" "$pid" >/dev/null 2>&1 )
  kill "$pid"; pid=""
  exec 3>&-
  core=$(ls "$work"/core.* | head -1)
}
