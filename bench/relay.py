#!/usr/bin/python3
"""The relay's throughput and the latency it adds per MiB of minidump, with several uploads at
once, on 127.0.0.1: a sink collector (Python's http.server, in its own process; it reads each
body and answers at once) takes each upload directly and through `dumpguard relay --upstream`.
The dumps are the real minidumps of tests/corpus (fullmem-normal.dmp, 0.2 MiB; fullmem-full.dmp,
107 MiB once decompressed), posted as Crashpad posts them (multipart, gzipped) and raw. For each:
the median time of one upload alone, direct and relayed (the difference is what the relay adds:
reading, inflating, the scan, the redacted copy and its rescan, gzip again, forwarding), and the
wall time of CONCURRENT clients each posting ROUNDS uploads at once through the relay.
Usage: bench/relay.py [BUILD_DIR]; CONCURRENT (default 4), ROUNDS (default 3). Appends the
figures, command and machine to bench/RESULTS.md."""
import gzip
import http.client
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
DG = os.path.join(BUILD, "dumpguard")
CONCURRENT = int(os.environ.get("CONCURRENT", "4"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
CORPUS = os.path.join(ROOT, "tests", "corpus", "minidumps")
SINK = r'''
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        while n > 0:
            n -= len(self.rfile.read(min(n, 1 << 20)))
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
'''
BOUNDARY = "---MultipartBoundary-benchbenchbenchbenchbenchbench01---"


def crashpad(dump):
    b = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="prod"\r\n\r\nbench\r\n'
         f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="upload_file_minidump"; filename="b.dmp"\r\n'
         f'Content-Type: application/octet-stream\r\n\r\n').encode() + dump + f"\r\n--{BOUNDARY}--\r\n".encode()
    return gzip.compress(b, compresslevel=6), {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                                               "Content-Encoding": "gzip"}


def post(port, body, headers):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t = time.perf_counter()
    conn.request("POST", "/submit", body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    conn.close()
    if resp.status != 200:
        raise SystemExit(f"HTTP {resp.status}")
    return time.perf_counter() - t


def start_relay(work, sink_port, *extra):
    """`dumpguard relay` forwarding to the sink, with its files in `work`: (process, port)."""
    if not os.path.exists(f"{work}/audit.key"):
        subprocess.run([DG, "audit", "keygen", "--hmac", "-o", f"{work}/audit.key"], check=True, capture_output=True)
    err = open(f"{work}/relay.err", "w+")
    relay = subprocess.Popen([DG, "relay", "--listen", "127.0.0.1:0", "--upstream", f"http://127.0.0.1:{sink_port}/submit",
                              "--quarantine", f"{work}/q", "--audit", f"{work}/audit.log", "--audit-key",
                              f"{work}/audit.key", "--audit-syslog", "off", "--fingerprint-key", f"{work}/fp.key",
                              "--max-upload", "256M", *extra], stderr=err)
    for _ in range(600):
        err.seek(0)
        text = err.read()
        if "listening on http://127.0.0.1:" in text:
            return relay, int(text.split("listening on http://127.0.0.1:", 1)[1].split(",", 1)[0])
        if relay.poll() is not None:
            break
        time.sleep(0.1)
    raise SystemExit("the relay did not start")


def peak_rss_mib(proc):
    with open(f"/proc/{proc.pid}/status") as f:
        return int([line for line in f if line.startswith("VmHWM:")][0].split()[1]) // 1024


def main():
    work = tempfile.mkdtemp(prefix="dg-relay-bench-")
    procs = []
    try:
        sink = subprocess.Popen([sys.executable, "-c", SINK], stdout=subprocess.PIPE, text=True)
        procs.append(sink)
        sink_port = int(sink.stdout.readline())
        relay, port = start_relay(work, sink_port, "--connections", str(max(4, CONCURRENT)))
        procs.append(relay)
        full = subprocess.run(["zstd", "-dc", os.path.join(CORPUS, "fullmem-full.dmp.zst")], capture_output=True,
                              check=True).stdout
        with open(os.path.join(CORPUS, "fullmem-normal.dmp"), "rb") as f:
            normal = f.read()
        rows = []
        for name, dump in (("fullmem-normal.dmp", normal), ("fullmem-full.dmp", full)):
            for shape in ("crashpad (multipart, gzip)", "raw"):
                body, headers = crashpad(dump) if shape.startswith("crashpad") else (
                    dump, {"Content-Type": "application/octet-stream"})
                mib = len(dump) / (1 << 20)
                direct = statistics.median(post(sink_port, body, headers) for _ in range(ROUNDS))
                relayed = statistics.median(post(port, body, headers) for _ in range(ROUNDS))
                times = []

                def client():
                    for _ in range(ROUNDS):
                        times.append(post(port, body, headers))

                t = time.perf_counter()
                threads = [threading.Thread(target=client) for _ in range(CONCURRENT)]
                for th in threads:
                    th.start()
                for th in threads:
                    th.join()
                wall = time.perf_counter() - t
                n = CONCURRENT * ROUNDS
                rows.append((name, f"{mib:.1f}", shape, len(body), direct, relayed, (relayed - direct) / mib,
                             n * mib / wall, n / wall, statistics.median(times), max(times)))
                print(rows[-1], flush=True)
        peak = peak_rss_mib(relay)
    finally:
        for p in procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGTERM)
                p.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    load = open("/proc/loadavg").read().split()[:3]
    out = [f"\n## The relay: throughput and latency added per MiB — {time.strftime('%Y-%m-%d')}\n",
           f"`bench/relay.py {os.path.relpath(BUILD, ROOT)}` (CONCURRENT={CONCURRENT}, ROUNDS={ROUNDS}) on "
           f"{platform.node()}: {os.cpu_count()} cores ({cpu}), Linux {platform.release()}; load average at the end "
           f"{' '.join(load)} (other builds were running: absolute figures are pessimistic). Each upload alone: median "
           f"of {ROUNDS}, direct to the sink and through the relay; then {CONCURRENT} clients at once, {ROUNDS} "
           f"uploads each, through the relay. Relay peak RSS over the run: {peak} MiB.\n",
           "| dump | MiB | shape | body bytes | direct, s | relayed, s | added per MiB, s | concurrent MiB/s | "
           "uploads/s | concurrent median, s | slowest, s |",
           "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        out.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:,} | {r[4]:.3f} | {r[5]:.3f} | {r[6]:.3f} | {r[7]:.1f} | "
                   f"{r[8]:.2f} | {r[9]:.3f} | {r[10]:.3f} |")
    with open(os.path.join(HERE, "RESULTS.md"), "a") as f:
        f.write("\n".join(out) + "\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()
