"""Shared pieces of the gate's integration tests: a gate's directories, runs of `dumpguard gate`,
and the audit log read independently of dumpguard (JSON Lines, docs/commands/audit.md)."""
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time

import dgtest


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class GateDirs:
    """An inbox, release, quarantine, audit log and key under `root`; the gate makes the rest."""

    def __init__(self, root, release=None, text_rules=True):
        self.root = root
        self.inbox = os.path.join(root, "inbox")
        self.release = release or os.path.join(root, "release")
        self.quarantine = os.path.join(root, "quarantine")
        self.audit = os.path.join(root, "audit.jsonl")
        self.key = os.path.join(root, "audit.key")
        self.fp_key = os.path.join(root, "fingerprint.key")
        self.work = os.path.join(self.inbox, ".dumpguard-work")
        os.makedirs(self.inbox, exist_ok=True)
        # Without the built-in text rules a gate starts in a fraction of the time (compiling
        # them is most of a start, tenfold under ASan): for tests of the gate's machinery on
        # dumps whose keys other detectors find, or that hold none.
        self.rules = []
        if not text_rules:
            no_rules = os.path.join(root, "no-rules.toml")
            with open(no_rules, "w") as f:
                f.write("# no text rules\n")
            self.rules = ["--rules-only", "--rules", no_rules]
        with open(os.open(self.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(secrets.token_bytes(32))

    def args(self, *extra):
        return ["gate", "--inbox", self.inbox, "--release", self.release, "--quarantine", self.quarantine,
                "--audit", self.audit, "--audit-key", self.key, "--fingerprint-key", self.fp_key,
                "--settle", "0", "--poll", "0.2", *self.rules, *extra]

    def run_once(self, *extra, timeout=300):
        proc = subprocess.run([dgtest.DUMPGUARD, *self.args("--once", *extra)], capture_output=True, timeout=timeout)
        return proc.returncode, proc.stderr.decode(errors="replace")

    def start(self, *extra):
        return subprocess.Popen([dgtest.DUMPGUARD, *self.args(*extra)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)

    def deliver(self, source, name):
        """As a crash handler should: written under a dotfile name, then renamed in."""
        temp = os.path.join(self.inbox, "." + name + ".incoming")
        shutil.copyfile(source, temp)
        os.rename(temp, os.path.join(self.inbox, name))

    def records(self):
        """The audit log's records, parsed here (not by dumpguard)."""
        if not os.path.exists(self.audit):
            return []
        with open(self.audit, "rb") as f:
            lines = f.read().split(b"\n")
        return [json.loads(line)["record"] for line in lines if line]

    def verify(self):
        return dgtest.run_dumpguard("audit", "verify", self.audit, "--key", self.key, "--checkpoint",
                                    self.audit + ".checkpoint")

    def released(self):
        return sorted(n for n in os.listdir(self.release)) if os.path.isdir(self.release) else []

    def quarantined(self):
        return sorted(os.listdir(self.quarantine)) if os.path.isdir(self.quarantine) else []

    def inbox_entries(self):
        return sorted(n for n in os.listdir(self.inbox) if n != ".dumpguard-work")

    def claims(self):
        out = []
        if os.path.isdir(self.work):
            for instance in os.listdir(self.work):
                claims = os.path.join(self.work, instance, "claims")
                if os.path.isdir(claims):
                    out += os.listdir(claims)
        return out

    def reason(self, name):
        with open(os.path.join(self.quarantine, name, name + ".reason.json")) as f:
            return json.load(f)


def kill9(proc):
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    if proc.stderr:
        proc.stderr.close()


def wait_until(predicate, timeout=30, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False
