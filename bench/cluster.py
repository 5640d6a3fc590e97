#!/usr/bin/python3
"""Cluster throughput and crash runs on a real nats-server (bench/RESULTS.md).

  DUMPGUARD=build/dumpguard bench/cluster.py [--dumps 50] [--kills 20] [--text-rules]

For 1, 2 and 4 workers on one queue: DUMPS distinct corpus minidumps (half with a planted
Ed25519 key, as tests/integration/test_cluster_nats.py makes them) submitted, workers started
with --once, wall time until the last exits; then one run with two workers killed with SIGKILL
KILLS times at random moments and the server restarted once, checked for every dump released
exactly once and the audit stream verifying as one chain. Appends a section to bench/RESULTS.md."""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir, "tests", "integration"))
os.environ.setdefault("DUMPGUARD", os.path.join(HERE, os.pardir, "build", "dumpguard"))
import dgtest  # noqa: E402
import test_cluster_nats as t  # noqa: E402

dgtest.DUMPGUARD = os.path.abspath(os.environ["DUMPGUARD"])


def with_cluster(body, text_rules):
    root = tempfile.mkdtemp(prefix="dg-cluster-bench-")
    c = t.Cluster(root)
    if text_rules:
        os.remove(c.no_rules)
        open(c.no_rules, "w").close()
    c.server.start()
    try:
        c.init()
        return body(c)
    finally:
        c.stop_workers()
        c.server.stop()
        shutil.rmtree(root, ignore_errors=True)


def args_for(c, text_rules):
    if not text_rules:
        return
    plain = c.worker_args

    def without_rules(number, once):
        a = plain(number, once)
        i = a.index("--rules-only")
        return a[:i] + a[i + 3:]
    c.worker_args = without_rules


def throughput(n_workers, n_dumps, text_rules):
    def body(c):
        args_for(c, text_rules)
        paths = c.make_dumps(n_dumps, "t")
        c.submit(paths)
        start = time.monotonic()
        for w in range(n_workers):
            c.start_worker(w, once=True)
        for proc in c.workers.values():
            if proc.wait(timeout=3600) != 0:
                raise SystemExit(c.worker_logs().decode(errors="replace")[-3000:])
        wall = time.monotonic() - start
        released = len(os.listdir(c.release))
        assert released == n_dumps, f"{released} of {n_dumps} released"
        code, said, records = c.export_and_verify()
        assert code == 0, said
        return wall, len(records)
    return with_cluster(body, text_rules)


def kill_run(n_dumps, n_kills, text_rules):
    def body(c):
        args_for(c, text_rules)
        paths = c.make_dumps(n_dumps, "k")
        c.submit(paths)
        rng = random.Random()
        c.start_worker(0)
        c.start_worker(1)
        kills = 0
        restarted = False
        start = time.monotonic()
        while True:
            d = c.status()["dumps"]
            if d["released"] + d["quarantined"] + d["failed"] >= n_dumps:
                break
            if time.monotonic() - start > 3600:
                raise SystemExit("no verdict for every dump within an hour")
            time.sleep(rng.uniform(0.05, 1.0))
            if kills < n_kills:
                victim = rng.choice([0, 1])
                os.kill(c.workers[victim].pid, signal.SIGKILL)
                c.workers[victim].wait(timeout=10)
                kills += 1
                c.start_worker(victim)
            elif not restarted:
                c.server.restart()
                restarted = True
        wall = time.monotonic() - start
        c.stop_workers()
        released = sorted(os.listdir(c.release))
        expected = sorted(f"{t.sha256_of(p)}-{os.path.basename(p)}" for p in paths)
        assert released == expected, "not every dump released exactly once"
        for name in released:
            data = t.read(os.path.join(c.release, name))
            assert not any(s in data for s in c.secrets), f"{name}: a planted key was released"
        code, said, records = c.export_and_verify()
        assert code == 0, said
        redone = c.worker_logs().count(b"released to") - n_dumps
        return wall, kills, restarted, len(records), redone
    return with_cluster(body, text_rules)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dumps", type=int, default=50)
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--text-rules", action="store_true", help="workers load the built-in text rules")
    p.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    a = p.parse_args()
    size = os.path.getsize(t.SOURCE)
    load = open("/proc/loadavg").read().split()[0]
    rows = []
    for n in (1, 2, 4):
        wall, records = throughput(n, a.dumps, a.text_rules)
        rows.append((n, wall, records))
        print(f"{n} workers: {a.dumps} dumps in {wall:.1f} s", flush=True)
    wall, kills, restarted, records, redone = kill_run(a.dumps, a.kills, a.text_rules)
    print(f"kill run: {kills} kills, server restarted {restarted}, {wall:.1f} s, {redone} redone", flush=True)
    with open(a.results, "a") as f:
        f.write(f"\n## Cluster on NATS JetStream: {a.dumps} minidumps of {size // 1024} KiB — {time.strftime('%Y-%m-%d')}\n\n")
        f.write(f"`bench/cluster.py --dumps {a.dumps} --kills {a.kills}{' --text-rules' if a.text_rules else ''}`: "
                f"a real nats-server on loopback (file storage), the shared store, release and quarantine "
                f"on one local disk; workers with --once, wall time from the first start to the last exit "
                f"(each worker's start included). Load average when it began: {load} (2 cores, shared).\n\n")
        f.write("| workers | wall | dumps/s | audit records |\n| --- | --- | --- | --- |\n")
        for n, w, r in rows:
            f.write(f"| {n} | {w:.1f} s | {a.dumps / w:.2f} | {r} |\n")
        f.write(f"\nKill run: two workers, {kills} SIGKILLs at random moments (each worker restarted at "
                f"once), the server restarted once{'' if restarted else ' (not reached)'}: every dump released "
                f"exactly once, no planted key in release, the exported stream verifies as one chain of "
                f"{records} records; {redone} dumps were redone after a kill and published under the name "
                f"they already had; {wall:.1f} s.\n")


if __name__ == "__main__":
    main()
