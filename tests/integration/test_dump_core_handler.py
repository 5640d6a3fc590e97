"""`dumpguard core-handler` as the kernel runs it: core_pattern pipes the core of a real process
(crash_holder: an RSA-2048 key and an AES-256 key made at run time, four threads) that is killed
with SIGSEGV into the handler.

What must not be in a core is decided here, independently of dumpguard: the RSA components (p, q,
d, dp, dq, qinv) in big-endian bytes and in little-endian limb order, and the AES key's bytes, each
whole in every encoding and in raw 16-byte pieces, are searched for in every file the handler
leaves; and they are found in a gcore of the same process, so the search can fail. The threads
are gdb's, compared with that unfiltered core. Quarantined cores are unsealed here with the
X25519 private key, following the format in src/handler/sealed_box.hpp.

The tests hold dgtest.CorePatternGuard: core_pattern and core_pipe_limit are saved, set, and put
back on every way out."""
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
import test_dump_redact  # noqa: E402  (rsa_components, gdb_threads)

from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey  # noqa: E402
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # noqa: E402
from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: E402

HOLDER = os.path.join(dgtest.PROGRAMS, "crash_holder")
SPECIFIERS = "%P %u %g %s %t %c %h %e %d %F"
PAGE = 4096


def read(path):
    with open(path, "rb") as f:
        return f.read()


def unseal(blob, private_key):
    """The plaintext of a sealed core, or an AssertionError when its tag does not verify."""
    assert blob[:4] == b"DGQ1", "not a sealed core"
    ephemeral, nonce, body, tag = blob[4:36], blob[36:52], blob[52:-32], blob[-32:]
    shared = private_key.exchange(X25519PublicKey.from_public_bytes(ephemeral))
    recipient = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    keys = HKDF(algorithm=hashes.SHA256(), length=64, salt=ephemeral + recipient,
                info=b"dumpguard sealed core v1").derive(shared)
    assert hmac.compare_digest(hmac.new(keys[32:], blob[:-32], "sha256").digest(), tag), "the seal's tag is wrong"
    decryptor = Cipher(algorithms.AES(keys[:32]), modes.CTR(nonce)).decryptor()
    return decryptor.update(body) + decryptor.finalize()


def lwps(program, core):
    """The LWP ids gdb lists for a core."""
    return sorted({int(n) for n in re.findall(r"\(LWP (\d+)\)", test_dump_redact.gdb_threads(program, core))})


def pages(data, starts=None):
    """SHA-256 of each 4 KiB page at the given offsets (default: every page-aligned offset) that
    is neither all zeros nor one byte repeated."""
    out = set()
    for at in starts if starts is not None else range(0, len(data) - PAGE + 1, PAGE):
        page = data[at:at + PAGE]
        if len(page) == PAGE and page.count(page[:1]) != PAGE:
            out.add(hashlib.sha256(page).digest())
    return out


def memory_pages(core):
    """The file offsets of the memory pages of an ELF core, from its PT_LOAD headers (read here):
    gdb's gcore does not align segments in the file as the kernel does, so pages are found
    through the headers, each segment starting at a page of memory."""
    import struct
    phoff, = struct.unpack_from("<Q", core, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", core, 0x36)
    starts = []
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", core, phoff + i * phentsize)
        if p_type == 1 and p_vaddr % PAGE == 0:
            starts += range(p_offset, p_offset + p_filesz - PAGE + 1, PAGE)
    return starts


class Holder:
    """A crash_holder with its keys, as the test knows them from the files it wrote."""

    def __init__(self, directory, tag):
        self.rsa_path = os.path.join(directory, f"{tag}.rsa.pem")
        self.aes_path = os.path.join(directory, f"{tag}.aes")
        # As a user would have it: core dumps on (bash's exec keeps the PID).
        self.live = dgtest.LiveProcess(["bash", "-c", f"ulimit -c unlimited; exec {HOLDER} {self.rsa_path} {self.aes_path}"])
        self.pid = self.live.pid

    def secrets(self):
        out = {}
        for name, value in test_dump_redact.rsa_components(self.rsa_path).items():
            be, le = dgtest.le_be_encodings(value)
            out[f"rsa {name} big-endian"] = be
            out[f"rsa {name} little-endian limbs"] = le
        out["aes-256 key"] = read(self.aes_path)
        return out

    def crash(self):
        os.kill(self.pid, signal.SIGSEGV)
        self.live.proc.wait(timeout=120)
        self.live.stop()


class CoreHandler(dgtest.DumpTestCase):
    @classmethod
    def setUpClass(cls):
        cls.guard = dgtest.CorePatternGuard()
        # Short paths: core_pattern holds at most 127 bytes.
        cls.base = tempfile.mkdtemp(prefix="dgch-", dir="/tmp")
        cls.dg = os.path.join(cls.base, "dg")
        os.symlink(dgtest.DUMPGUARD, cls.dg)
        cls.audit = os.path.join(cls.base, "audit.jsonl")
        cls.audit_key = os.path.join(cls.base, "audit.key")
        dgtest.run_dumpguard("audit", "keygen", "--hmac", "-o", cls.audit_key, check_exit=0)
        cls.quarantine_private = X25519PrivateKey.generate()
        cls.quarantine_key = os.path.join(cls.base, "quarantine.pub")
        with open(cls.quarantine_key, "wb") as f:
            f.write(cls.quarantine_private.public_key().public_bytes(serialization.Encoding.PEM,
                                                                      serialization.PublicFormat.SubjectPublicKeyInfo))
        cls.fingerprint_key = os.path.join(cls.base, "fingerprint.key")
        cls.configs = 0

    @classmethod
    def tearDownClass(cls):
        cls.guard.release()
        subprocess.run(["rm", "-rf", cls.base], check=False)

    def setUp(self):
        super().setUp()
        self.case = tempfile.mkdtemp(prefix="case-", dir=self.base)

    # --- helpers -------------------------------------------------------------------------
    def config(self, **settings):
        """A config file (0600) with [core-handler] as given plus the shared audit log, and its path."""
        type(self).configs += 1
        path = os.path.join(self.base, f"{self.configs}.toml")
        table = {"quarantine": os.path.join(self.case, "quarantine"), "quarantine-key": self.quarantine_key,
                 "work": os.path.join(self.case, "work"), "audit": self.audit, "audit-key": self.audit_key,
                 "audit-syslog": "off"}
        table.update(settings)
        lines = ["[core-handler]"]
        for key, value in table.items():
            lines.append(f"{key} = {json.dumps(value)}")
        lines += ["[scan]", f"fingerprint-key = {json.dumps(self.fingerprint_key)}"]
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def pipe_to(self, config, pipe_limit=None):
        line = f"|{self.dg} core-handler --config {config} -- {SPECIFIERS}"
        self.assertLessEqual(len(line), 127, line)
        self.guard.set(line, pipe_limit)

    def records(self):
        if not os.path.exists(self.audit):
            return []
        return [json.loads(line)["record"] for line in read(self.audit).split(b"\n") if line]

    def wait_record(self, pid, events=("core-released", "core-quarantined", "core-dropped"), timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for r in self.records():
                if r["event"] in events and r["data"].get("pid") == pid:
                    return r
            time.sleep(0.05)
        self.fail(f"no audit record for pid {pid} within {timeout} s")

    def assert_audit_sound(self):
        code, out, err = dgtest.run_dumpguard("audit", "verify", self.audit, "--key", self.audit_key, "--checkpoint",
                                              self.audit + ".checkpoint")
        self.assertEqual(code, 0, err.decode(errors="replace"))

    def assert_clean(self, data, secrets, what):
        hits = dgtest.find_secrets(data, secrets)
        self.assertEqual(hits, [], f"key material in {what}")

    def unfiltered(self, holder):
        """gcore of the live process: the core nobody filtered, to compare with."""
        core = dgtest.gcore(holder.pid, self.case)
        data = read(core)
        found = {name.split(" ")[1] for name, _, _ in dgtest.find_secrets(data, holder.secrets())}
        # The check below can fail: the unfiltered core holds the primes and the AES key.
        self.assertTrue({"p", "q", "key"} <= found, found)
        return core

    def decompress(self, path):
        # The record is written before the core is put in place: wait for it.
        self.assertTrue(dgtest_wait(lambda: os.path.exists(path)), f"{path} never appeared")
        out = path + ".core"
        subprocess.run(["zstd", "-q", "-d", path, "-o", out], check=True, timeout=120)
        return out

    def handler(self, *args, stdin=None):
        """The handler run directly, as the kernel would with these specifiers."""
        return subprocess.Popen([dgtest.DUMPGUARD, "core-handler", *args], stdin=stdin or subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/", env={})

    def direct_args(self, *extra):
        return ["--quarantine", os.path.join(self.case, "quarantine"), "--quarantine-key", self.quarantine_key,
                "--work", os.path.join(self.case, "work"), "--audit", self.audit, "--audit-key", self.audit_key,
                "--audit-syslog", "off", "--fingerprint-key", self.fingerprint_key, *extra]

    # --- the kernel's pipe -----------------------------------------------------------------
    def test_crash_is_stored_redacted_with_the_same_threads(self):
        store = os.path.join(self.case, "cores")
        self.pipe_to(self.config(store=store))
        holder = Holder(self.case, "a")
        unfiltered = self.unfiltered(holder)
        holder.crash()
        record = self.wait_record(holder.pid)
        self.assertEqual(record["event"], "core-released", record["data"])
        data = record["data"]
        self.assertEqual((data["to"], data["signal"], data["comm"]), ("store", signal.SIGSEGV, "crash_holder"))
        self.assertEqual(data["verification"], "clean")
        self.assertEqual(data["exe"], os.path.realpath(HOLDER))
        target = data["target"]
        self.assertTrue(dgtest_wait(lambda: os.path.exists(target)))
        self.assertEqual(os.listdir(store), [os.path.basename(target)])
        boot_id = read("/proc/sys/kernel/random/boot_id").decode().strip().replace("-", "")
        self.assertRegex(os.path.basename(target),
                         rf"^core\.crash_holder\.{os.getuid()}\.{boot_id}\.{holder.pid}\.\d+000000\.zst$")
        self.assertEqual(os.stat(target).st_mode & 0o777, 0o600)
        attrs = {a: os.getxattr(target, a).decode() for a in os.listxattr(target)}
        self.assertEqual(attrs["user.coredump.pid"], str(holder.pid))
        self.assertEqual(attrs["user.coredump.signal"], str(int(signal.SIGSEGV)))
        self.assertEqual(attrs["user.coredump.comm"], "crash_holder")
        self.assertEqual(attrs["user.coredump.exe"], os.path.realpath(HOLDER))
        core = self.decompress(target)
        self.assert_clean(read(core), holder.secrets(), "the stored core")
        self.assertEqual(len(lwps(HOLDER, unfiltered)), 4)
        self.assertEqual(lwps(HOLDER, core), lwps(HOLDER, unfiltered))
        dgtest.assert_no_secret({"audit log": read(self.audit)}, holder.secrets())
        self.assert_audit_sound()

    def test_next_handler_gets_only_the_redacted_core_with_the_original_arguments(self):
        recorder = os.path.join(self.case, "next-handler")
        argv_file, core_file = os.path.join(self.case, "next.argv"), os.path.join(self.case, "next.core")
        with open(recorder, "w") as f:
            f.write(f"#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > {argv_file}\n/bin/cat > {core_file}\n")
        os.chmod(recorder, 0o755)
        self.pipe_to(self.config(exec=[recorder]))
        holder = Holder(self.case, "b")
        unfiltered = self.unfiltered(holder)
        crash_time = int(time.time())
        holder.crash()
        record = self.wait_record(holder.pid)
        self.assertEqual((record["event"], record["data"]["to"]), ("core-released", "exec"), record["data"])
        deadline = time.time() + 60
        while not any(r["event"] == "core-next-handler" and r["data"]["core"] == record["data"]["core"]
                      for r in self.records()):
            self.assertLess(time.time(), deadline, "the next handler's end was not recorded")
            time.sleep(0.05)
        argv = read(argv_file).decode().split("\n")[:-1]
        # %P %u %g %s %t %c %h %e %d [%F], as the kernel passed them to dumpguard.
        self.assertIn(len(argv), (9, 10), argv)
        self.assertEqual(argv[:4], [str(holder.pid), str(os.getuid()), str(os.getgid()), str(int(signal.SIGSEGV))])
        self.assertLessEqual(abs(int(argv[4]) - crash_time), 5)
        self.assertEqual(argv[5], str(2**64 - 1))  # ulimit -c unlimited: RLIM_INFINITY
        self.assertEqual(argv[6:8], [os.uname().nodename, "crash_holder"])
        core = read(core_file)
        self.assertEqual(core[:4], b"\x7fELF")
        self.assertEqual(hashlib.sha256(core).hexdigest(), record["data"]["output"]["sha256"])
        self.assert_clean(core, holder.secrets(), "the next handler's stdin")
        self.assertEqual(lwps(HOLDER, core_file), lwps(HOLDER, unfiltered))
        self.assertEqual(os.listdir(os.path.join(self.case, "work")), ["scan.lock"], "staging left behind")
        self.assert_audit_sound()

    def test_core_beyond_the_memory_cap_is_spilled_encrypted(self):
        store = os.path.join(self.case, "cores")
        paused = os.path.join(self.case, "paused.pid")
        work = os.path.join(self.case, "work")
        self.pipe_to(self.config(store=store, **{"memory-cap": "64K", "pause-after-spool": paused}))
        holder = Holder(self.case, "c")
        unfiltered = read(self.unfiltered(holder))
        holder.crash()
        self.assertTrue(dgtest_wait(lambda: os.path.exists(paused)), "the handler did not pause after spooling")
        handler_pid = int(read(paused))
        try:
            self.assertTrue(dgtest_wait(lambda: proc_state(handler_pid) == "T"))
            spills = []
            for fd in os.listdir(f"/proc/{handler_pid}/fd"):
                target = os.readlink(f"/proc/{handler_pid}/fd/{fd}")
                if target.startswith(work + "/") and target.endswith("(deleted)"):
                    spills.append(read(f"/proc/{handler_pid}/fd/{fd}"))
            self.assertEqual(len(spills), 1, "one unnamed spill file in the work directory")
            spill = spills[0]
        finally:
            os.kill(handler_pid, signal.SIGCONT)
        record = self.wait_record(holder.pid)
        self.assertEqual(record["event"], "core-released", record["data"])
        received = record["data"]["received"]
        self.assertEqual(len(spill), received["spilled"])
        self.assertEqual(received["spilled"], received["size"] - 64 * 1024)
        # No page of the process's memory, as gcore saw it, is in the spill file.
        memory = pages(unfiltered, memory_pages(unfiltered))
        self.assertEqual(pages(spill) & memory, set(), "a plaintext page of the core is in the spill file")
        self.assert_clean(spill, holder.secrets(), "the spill file")
        stored = read(self.decompress(record["data"]["target"]))
        # The page comparison above can fail: the redacted core shares many pages with gcore's.
        self.assertGreater(len(pages(stored) & memory), 10)
        self.assert_clean(stored, holder.secrets(), "the stored core")
        self.assert_audit_sound()

    def test_more_crashes_at_once_than_core_pipe_limit(self):
        store = os.path.join(self.case, "cores")
        self.pipe_to(self.config(store=store), pipe_limit=2)
        holders = [Holder(self.case, f"m{i}") for i in range(5)]
        secrets = {}
        for h in holders:
            secrets.update({f"{h.pid} {k}": v for k, v in h.secrets().items()})
        for h in holders:
            os.kill(h.pid, signal.SIGSEGV)
        for h in holders:
            h.live.proc.wait(timeout=120)
            h.live.stop()
        pids = {h.pid for h in holders}
        # The kernel starts at most core_pipe_limit handlers at once and skips the others' cores
        # ("over core_pipe_limit"): wait until every crash is recorded or nothing changes for 3 s.
        last, quiet_since = None, time.time()
        while time.time() - quiet_since < 3:
            handled = [r for r in self.records() if r["data"].get("pid") in pids]
            if len(handled) == len(pids):
                break
            if len(handled) != last:
                last, quiet_since = len(handled), time.time()
            time.sleep(0.1)
        handled = [r for r in self.records() if r["data"].get("pid") in pids]
        self.assertGreaterEqual(len(handled), 2)
        self.assertEqual({r["event"] for r in handled}, {"core-released"})
        for r in handled:
            self.assert_clean(read(self.decompress(r["data"]["target"])), secrets, r["data"]["core"])
        self.assertEqual(sorted(os.path.basename(r["data"]["target"]) + ".core" for r in handled),
                         sorted(n for n in os.listdir(store) if n.endswith(".core")))
        self.assert_audit_sound()
        print(f"\n{len(handled)} of {len(pids)} simultaneous crashes reached the handler (core_pipe_limit 2)")

    # --- the handler run directly, for what the kernel cannot be made to do -------------------
    def test_garbage_on_stdin_is_quarantined_sealed_or_dropped(self):
        garbage = os.urandom(200_000) + b"not a core at all"
        for policy in ("quarantine", "drop"):
            proc = self.handler(*self.direct_args("--store", os.path.join(self.case, "cores"), "--on-failure", policy),
                                "--", "4242", "0", "0", "11", str(int(time.time())), str(2**64 - 1), "host", "garbage",
                                "1")
            out, err = proc.communicate(garbage, timeout=120)
            self.assertEqual(proc.returncode, 0, err)
            record = self.records()[-1]
            self.assertEqual(record["data"]["reason"], "not-an-elf-core")
            self.assertFalse(os.path.exists(os.path.join(self.case, "cores")))
            if policy == "quarantine":
                self.assertEqual(record["event"], "core-quarantined")
                self.assertEqual(unseal(read(record["data"]["target"]), self.quarantine_private), garbage)
            else:
                self.assertEqual(record["event"], "core-dropped")
                self.assertEqual(len(os.listdir(os.path.join(self.case, "quarantine"))), 1)
        self.assert_audit_sound()

    def test_deadline_exceeded_ends_as_the_policy_says(self):
        holder = Holder(self.case, "d")
        try:
            core = read(self.unfiltered(holder))
        finally:
            holder.live.stop()
        sent = core[: 300 * 1024]
        for pid, policy in ((4301, "quarantine"), (4302, "drop")):
            started = time.time()
            proc = self.handler(*self.direct_args("--store", os.path.join(self.case, "cores"), "--deadline", "1",
                                                  "--on-deadline", policy),
                                "--", str(pid), "0", "0", "11", str(int(started)), str(2**64 - 1), "host",
                                "crash_holder", "1")
            proc.stdin.write(sent)
            proc.stdin.flush()
            # The rest never comes: the handler must let go at the deadline, not at end of input.
            proc.wait(timeout=30)
            elapsed = time.time() - started
            _, err = proc.communicate()
            self.assertEqual(proc.returncode, 0, err)
            self.assertLess(elapsed, 10)
            record = self.wait_record(pid, events=("core-quarantined", "core-dropped"))
            self.assertEqual(record["data"]["reason"], "deadline")
            self.assertEqual(record["data"]["received"]["size"], len(sent))
            if policy == "quarantine":
                self.assertEqual(record["event"], "core-quarantined")
                self.assertEqual(unseal(read(record["data"]["target"]), self.quarantine_private), sent)
                os.unlink(record["data"]["target"])
            else:
                self.assertEqual(record["event"], "core-dropped")
                self.assertEqual(os.listdir(os.path.join(self.case, "quarantine")), [])
        self.assertFalse(os.path.exists(os.path.join(self.case, "cores")))
        self.assert_audit_sound()

    def test_inbox_gets_the_redacted_core_and_the_gate_releases_it(self):
        import gatetest
        holder = Holder(self.case, "i")
        try:
            core = read(self.unfiltered(holder))
        finally:
            holder.live.stop()
        g = gatetest.GateDirs(os.path.join(self.case, "gate"), text_rules=False)
        # The gate's audit log is the handler's too: one chain for both.
        g.audit, g.key = self.audit, self.audit_key
        proc = self.handler(*self.direct_args("--inbox", g.inbox), "--", str(holder.pid), "0", "0", "11",
                            str(int(time.time())), str(2**64 - 1), "host", "crash_holder", "1")
        _, err = proc.communicate(core, timeout=120)
        self.assertEqual(proc.returncode, 0, err)
        record = self.wait_record(holder.pid)
        self.assertEqual((record["event"], record["data"]["to"]), ("core-released", "inbox"), record["data"])
        name = os.path.basename(record["data"]["target"])
        self.assertEqual(g.inbox_entries(), [name])
        self.assert_clean(read(self.decompress(record["data"]["target"])), holder.secrets(), "the inbox's core")
        os.unlink(record["data"]["target"] + ".core")
        code, err = g.run_once()
        self.assertEqual(code, 0, err)
        self.assertEqual(g.released(), [name])
        self.assert_audit_sound()

    def test_queue_gets_the_redacted_core_and_one_worker_releases_it(self):
        """[core-handler] nats and shared-store: the kernel's core, redacted and verified here,
        is copied into the cluster's shared store and queued (natstest's real nats-server), and a
        gate worker releases it exactly once."""
        import test_cluster_nats
        c = test_cluster_nats.Cluster(os.path.join(self.case, "cluster"))
        self.queue_and_release(c, {"shared-store": c.shared})

    def test_queue_into_a_bucket(self):
        """The same with the shared store in an S3 bucket (test_cluster_s3.py's server, over TLS):
        the handler, which the kernel starts with no environment, signs with its credentials file."""
        import test_cluster_s3
        c = test_cluster_s3.S3Cluster(os.path.join(self.case, "cluster"))
        c.s3.start()
        try:
            self.queue_and_release(c, {"shared-store": c.store_args[1], "s3-endpoint": c.s3.endpoint,
                                       "s3-ca": c.s3.ca, "s3-credentials": c.credentials},
                                   {"the S3 secret": c.s3.secret})
        finally:
            c.s3.stop()

    def queue_and_release(self, c, store, secrets=None):
        """A core queued through the store `store` names, then released by one worker of `c`;
        neither the submitter's password nor `secrets` in the audit log."""
        c.server.start()
        try:
            c.init()
            self.pipe_to(self.config(nats=c.server.url("submitter"), **store))
            holder = Holder(self.case, "q")
            holder.crash()
            record = self.wait_record(holder.pid)
            self.assertEqual((record["event"], record["data"]["to"]), ("core-released", "queue"), record["data"])
            self.assertIn(store["shared-store"], record["data"]["target"])
            # The record is written before the core is put anywhere: wait for the queued copy,
            # then for the handler's staging copy to go.
            self.assertTrue(dgtest_wait(lambda: c.stored()), "the core never reached the shared store")
            self.assertTrue(dgtest_wait(lambda: os.listdir(os.path.join(self.case, "work")) == ["scan.lock"]),
                            "staging left behind")
            self.assertEqual(len(c.stored()), 1, "one redacted core in the shared store")
            sha256 = os.path.basename(c.stored()[0])
            worker = c.start_worker(0, once=True)
            self.assertEqual(worker.wait(timeout=300), 0, c.worker_logs().decode(errors="replace")[-3000:])
            released = os.listdir(c.release)
            name = os.path.basename(record["data"]["core"])
            self.assertEqual(released, [f"{sha256}-{name}.zst"], "released once, under its SHA-256's name")
            core = self.decompress(os.path.join(c.release, released[0]))
            self.assert_clean(read(core), holder.secrets(), "the released core")
            self.assertEqual(c.stored(), [])
            self.assertEqual(c.status()["dumps"]["released"], 1)
            code, said, _ = c.export_and_verify()
            self.assertEqual(code, 0, said)
            dgtest.assert_no_secret({"audit log": read(self.audit)},
                                    {"submitter's password": c.server.passwords["submitter"], **(secrets or {})})
        finally:
            c.stop_workers()
            c.server.stop()
        self.assert_audit_sound()

    def test_a_config_others_can_write_is_refused(self):
        config = self.config(store=os.path.join(self.case, "cores"))
        os.chmod(config, 0o622)
        proc = self.handler("--config", config, "--", "1", "0", "0", "11", "0", "0", "h", "c", "1")
        _, err = proc.communicate(b"\x7fELF", timeout=60)
        self.assertEqual(proc.returncode, 2)
        self.assertIn(b"writable by nobody else", err)

    # --- installing ----------------------------------------------------------------------------
    def test_install_and_uninstall_round_trip_core_pattern(self):
        previous = "core.%e.%p  odd value\twith a tab"
        self.guard.set(previous, pipe_limit=3)
        self.assertEqual(dgtest._read_sysctl("core_pattern"), previous)
        config = os.path.join(self.base, "h.toml")
        sysctl = os.path.join(self.case, "60-dumpguard.conf")
        code, line, err = dgtest.run_dumpguard("core-handler", "--config", config, "--print", check_exit=0)
        line = line.decode().strip()
        self.assertTrue(line.startswith(f"|{os.path.realpath(dgtest.DUMPGUARD)} core-handler --config {config} -- %P"))
        self.assertEqual(dgtest._read_sysctl("core_pattern"), previous, "--print changed core_pattern")
        self.assertFalse(os.path.exists(config))
        install = ["core-handler", "--config", config, "--install", "--sysctl-file", sysctl]
        dgtest.run_dumpguard(*install, "--store", os.path.join(self.case, "cores"), "--audit", self.audit,
                             "--audit-key", self.audit_key, check_exit=0)
        self.assertEqual(dgtest._read_sysctl("core_pattern"), line)
        self.assertEqual(dgtest._read_sysctl("core_pipe_limit"), "16")
        st = os.stat(config)
        self.assertEqual((st.st_mode & 0o777, st.st_uid), (0o600, 0))
        self.assertIn(f"kernel.core_pattern = {line}\n", read(sysctl).decode())
        # A second install keeps the handler found by the first, not dumpguard's own line.
        dgtest.run_dumpguard(*install, check_exit=0)
        dgtest.run_dumpguard("core-handler", "--config", config, "--uninstall", "--sysctl-file", sysctl, check_exit=0)
        self.assertEqual(dgtest._read_sysctl("core_pattern"), previous)
        self.assertEqual(dgtest._read_sysctl("core_pipe_limit"), "3")
        self.assertFalse(os.path.exists(sysctl))
        self.assertFalse(os.path.exists(config + ".previous"))
        # Nothing left to restore: a second uninstall says so and changes nothing.
        code, _, err = dgtest.run_dumpguard("core-handler", "--config", config, "--uninstall", "--sysctl-file", sysctl)
        self.assertEqual(code, 2)
        self.assertEqual(dgtest._read_sysctl("core_pattern"), previous)


class CoredumpScrub(dgtest.DumpTestCase):
    """dist/dumpguard-coredump-scrub, which a systemd-coredump@.service drop-in starts after each
    stored core (systemd is not PID 1 here, so the script is run as the unit would run it)."""

    def test_stored_cores_are_replaced_by_redacted_copies_or_moved_aside(self):
        cores = os.path.join(self.tmp, "coredump")
        state = os.path.join(self.tmp, "state")
        os.mkdir(cores)
        config = os.path.join(self.tmp, "dumpguard.toml")
        with open(config, "w") as f:
            f.write(f"[scan]\nfingerprint-key = {json.dumps(os.path.join(self.tmp, 'fp.key'))}\n")
        holder = Holder(self.tmp, "s")
        try:
            plain = dgtest.gcore(holder.pid, self.tmp)
        finally:
            holder.live.stop()
        self.assertNotEqual(dgtest.find_secrets(read(plain), holder.secrets()), [])
        good = os.path.join(cores, f"core.crash_holder.0.b00t.{holder.pid}.1700000000000000.zst")
        bad = os.path.join(cores, "core.bad.0.b00t.1.1700000000000000.zst")
        subprocess.run(["zstd", "-q", plain, "-o", good], check=True)
        subprocess.run(["zstd", "-q", "-o", bad], input=os.urandom(50_000), check=True)
        script = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "dist", "dumpguard-coredump-scrub")
        env = {"DUMPGUARD": dgtest.DUMPGUARD, "COREDUMP_DIR": cores, "DUMPGUARD_STATE": state,
               "DUMPGUARD_CONFIG": config, "PATH": "/usr/bin:/bin"}
        run = subprocess.run([script], env=env, capture_output=True, timeout=300)
        self.assertEqual(run.returncode, 1, run.stderr)  # one core could not be redacted
        self.assertEqual(os.listdir(cores), [os.path.basename(good)])
        self.assertEqual(os.listdir(os.path.join(state, "quarantine")), [os.path.basename(bad)])
        redacted = subprocess.run(["zstd", "-q", "-d", "-c", good], capture_output=True, check=True).stdout
        self.assertEqual(redacted[:4], b"\x7fELF")
        self.assertEqual(dgtest.find_secrets(redacted, holder.secrets()), [])
        # A second run finds nothing new and leaves the redacted core as it is.
        before = read(good)
        run = subprocess.run([script], env=env, capture_output=True, timeout=300)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(read(good), before)


def dgtest_wait(predicate, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def proc_state(pid):
    try:
        stat = read(f"/proc/{pid}/stat").decode()
    except OSError:
        return ""
    return stat[stat.rindex(")") + 2:].split(" ")[0]


if __name__ == "__main__":
    unittest.main()
