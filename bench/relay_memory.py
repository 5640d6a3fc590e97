#!/usr/bin/python3
"""The relay's peak memory (VmHWM), each case in a relay of its own so that each figure is that
case's peak: idle; holding SLOW connections at once whose clients sent part of a request head
and then nothing (with the time a good 0.2 MiB upload took meanwhile); and one upload of the
107 MiB minidump of tests/corpus (fullmem-full.dmp), as Crashpad posts it (multipart, gzipped)
and raw. On 127.0.0.1, to the sink collector of bench/relay.py.
Usage: bench/relay_memory.py [BUILD_DIR] [LABEL]; SLOW (default 1000). Appends the figures,
command and machine to bench/RESULTS.md."""
import asyncio
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import relay as bench  # noqa: E402  (bench/relay.py: the sink, starting a relay, Crashpad's body, post)

LABEL = sys.argv[2] if len(sys.argv) > 2 else ""
SLOW = int(os.environ.get("SLOW", "1000"))


def threads_of(proc):
    with open(f"/proc/{proc.pid}/status") as f:
        return int([line for line in f if line.startswith("Threads:")][0].split()[1])


def hold_slow_clients(port, proc, good):
    """SLOW connections that sent a request line and one header, then a good upload: its time."""
    async def scenario():
        writers = []
        for _ in range(SLOW):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /submit HTTP/1.1\r\nHost: x\r\n")
            writers.append(writer)
        base = threads_of(proc) - len(writers)
        while threads_of(proc) < base + SLOW:
            await asyncio.sleep(0.01)
        seconds = await asyncio.to_thread(bench.post, port, good, {"Content-Type": "application/octet-stream"})
        for w in writers:
            w.close()
        return seconds
    return asyncio.run(scenario())


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, SLOW + 256)), hard))
    full = subprocess.run(["zstd", "-dc", os.path.join(bench.CORPUS, "fullmem-full.dmp.zst")], capture_output=True,
                          check=True).stdout
    with open(os.path.join(bench.CORPUS, "fullmem-normal.dmp"), "rb") as f:
        normal = f.read()
    gz_body, gz_headers = bench.crashpad(full)
    cases = [
        ("idle", lambda port, proc: None),
        (f"{SLOW} slow clients held, and a good upload", lambda port, proc: hold_slow_clients(port, proc, normal)),
        ("one 107 MiB upload, multipart and gzip", lambda port, proc: bench.post(port, gz_body, gz_headers)),
        ("one 107 MiB upload, raw", lambda port, proc: bench.post(port, full, {"Content-Type": "application/octet-stream"})),
    ]
    sink = subprocess.Popen([sys.executable, "-c", bench.SINK], stdout=subprocess.PIPE, text=True)
    rows = []
    try:
        sink_port = int(sink.stdout.readline())
        for name, action in cases:
            work = tempfile.mkdtemp(prefix="dg-relay-memory-")
            relay, port = bench.start_relay(work, sink_port, "--header-timeout", "60", "--max-connections",
                                            str(SLOW + 16))
            try:
                seconds = action(port, relay)
                rows.append((name, bench.peak_rss_mib(relay), seconds))
                print(rows[-1], flush=True)
            finally:
                os.kill(relay.pid, signal.SIGTERM)
                relay.wait(timeout=60)
                shutil.rmtree(work, ignore_errors=True)
    finally:
        os.kill(sink.pid, signal.SIGTERM)
        sink.wait(timeout=30)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    load = open("/proc/loadavg").read().split()[:3]
    out = [f"\n## The relay's peak memory{' (' + LABEL + ')' if LABEL else ''} — {time.strftime('%Y-%m-%d')}\n",
           f"`bench/relay_memory.py {os.path.relpath(bench.BUILD, bench.ROOT)}` (SLOW={SLOW}) on {platform.node()}: "
           f"{os.cpu_count()} cores ({cpu}), Linux {platform.release()}; load average at the end {' '.join(load)}. "
           "Each case in a relay of its own; peak RSS is the relay's VmHWM after the case.\n",
           "| case | peak RSS, MiB | good upload's time, s |", "| --- | ---: | ---: |"]
    for name, peak, seconds in rows:
        out.append(f"| {name} | {peak} | {'' if seconds is None or name.startswith('one') else f'{seconds:.3f}'} |")
    with open(os.path.join(bench.HERE, "RESULTS.md"), "a") as f:
        f.write("\n".join(out) + "\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()
