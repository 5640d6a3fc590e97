#!/usr/bin/python3
"""`dumpguard submit` into the two shared stores: a directory and an S3 bucket (bench/RESULTS.md).

  DG_BUILD_DIR=build bench/s3_store.py [--mib 1024] [--rounds 2]

One file of MIB MiB (random bytes, so that nothing compresses or dedupes) submitted ROUNDS
times to each store on a real nats-server, the S3 store being the tests' S3 server
(tests/integration/s3test.py: @20minutes/s3rver on Node.js, over TLS on 127.0.0.1, signatures
checked). Each round queues a new dump (one byte differs), so every round stores the whole
file. Wall time and the submitter's peak RSS (getrusage of the child): the S3 store streams the
file from disk twice (hash, then the signed PUT) and never holds it in memory. Appends the
figures, the command and the machine to bench/RESULTS.md."""
import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.abspath(os.environ.setdefault("DG_BUILD_DIR", os.path.join(HERE, os.pardir, "build")))
os.environ.setdefault("DUMPGUARD", os.path.join(BUILD, "dumpguard"))
os.environ.setdefault("DG_SOURCE_DIR", os.path.join(HERE, os.pardir))
sys.path.insert(0, os.path.join(HERE, os.pardir, "tests", "integration"))
import dgtest  # noqa: E402
import natstest  # noqa: E402
import s3test  # noqa: E402

dgtest.DUMPGUARD = os.path.abspath(os.environ["DUMPGUARD"])


def submit(args, log):
    """Wall seconds and the child's own peak RSS in MiB (wait4) of one `dumpguard submit`."""
    start = time.monotonic()
    with open(log, "ab") as out:
        proc = subprocess.Popen([dgtest.DUMPGUARD, "submit", *args], stdout=out, stderr=out)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"submit failed ({proc.returncode}): see {log}")
    return wall, usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2)
    o = parser.parse_args()
    root = tempfile.mkdtemp(prefix="dg-s3-bench-")
    nats, s3 = natstest.NatsServer(root), s3test.S3Server(root)
    try:
        nats.start()
        s3.start()
        code = subprocess.run([dgtest.DUMPGUARD, "cluster", "init", *nats.client_args("admin")], capture_output=True)
        assert code.returncode == 0, code.stderr
        shared = os.path.join(root, "shared")
        os.makedirs(shared)
        credentials = s3.credentials_file("s3.credentials")
        stores = {
            "directory": ["--shared-store", shared],
            "S3 (TLS, loopback)": ["--shared-store", f"s3://{s3.bucket}/bench", "--s3-endpoint", s3.endpoint,
                                   "--s3-ca", s3.ca, "--s3-credentials", credentials],
        }
        dump = os.path.join(root, "big.dmp")
        with open(dump, "wb") as f:
            for _ in range(o.mib):
                f.write(os.urandom(1 << 20))
        rows = []
        for name, store in stores.items():
            walls, peaks = [], []
            for _ in range(o.rounds):
                with open(dump, "r+b") as f:  # a new dump each round: the queue would dedupe it
                    f.write(os.urandom(16))
                wall, peak = submit([*nats.client_args("submitter"), *store, dump], os.path.join(root, "submit.log"))
                walls.append(wall)
                peaks.append(peak)
            walls.sort()
            rows.append((name, walls[len(walls) // 2], o.mib / walls[len(walls) // 2], max(peaks)))
        load = os.getloadavg()
        lines = [
            "",
            f"## `dumpguard submit` into a directory and into an S3 bucket: {o.mib} MiB — {time.strftime('%Y-%m-%d')}",
            "",
            f"`DG_BUILD_DIR={os.path.relpath(BUILD)} bench/s3_store.py --mib {o.mib} --rounds {o.rounds}` on "
            f"{platform.node()}: {os.cpu_count()} cores, Linux {platform.release()}; load average at the end "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}. One file of random bytes, a new dump each round (upper median "
            "of the rounds); the S3 server is the tests' (@20minutes/s3rver on Node.js, TLS on 127.0.0.1, "
            "signatures checked), writing to the same disk.",
            "",
            "| store | wall, s | MiB/s | submitter peak RSS, MiB |",
            "| --- | ---: | ---: | ---: |",
        ]
        lines += [f"| {name} | {wall:.2f} | {rate:.0f} | {peak:.1f} |" for name, wall, rate, peak in rows]
        text = "\n".join(lines) + "\n"
        print(text)
        with open(os.path.join(HERE, "RESULTS.md"), "a") as f:
            f.write(text)
    finally:
        s3.stop()
        nats.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
