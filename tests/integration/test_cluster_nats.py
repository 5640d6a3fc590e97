"""The gate scaled out on NATS JetStream (docs/cluster.md), against a real nats-server started
here (natstest.py) with the accounts and permissions a deployment uses: workers on one queue
release each dump exactly once, redacted and verified, with the audit stream one chain; workers
killed with SIGKILL and a server restarted lose nothing and release nothing twice, and what a
dead worker left in its work directory is removed by the others; a worker cannot purge, delete
or shrink the audit stream. Against a server in operator mode over TLS only, every command
connects with its .creds file and the test's CA, and a worker without them fails closed.

The dumps are copies of the corpus's dbghelp minidump, each made distinct here, half of them with
an Ed25519 PKCS#8 key generated here planted into its largest memory range. What was released is
checked here, not by dumpguard: no byte run of a planted key is in any released file."""
import hashlib
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

import dgtest
import natstest

# The sizes the cluster is proven at: 25 then 25 dumps, 20 kills. The sanitizer build, whose
# workers are several times slower, runs the same paths at a fifth of them; the Release build
# runs them whole.
SANITIZED = os.environ.get("DG_SANITIZE", "OFF").upper() not in ("", "OFF", "0", "FALSE", "NO")
DUMPS_PER_ROUND = 5 if SANITIZED else 25
KILLS = 4 if SANITIZED else 20

SOURCE = os.path.join(dgtest.MINIDUMPS, "fullmem-normal.dmp")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sha256_of(path):
    return hashlib.sha256(read(path)).hexdigest()


class Cluster:
    """A server, a shared store, release and quarantine, an audit key, and workers."""

    def __init__(self, root, server_class=natstest.NatsServer):
        self.root = root
        self.server = server_class(root)
        self.shared = os.path.join(root, "shared")
        self.release = os.path.join(root, "release")
        self.quarantine = os.path.join(root, "quarantine")
        self.work = os.path.join(root, "work")
        self.key = os.path.join(root, "audit.key")
        self.fp_key = os.path.join(root, "fingerprint.key")
        self.no_rules = os.path.join(root, "no-rules.toml")
        os.makedirs(self.shared)
        os.makedirs(self.work, mode=0o700)
        # How submitters and workers name the shared store (test_cluster_s3.py: a bucket instead).
        self.store_args = ["--shared-store", self.shared]
        with open(os.open(self.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(secrets.token_bytes(32))
        # The planted keys are found by the DER detector: without the built-in text rules a
        # worker starts in a fraction of the time.
        with open(self.no_rules, "w") as f:
            f.write("# no text rules\n")
        self.workers = {}
        self.starts = {}
        self.outputs = []
        self.secrets = []

    def run(self, *args, timeout=120):
        proc = subprocess.run([dgtest.DUMPGUARD, *args], capture_output=True, timeout=timeout)
        self.outputs += [proc.stdout, proc.stderr]
        return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")

    def init(self):
        code, out, err = self.run("cluster", "init", *self.server.client_args("admin"), "--ack-wait", "3")
        assert code == 0, err
        return out

    def make_dumps(self, n, tag):
        """n distinct minidumps; every other one holds a planted key. Returns their paths."""
        model = dgtest.info_json(SOURCE)
        regions = sorted((r for r in model["regions"] if r["kind"] != "metadata"), key=lambda r: -r["size"])
        target = regions[0]
        original = read(SOURCE)
        paths = []
        for i in range(n):
            data = bytearray(original)
            # A marker of low entropy (no rule takes it) makes every dump distinct.
            marker = f"dumpguard-cluster-test-{tag}-{i:04d}".encode()
            at = target["file_offset"] + target["size"] - len(marker) - 8
            data[at:at + len(marker)] = marker
            if i % 2 == 0:
                der = ed25519.Ed25519PrivateKey.generate().private_bytes(
                    serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
                at = target["file_offset"] + 8
                data[at:at + len(der)] = der
                self.secrets.append(der[-32:])
            path = os.path.join(self.root, f"{tag}-{i:04d}.dmp")
            with open(path, "wb") as f:
                f.write(bytes(data))
            paths.append(path)
        return paths

    def submit(self, paths):
        code, out, err = self.run("submit", *self.server.client_args("submitter"), *self.store_args, *paths)
        assert code == 0, err
        return out

    def worker_args(self, number, once):
        return ["gate", *self.server.client_args("worker"), *self.store_args,
                "--release", self.release, "--quarantine", self.quarantine, "--audit-key", self.key,
                "--work", self.work, "--instance", str(number), "--fingerprint-key", self.fp_key,
                "--rules-only", "--rules", self.no_rules, "--lease", "3", *(["--once"] if once else [])]

    def start_worker(self, number, once=False):
        with open(os.path.join(self.root, f"worker-{number}.log"), "ab") as log:
            proc = subprocess.Popen([dgtest.DUMPGUARD, *self.worker_args(number, once)], stdout=log, stderr=log)
        self.workers[number] = proc
        self.starts[number] = self.starts.get(number, 0) + 1
        return proc

    def stop_workers(self):
        for proc in self.workers.values():
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in self.workers.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def stored(self):
        """The dumps the shared store still holds."""
        return [n for n in os.listdir(self.shared) if not n.startswith(".")]

    def leftovers(self, number):
        """What worker `number` has in its work directory's claims, outputs, decisions and copies."""
        found = []
        for instance in os.listdir(self.work):
            if instance.endswith(f"-{number}"):
                for sub in ("claims", "out", "decided", "inbox"):
                    path = os.path.join(self.work, instance, sub)
                    found += [os.path.join(path, n) for n in (os.listdir(path) if os.path.isdir(path) else [])]
        return found

    def wait_ready(self, number, timeout=60):
        """Waits until every start of worker `number` has said it takes dumps."""
        path = os.path.join(self.root, f"worker-{number}.log")
        until = time.time() + timeout
        while time.time() < until:
            if os.path.exists(path) and read(path).count(b" taking dumps from ") >= self.starts.get(number, 0):
                return
            time.sleep(0.05)
        raise AssertionError(f"worker {number} did not start in {timeout} s: {read(path)[-2000:]!r}")

    def worker_logs(self):
        out = b""
        for name in sorted(os.listdir(self.root)):
            if name.startswith("worker-") and name.endswith(".log"):
                out += read(os.path.join(self.root, name))
        return out

    def status(self):
        # Just after a restart the server listens before JetStream has recovered its streams.
        deadline = time.time() + 60
        while True:
            code, out, err = self.run("cluster", "status", *self.server.client_args("admin"), "--json")
            if code == 0 or time.time() > deadline:
                break
            time.sleep(0.5)
        assert code == 0, err
        return json.loads(out)

    def export_and_verify(self):
        """The audit stream exported by dumpguard, verified by dumpguard, and its chain read here too."""
        exported = os.path.join(self.root, "audit-export.jsonl")
        code, _, err = self.run("audit", "export", *self.server.client_args("admin"), "-o", exported)
        assert code == 0, err
        code, out, err = self.run("audit", "verify", exported, "--key", self.key)
        lines = [line for line in read(exported).split(b"\n") if line]
        prev = "0" * 64
        records = []
        for n, line in enumerate(lines, 1):
            record = json.loads(line)["record"]
            assert record["seq"] == n, f"record {n} has seq {record['seq']}"
            assert record["prev"] == prev, f"record {n} does not continue record {n - 1}"
            prev = hashlib.sha256(line).hexdigest()
            records.append(record)
        return code, out + err, records


class ClusterCase(unittest.TestCase):
    """A cluster with its server started for each test, and the checks the tests share."""
    server_class = natstest.NatsServer
    cluster_class = Cluster

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="dg-cluster-")
        self.cluster = self.cluster_class(self.tmp, self.server_class)
        self.cluster.server.start()

    def tearDown(self):
        try:
            self.cluster.stop_workers()
        finally:
            self.cluster.server.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def kill_holding_a_dump(self, number, more_work):
        """SIGKILLs worker `number` once it holds a dump; returns what it left. When the other
        workers took every dump before it, more_work() queues more, every two seconds."""
        c = self.cluster
        until = time.time() + 60
        fed = time.time()
        while not c.leftovers(number) and time.time() < until:
            if time.time() - fed > 2:
                more_work()
                fed = time.time()
            time.sleep(0.01)
        os.kill(c.workers[number].pid, signal.SIGKILL)
        c.workers[number].wait(timeout=10)
        return c.leftovers(number)

    def wait_for_verdicts(self, n, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            dumps = self.cluster.status()["dumps"]
            if dumps["released"] + dumps["quarantined"] + dumps["failed"] >= n:
                return dumps
            time.sleep(0.5)
        self.fail(f"not every dump got a verdict in {timeout} s: {self.cluster.status()}\n"
                  f"{self.cluster.worker_logs().decode(errors='replace')[-4000:]}")

    def check_released_once(self, paths, failed=()):
        """Each submitted dump released exactly once under its SHA-256's name (but those in
        `failed`), with no planted key left in it, and none quarantined; the shared store emptied."""
        c = self.cluster
        released = sorted(os.listdir(c.release))
        paths = [p for p in paths if p not in failed]
        expected = sorted(f"{sha256_of(p)}-{os.path.basename(p)}" for p in paths)
        self.assertEqual(released, expected, "each dump released exactly once, under its own name")
        self.assertEqual(os.listdir(c.quarantine) if os.path.isdir(c.quarantine) else [], [])
        for name in released:
            data = read(os.path.join(c.release, name))
            for secret in c.secrets:
                self.assertNotIn(secret, data, f"{name}: a planted key is still in the released copy")
        self.assertEqual(c.stored(), [], "the shared store emptied")

    def check_audit(self, paths):
        code, said, records = self.cluster.export_and_verify()
        self.assertEqual(code, 0, said)
        released = {}
        redacted = {}
        for r in records:
            if r["event"] == "released":
                released.setdefault(r["data"]["input"]["sha256"], set()).add(r["data"]["target"])
            if r["event"] == "redacted":
                redacted[r["data"]["input"]["sha256"]] = r["data"]["findings"]
        # The planted keys were there to find: every other dump had findings overwritten.
        planted = [p for p in paths if int(os.path.basename(p).split("-")[1].split(".")[0]) % 2 == 0]
        for p in paths:
            self.assertEqual(redacted.get(sha256_of(p), 0) > 0, p in planted, f"{p}: {redacted.get(sha256_of(p))} findings")
        for p in paths:
            targets = released.get(sha256_of(p), set())
            # One target per dump: a redelivered dump is recorded again under the same name.
            self.assertEqual(len(targets), 1, f"{p}: released to {targets}")
        return records


class ClusterTest(ClusterCase):
    def test_two_then_four_workers_release_each_dump_once(self):
        c = self.cluster
        c.init()
        self.assertIn("exists", c.init(), "init is idempotent")
        first = c.make_dumps(DUMPS_PER_ROUND, "a")
        out = c.submit(first)
        self.assertEqual(out.count(" queued "), DUMPS_PER_ROUND)
        # Submitted again: the SHA-256 is the message id, so nothing is queued twice.
        self.assertEqual(c.submit(first[:2]).count(" already-queued "), 2)
        for n in range(2):
            c.start_worker(n, once=True)
        for proc in c.workers.values():
            self.assertEqual(proc.wait(timeout=300), 0, c.worker_logs().decode(errors="replace")[-3000:])
        self.check_released_once(first)
        second = c.make_dumps(DUMPS_PER_ROUND, "b")
        c.submit(second)
        c.workers = {}
        for n in range(4):
            c.start_worker(n, once=True)
        for proc in c.workers.values():
            self.assertEqual(proc.wait(timeout=300), 0, c.worker_logs().decode(errors="replace")[-3000:])
        self.check_released_once(first + second)
        records = self.check_audit(first + second)
        hosts = {r["data"].get("instance") for r in records if r["event"] == "started"}
        self.assertEqual(len(hosts), 4, "the records of four workers in one chain")
        status = c.status()
        self.assertEqual(status["dumps"]["released"], 2 * DUMPS_PER_ROUND)
        self.assertEqual(status["queue"]["waiting"], 0)
        self.assertEqual(len(status["workers"]), 4)
        dgtest.assert_no_secret(c.outputs + [c.worker_logs(), read(c.server.log)], c.secrets)

    def test_killed_workers_and_a_restarted_server_lose_nothing(self):
        c = self.cluster
        c.init()
        rng = random.Random()
        c.start_worker(0)
        c.start_worker(1)
        # Dumps come in waves, so a worker always has one in hand when it is killed.
        paths = []
        waves = iter(range(100))

        def more_work():
            wave = c.make_dumps(4, f"k{next(waves)}")
            c.submit(wave)
            paths.extend(wave)

        kills = KILLS
        for kill in range(kills):
            victim = rng.choice([0, 1])
            c.wait_ready(victim)
            more_work()
            time.sleep(rng.uniform(0.0, 0.3))
            if kill < kills - 1:
                # Killed while it holds a dump and started again under the same id at once: its
                # id heartbeats again, but the claim its dead process left must not look alive
                # to the other worker (it did once, and the queue gave the dump up).
                self.kill_holding_a_dump(victim, more_work)
                c.start_worker(victim)
            else:
                # The last one killed while it holds a dump stays dead, and a worker with another
                # id takes its place: what it left is for the others to remove.
                dead = victim
                left = self.kill_holding_a_dump(dead, more_work)
                c.start_worker(2)
        more_work()
        c.server.restart()  # in mid-run; file storage: the queue, the bucket and the audit stream survive
        dumps = self.wait_for_verdicts(len(paths), 120)
        self.assertEqual(dumps["released"], len(paths), c.worker_logs().decode(errors="replace")[-3000:])
        self.assertTrue(left, "the dead worker was killed while it held a dump")
        until = time.time() + 30
        while c.leftovers(dead) and time.time() < until:
            time.sleep(0.1)
        self.assertEqual(c.leftovers(dead), [], "the dead worker's leftovers were removed")
        c.stop_workers()
        self.check_released_once(paths)
        records = self.check_audit(paths)
        removed = [r["data"] for r in records if r["event"] == "work-removed"]
        self.assertEqual([r["instance"].rsplit("-", 1)[1] for r in removed], [str(dead)], removed)
        dgtest.assert_no_secret(c.outputs + [c.worker_logs()], c.secrets)

    def test_the_relay_queues_only_what_it_redacted(self):
        """A crash reporter's upload through `dumpguard relay --nats`: the relay redacts and verifies
        the minidump, and what it copies into the shared store and queues is that copy, never the
        upload; a worker then releases it."""
        c = self.cluster
        c.init()
        dump = c.make_dumps(1, "r")[0]  # index 0: a planted key
        relay_key = os.path.join(c.root, "relay-audit.key")
        code, _, err = c.run("audit", "keygen", "--hmac", "-o", relay_key)
        self.assertEqual(code, 0, err)
        relay_audit = os.path.join(c.root, "relay-audit.log")
        stderr_path = os.path.join(c.root, "relay.err")
        with open(stderr_path, "wb") as log:
            relay = subprocess.Popen(
                [dgtest.DUMPGUARD, "relay", "--listen", "127.0.0.1:0", *c.server.client_args("submitter"),
                 "--shared-store", c.shared, "--quarantine", os.path.join(c.root, "relay-quarantine"),
                 "--audit", relay_audit, "--audit-key", relay_key, "--audit-syslog", "off",
                 "--fingerprint-key", c.fp_key, "--rules-only", "--rules", c.no_rules],
                stdout=subprocess.DEVNULL, stderr=log)
        try:
            deadline = time.time() + 60
            port = None
            while port is None:
                text = dgtest.text_of(stderr_path)
                found = re.search(r"listening on http://127\.0\.0\.1:(\d+), queueing to ", text)
                if found:
                    port = int(found.group(1))
                self.assertIsNone(relay.poll(), text)
                self.assertLess(time.time(), deadline, text)
                time.sleep(0.05)
            boundary = "dgclusterrelay"
            body = (f'--{boundary}\r\nContent-Disposition: form-data; name="upload_file_minidump"; '
                    f'filename="upload.dmp"\r\nContent-Type: application/octet-stream\r\n\r\n').encode()
            body += read(dump) + f"\r\n--{boundary}--\r\n".encode()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request("POST", "/submit", body=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
            answer = conn.getresponse()
            self.assertEqual(answer.status, 200, answer.read())
            conn.close()
        finally:
            dgtest.stop_by_pid(relay)
        c.outputs.append(read(stderr_path))
        # The shared store holds one dump: the relay's redacted copy, without the planted key.
        stored = c.stored()
        self.assertEqual(len(stored), 1, stored)
        copy = read(os.path.join(c.shared, stored[0]))
        self.assertEqual(len(copy), len(read(dump)))
        self.assertNotEqual(copy, read(dump))
        for secret in c.secrets:
            self.assertNotIn(secret, copy, "the relay queued a planted key")
        records = [json.loads(line)["record"] for line in dgtest.text_of(relay_audit).splitlines() if line.strip()]
        released = [r["data"] for r in records if r["data"].get("outcome") == "released"]
        self.assertEqual(len(released), 1, records)
        self.assertEqual(released[0]["released"], [f"sha256:{stored[0]}"])
        c.start_worker(0, once=True)
        self.assertEqual(c.workers[0].wait(timeout=120), 0, c.worker_logs().decode(errors="replace")[-3000:])
        out = os.listdir(c.release)
        self.assertEqual(len(out), 1, out)
        for secret in c.secrets:
            self.assertNotIn(secret, read(os.path.join(c.release, out[0])))
        self.assertEqual(c.stored(), [], "the shared store emptied")
        dgtest.assert_no_secret(c.outputs + [c.worker_logs(), read(relay_audit)], c.secrets)

    def test_a_worker_cannot_purge_delete_or_shrink_the_audit_stream(self):
        c = self.cluster
        c.init()
        paths = c.make_dumps(2, "p")
        c.submit(paths)
        c.start_worker(0, once=True)
        self.assertEqual(c.workers[0].wait(timeout=120), 0)
        before = c.status()["audit"]["records"]
        self.assertGreater(before, 0)
        worker = natstest.RawClient(c.server, "worker")
        shrink = json.dumps({"name": "DUMPGUARD_AUDIT", "subjects": ["dumpguard.audit"], "retention": "limits",
                             "max_msgs": 1, "storage": "file", "num_replicas": 1, "discard": "old"}).encode()
        for subject, payload in [("$JS.API.STREAM.PURGE.DUMPGUARD_AUDIT", b""),
                                 ("$JS.API.STREAM.DELETE.DUMPGUARD_AUDIT", b""),
                                 ("$JS.API.STREAM.MSG.DELETE.DUMPGUARD_AUDIT", b'{"seq":1}'),
                                 ("$JS.API.STREAM.UPDATE.DUMPGUARD_AUDIT", shrink)]:
            kind, answer = worker.request(subject, payload)
            self.assertEqual(kind, "error", f"{subject}: {answer}")
            self.assertIn(b"Permissions Violation", answer)
        worker.close()
        # The attempts are visible: the server logs each refused publish with the user's name.
        log = c.server.log_text()
        for what in ("PURGE", "DELETE", "MSG.DELETE", "UPDATE"):
            self.assertIn(f'User "worker", Subject "$JS.API.STREAM.{what}.DUMPGUARD_AUDIT"', log)
        # Even the admin cannot purge the stream or delete a record of it: the stream denies both.
        admin = natstest.RawClient(c.server, "admin")
        kind, answer = admin.request("$JS.API.STREAM.PURGE.DUMPGUARD_AUDIT")
        self.assertEqual(kind, "reply")
        self.assertIn(b'"error"', answer)
        kind, answer = admin.request("$JS.API.STREAM.MSG.DELETE.DUMPGUARD_AUDIT", b'{"seq":1}')
        self.assertEqual(kind, "reply")
        self.assertIn(b'"error"', answer)
        admin.close()
        self.assertEqual(c.status()["audit"]["records"], before)
        code, said, _ = c.export_and_verify()
        self.assertEqual(code, 0, said)


class CredentialsAndTlsTest(ClusterCase):
    """The server in operator mode over TLS only (natstest.OperatorNatsServer): every command
    connects with a .creds file and trusts the test's CA. A worker without its credentials, with
    a seed that does not match its JWT, without the CA, with another CA, or asking for a name the
    server's certificate does not carry, stops with exit 2 and one line, and nothing is released."""
    server_class = natstest.OperatorNatsServer

    def test_workers_need_their_credentials_and_the_servers_certificate(self):
        c, server = self.cluster, self.cluster.server
        c.init()
        paths = c.make_dumps(3, "t")
        self.assertEqual(c.submit(paths[:2]).count(" queued "), 2)
        # The third arrives in an inbox (renamed in, as writers do) that `submit --watch` empties
        # into the queue; a symbolic link beside it is never followed, only left there.
        inbox = os.path.join(self.tmp, "inbox")
        os.makedirs(inbox, mode=0o700)
        shutil.copy(paths[2], os.path.join(inbox, ".arriving"))
        os.rename(os.path.join(inbox, ".arriving"), os.path.join(inbox, os.path.basename(paths[2])))
        os.symlink(paths[0], os.path.join(inbox, "link.dmp"))
        code, out, err = c.run("submit", *server.client_args("submitter"), "--shared-store", c.shared, "--watch", inbox,
                               "--once", "--settle", "0")
        self.assertEqual(code, 0, err)
        self.assertIn(f"{os.path.basename(paths[2])}: queued as {sha256_of(paths[2])}", out)
        self.assertIn("link.dmp: refused (a symbolic link)", out)
        self.assertEqual(sorted(os.listdir(inbox)), [".dumpguard-submit", "link.dmp"])
        self.assertEqual(os.listdir(os.path.join(inbox, ".dumpguard-submit")), [])
        other_ca = natstest.make_ca(self.tmp, "other-ca")
        mismatched = server.write_creds("worker", server.account, {}, name="mismatched",
                                        seed=natstest.NKey(natstest.NKEY_USER).seed)
        url, creds, ca = server.url(), server.creds["worker"], server.ca
        # Each refused for its own reason, in the server's or OpenSSL's words.
        refused = {
            "no credentials": (["--nats", url, "--nats-ca", ca], "Authorization Violation"),
            "a seed that is not the JWT's": (["--nats", url, "--nats-creds", mismatched, "--nats-ca", ca],
                                             "Authorization Violation"),
            "the system's trust store only": (["--nats", url, "--nats-creds", creds], "unable to get local issuer"),
            "another CA": (["--nats", url, "--nats-creds", creds, "--nats-ca", other_ca], "unable to get local issuer"),
            "a name the certificate lacks": (["--nats", f"tls://localhost:{server.port}", "--nats-creds", creds,
                                              "--nats-ca", ca], "hostname mismatch"),
        }
        base = c.worker_args(0, once=True)
        base = base[:1] + base[base.index("--shared-store"):]
        for case, (nats, why) in refused.items():
            with self.subTest(case):
                code, out, err = c.run(*base[:1], *nats, *base[1:], timeout=60)
                self.assertEqual(code, 2, f"{case}: {out}{err}")
                self.assertEqual(len(err.strip().splitlines()), 1, err)
                self.assertIn("cannot connect to", err)
                self.assertIn(why, err)
                self.assertEqual(os.listdir(c.release) if os.path.isdir(c.release) else [], [])
        self.assertEqual(c.status()["queue"]["waiting"], 3, "the refused workers took nothing")
        checkpoint = os.path.join(self.tmp, "worker.checkpoint")
        code, out, err = c.run(*c.worker_args(0, once=True), "--checkpoint", checkpoint, timeout=120)
        self.assertEqual(code, 0, err)
        self.check_released_once(paths)
        # The stream verified where it is (audit verify --nats), anchored by the worker's checkpoint,
        # with the worker's rights: reading the stream needs no more.
        code, out, err = c.run("audit", "verify", *server.client_args("worker"), "--key", c.key, "--checkpoint", checkpoint)
        self.assertEqual(code, 0, err)
        self.assertIn(": sound: ", out)
        wrong_key = os.path.join(self.tmp, "wrong.key")
        with open(os.open(wrong_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(secrets.token_bytes(32))
        code, out, _ = c.run("audit", "verify", *server.client_args("admin"), "--key", wrong_key)
        self.assertEqual(code, 1, out)
        seeds = [seed.encode() for seed in server.seeds.values()]
        dgtest.assert_no_secret(c.outputs + [c.worker_logs(), read(server.log)], c.secrets + seeds)


if __name__ == "__main__":
    unittest.main()
