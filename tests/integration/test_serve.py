"""`dumpguard serve` end to end, on loopback only: real minidumps released by a real gate run,
a self-signed certificate made here with openssl and verified by the client (Python's ssl), and
tokens made by `dumpguard users add`. Each request is checked by its status, the bytes received
(against SHA-256 computed here) and the audit record it leaves, read from the log here; then
`audit verify` must pass on the log (rotated mid-run), and `audit show --user/--dump` must
answer who read what. No token may appear in the log or in any output but `users add`'s."""
import hashlib
import http.client
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
import gatetest  # noqa: E402

RELEASED = ["linux-mini.dmp", "simple-crashpad.dmp", "test.dmp"]
QUARANTINED = "invalid-range.dmp"  # a minidump the gate cannot parse: quarantined, original kept
EXPIRED = "test.dmp"               # released, then made 10 days old: past a retention of 7


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def make_certificate(directory):
    key = os.path.join(directory, "tls.key")
    cert = os.path.join(directory, "tls.crt")
    dgtest.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                   "-out", cert, "-days", "2", "-subj", "/CN=dumpguard-test", "-addext", "subjectAltName=IP:127.0.0.1")
    os.chmod(key, 0o600)
    return cert, key


class Server:
    """A running `dumpguard serve`, stopped by its PID on every path (stop() or the test's cleanup)."""

    def __init__(self, args, cert):
        self.proc = subprocess.Popen([dgtest.DUMPGUARD, "serve", "--listen", "127.0.0.1:0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stdout = b""
        self.stderr = b""
        line = self.proc.stdout.readline()
        if b"listening on https://127.0.0.1:" not in line:
            self.stop()
            raise AssertionError(f"serve did not start: {line!r} {self.stderr!r}")
        self.stdout = line
        self.port = int(line.rsplit(b":", 1)[1])
        self.context = ssl.create_default_context(cafile=cert)

    def get(self, path, token=None, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=30)
        try:
            h = dict(headers or {})
            if token is not None:
                h["Authorization"] = f"Bearer {token}"
            conn.request("GET", path, headers=h)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)
        out, err = self.proc.communicate()
        self.stdout += out or b""
        self.stderr += err or b""
        return self.proc.returncode


class ServeTest(dgtest.DumpTestCase):
    def setUp(self):
        super().setUp()
        self.gate = gatetest.GateDirs(self.tmp, text_rules=False)
        for name in RELEASED + [QUARANTINED]:
            self.gate.deliver(os.path.join(dgtest.MINIDUMPS, name), name)
        code, err = self.gate.run_once()
        self.assertEqual(code, 0, err)
        self.assertEqual(self.gate.released(), sorted(RELEASED), err)
        self.assertEqual(self.gate.quarantined(), [QUARANTINED], err)
        self.users = os.path.join(self.tmp, "users")
        self.outputs = []  # every output of dumpguard but users add's token, to search for tokens
        self.tokens = {}
        for name, role in [("alice", "download"), ("bob", "list"), ("carol", "quarantine"), ("dave", "download")]:
            code, out, err = dgtest.run_dumpguard("users", "add", name, "--role", role, "--users", self.users,
                                                  check_exit=0)
            token = out.decode().strip()
            self.assertRegex(token, r"^dgt_[0-9a-f]{64}$")
            self.tokens[name] = token
            self.outputs.append(err)
        self.assertEqual(os.stat(self.users).st_mode & 0o777, 0o600)
        with open(self.users) as f:
            self.assertEqual(len([line for line in f if line.strip() and not line.startswith("#")]), 4)
        self.cert, self.tls_key = make_certificate(self.tmp)
        self.alerts = os.path.join(self.tmp, "alerts")
        self.servers = []

    def serve_args(self, *extra):
        return ["--release", self.gate.release, "--quarantine", self.gate.quarantine, "--users", self.users,
                "--audit", self.gate.audit, "--audit-key", self.gate.key, "--tls-cert", self.cert,
                "--tls-key", self.tls_key, *extra]

    def start(self, *extra):
        server = Server(self.serve_args(*extra), self.cert)
        self.servers.append(server)
        return server

    def tearDown(self):
        for server in self.servers:  # before the temporary directory goes, on every path
            server.stop(signal.SIGKILL)
        super().tearDown()

    def records_of(self, event):
        """The live file's records of `event` (rotated files are read by `audit show`)."""
        return [r["data"] for r in self.gate.records() if r["event"] == event]

    def wait_records(self, event, count):
        """The server writes `downloaded` when its response ends, which the client may see first."""
        self.assertTrue(gatetest.wait_until(lambda: len(self.records_of(event)) >= count, timeout=60),
                        f"fewer than {count} {event} records")

    def last(self, event):
        records = [r for r in self.gate.records() if r["event"] == event]
        self.assertTrue(records, f"no {event} record")
        return records[-1]["data"]

    def test_requests_and_their_records(self):
        released_sha = {n: gatetest.sha256_of(os.path.join(self.gate.release, n)) for n in RELEASED}
        old = time.time() - 10 * 86400
        os.utime(os.path.join(self.gate.release, EXPIRED), (old, old))
        alert_cmd = f'printf "%s %s\\n" "$DUMPGUARD_ALERT_USER" "$DUMPGUARD_ALERT_DOWNLOADS" >> {self.alerts}'
        server = self.start("--retention", "7", "--require-reason", "--rate-limit", "3/hour",
                            "--alert-downloads", "2", "--alert-command", alert_cmd)
        alice, bob, carol = self.tokens["alice"], self.tokens["bob"], self.tokens["carol"]

        # Retention: the old dump is gone at start, after a record that names it by its hash.
        self.assertFalse(os.path.exists(os.path.join(self.gate.release, EXPIRED)))
        expired = self.last("expired")
        self.assertEqual((expired["dump"], expired["sha256"]), (EXPIRED, released_sha[EXPIRED]))

        # No token, a wrong token, a role that may not download.
        status, _ = server.get("/dumps/linux-mini.dmp")
        self.assertEqual(status, 401)
        self.assertEqual((self.last("denied")["why"], self.last("denied")["user"]), ("no-token", None))
        wrong = "dgt_" + secrets.token_hex(32)
        status, _ = server.get("/dumps/linux-mini.dmp?reason=T-1", wrong)
        self.assertEqual(status, 401)
        self.assertEqual((self.last("denied")["why"], self.last("denied")["user"]), ("bad-token", None))
        status, _ = server.get("/dumps/linux-mini.dmp?reason=T-1", bob)
        self.assertEqual(status, 403)
        self.assertEqual((self.last("denied")["why"], self.last("denied")["user"]), ("role", "bob"))
        status, body = server.get("/dumps", bob)
        self.assertEqual(status, 200)
        self.assertEqual(sorted(d["name"] for d in json.loads(body)["dumps"]), ["linux-mini.dmp", "simple-crashpad.dmp"])
        self.assertEqual((self.last("listed")["user"], self.last("listed")["count"]), ("bob", 2))
        status, _ = server.get("/quarantine", alice)
        self.assertEqual((status, self.last("denied")["why"]), (403, "role"))

        # A download must state its reason; then it is served whole, and recorded before and after.
        status, _ = server.get("/dumps/linux-mini.dmp", alice)
        self.assertEqual((status, self.last("denied")["why"]), (400, "no-reason"))
        status, body = server.get("/dumps/linux-mini.dmp", alice, {"X-Dumpguard-Reason": "INC-4711"})
        self.assertEqual(status, 200)
        self.assertEqual(hashlib.sha256(body).hexdigest(), released_sha["linux-mini.dmp"])
        started = self.last("downloading")
        self.assertEqual((started["user"], started["dump"], started["sha256"], started["reason"]),
                         ("alice", "linux-mini.dmp", released_sha["linux-mini.dmp"], "INC-4711"))
        self.wait_records("downloaded", 1)
        done = self.last("downloaded")
        self.assertEqual((done["user"], done["sha256"], done["bytes_sent"], done["complete"]),
                         ("alice", released_sha["linux-mini.dmp"], len(body), True))

        # The expired dump, and names that are not dumps.
        status, _ = server.get(f"/dumps/{EXPIRED}?reason=T-2", alice)
        self.assertEqual((status, self.last("denied")["why"]), (410, "expired"))
        status, _ = server.get("/dumps/.hidden?reason=T-2", alice)
        self.assertEqual((status, self.last("denied")["why"]), (400, "bad-name"))
        status, _ = server.get("/dumps/no-such.dmp?reason=T-2", alice)
        self.assertEqual((status, self.last("denied")["why"]), (404, "not-found"))

        # The log rotated under the running server: the chain continues in a new file.
        dgtest.run_dumpguard("audit", "rotate", self.gate.audit, "--key", self.gate.key, "--checkpoint",
                             self.gate.audit + ".checkpoint", check_exit=0)

        # Rate limit 3 an hour, alert past 2: the second download is fine, the third alerts, the fourth is refused.
        status, body = server.get("/dumps/simple-crashpad.dmp?reason=T-3", alice)
        self.assertEqual(status, 200)
        self.assertFalse(os.path.exists(self.alerts))
        status, body = server.get("/dumps/simple-crashpad.dmp?reason=T-3", alice)
        self.assertEqual(status, 200)
        self.assertEqual(hashlib.sha256(body).hexdigest(), released_sha["simple-crashpad.dmp"])
        self.assertTrue(gatetest.wait_until(lambda: os.path.exists(self.alerts) and read_bytes(self.alerts)))
        with open(self.alerts) as f:
            self.assertEqual(f.read(), "alice 3\n")
        self.assertEqual((self.last("alert")["user"], self.last("alert")["downloads_in_hour"]), ("alice", 3))
        status, _ = server.get("/dumps/simple-crashpad.dmp?reason=T-3", alice)
        self.assertEqual((status, self.last("denied")["why"], self.last("denied")["user"]), (429, "rate-limit", "alice"))

        # The quarantine role reads a quarantined original.
        status, body = server.get("/quarantine", carol)
        self.assertEqual((status, [d["name"] for d in json.loads(body)["dumps"]]), (200, [QUARANTINED]))
        status, body = server.get(f"/quarantine/{QUARANTINED}?reason=T-5", carol)
        self.assertEqual(status, 200)
        with open(os.path.join(dgtest.MINIDUMPS, QUARANTINED), "rb") as f:
            self.assertEqual(body, f.read())
        self.wait_records("downloaded", 3)  # in the live file: the first is in the rotated one
        self.assertEqual((self.last("downloaded")["user"], self.last("downloaded")["source"]), ("carol", "quarantine"))

        # A removed user's token stops working at the next request.
        self.assertEqual(server.get("/dumps", self.tokens["dave"])[0], 200)
        code, _, err = dgtest.run_dumpguard("users", "remove", "dave", "--users", self.users, check_exit=0)
        self.outputs.append(err)
        self.assertEqual(server.get("/dumps", self.tokens["dave"])[0], 401)

        self.assertEqual(server.stop(), 0)
        self.assertEqual(self.gate.records()[-1]["event"], "serve-stopped")
        self.outputs += [server.stdout, server.stderr]

        # The log, rotated once, verifies as one chain ending at its checkpoint.
        code, out, err = dgtest.run_dumpguard("audit", "verify", "--chain", self.gate.audit, "--key", self.gate.key,
                                              "--checkpoint", self.gate.audit + ".checkpoint")
        self.assertEqual(code, 0, out + err)
        self.assertIn(b"sound", out)
        self.outputs += [out, err]

        # Who downloaded linux-mini.dmp, and what alice read: across both files.
        def show(*args):
            code, out, err = dgtest.run_dumpguard("audit", "show", "--chain", self.gate.audit, "--key", self.gate.key,
                                                  "--checkpoint", self.gate.audit + ".checkpoint", "--json", *args)
            self.assertEqual(code, 0, err)
            self.outputs += [out, err]
            return [r["record"] for r in json.loads(out)["records"]]

        who = show("--dump", released_sha["simple-crashpad.dmp"], "--event", "downloaded")
        self.assertEqual([(r["data"]["user"], r["data"]["complete"]) for r in who], [("alice", True), ("alice", True)])
        read = show("--user", "alice", "--event", "downloaded")
        self.assertEqual([r["data"]["dump"] for r in read], ["linux-mini.dmp", "simple-crashpad.dmp", "simple-crashpad.dmp"])
        everything_alice = show("--user", "alice")
        self.assertTrue(all(r["data"]["user"] == "alice" for r in everything_alice))
        self.assertEqual(len([r for r in everything_alice if r["event"] == "denied"]), 6)
        life = show("--dump", released_sha[EXPIRED])
        self.assertIn("expired", [r["event"] for r in life])
        self.assertIn("released", [r["event"] for r in life])  # the gate's record: one chain

        # No token anywhere but where users add printed it.
        files = [self.gate.audit, self.gate.audit + ".1", self.gate.audit + ".checkpoint", self.users]
        texts = self.outputs + [read_bytes(p) for p in files]
        for name, token in list(self.tokens.items()) + [("wrong", wrong)]:
            for text in texts:
                self.assertNotIn(token.encode(), text, f"{name}'s token leaked")
                self.assertNotIn(token[4:].encode(), text, f"{name}'s token leaked")

        # A restart keeps the hour's counts: they come back from the log (alice's first download
        # of the three is in the rotated file), so alice is still refused, and carol, with one, is not.
        server = self.start("--require-reason", "--rate-limit", "3/hour")
        status, _ = server.get("/dumps/simple-crashpad.dmp?reason=T-6", alice)
        self.assertEqual((status, self.last("denied")["why"], self.last("denied")["user"]), (429, "rate-limit", "alice"))
        self.assertEqual(server.get("/dumps/simple-crashpad.dmp?reason=T-7", carol)[0], 200)
        self.assertEqual(server.stop(), 0)

    def test_client_certificates_stand_for_tokens(self):
        ca_dir = os.path.join(self.tmp, "ca")
        os.mkdir(ca_dir)

        def path(name):
            return os.path.join(ca_dir, name)

        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        dgtest.openssl("req", "-x509", *ec, "-keyout", path("ca.key"), "-out", path("ca.crt"), "-days", "2",
                       "-subj", "/CN=dumpguard test client CA")
        for who in ("erin", "frank"):  # both signed by the CA; only erin is a user
            dgtest.openssl("req", *ec, "-keyout", path(f"{who}.key"), "-out", path(f"{who}.csr"), "-subj", f"/CN={who}")
            dgtest.openssl("x509", "-req", "-in", path(f"{who}.csr"), "-CA", path("ca.crt"), "-CAkey", path("ca.key"),
                           "-CAcreateserial", "-out", path(f"{who}.crt"), "-days", "2")
        # A certificate no CA of the server's signed.
        dgtest.openssl("req", "-x509", *ec, "-keyout", path("mallory.key"), "-out", path("mallory.crt"), "-days", "2",
                       "-subj", "/CN=erin")
        dgtest.run_dumpguard("users", "add", "erin", "--role", "download", "--cert", path("erin.crt"), "--users",
                             self.users, check_exit=0)
        der = subprocess.run(["openssl", "x509", "-in", path("erin.crt"), "-outform", "DER"], capture_output=True,
                             check=True).stdout
        with open(self.users) as f:
            self.assertIn(f"erin download cert-sha256:{hashlib.sha256(der).hexdigest()}\n", f.read())

        server = self.start("--client-ca", path("ca.crt"))

        def client(who):
            context = ssl.create_default_context(cafile=self.cert)
            context.load_cert_chain(path(f"{who}.crt"), path(f"{who}.key"))
            return context

        server.context = client("erin")
        status, body = server.get("/dumps/linux-mini.dmp")
        self.assertEqual(status, 200)
        with open(os.path.join(self.gate.release, "linux-mini.dmp"), "rb") as f:
            self.assertEqual(body, f.read())
        self.assertEqual(self.last("downloading")["user"], "erin")
        server.context = client("frank")
        self.assertEqual(server.get("/dumps")[0], 401)
        self.assertEqual(self.last("denied")["why"], "bad-certificate")
        # A token still works beside certificates, and a certificate the CA did not sign ends the handshake.
        server.context = ssl.create_default_context(cafile=self.cert)
        self.assertEqual(server.get("/dumps", self.tokens["bob"])[0], 200)
        self.assertEqual(server.get("/dumps")[0], 401)
        self.assertEqual(self.last("denied")["why"], "no-token")
        server.context = client("mallory")
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            server.get("/dumps")
        self.assertEqual(server.stop(), 0)

    def test_a_download_cut_short_is_recorded_as_such(self):
        # A dump far larger than what TLS and socket buffers hold, so the client can stop early.
        name = "big.dmp"
        with open(os.path.join(self.gate.release, name), "wb") as f:
            f.write(os.urandom(16 << 20))
        server = self.start()
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.context, timeout=30)
        conn.request("GET", f"/dumps/{name}", headers={"Authorization": f"Bearer {self.tokens['alice']}"})
        response = conn.getresponse()
        self.assertEqual(response.status, 200)
        received = 0
        while received < (1 << 20):
            received += len(response.read(1 << 16))
        conn.sock.shutdown(2)
        conn.close()
        self.wait_records("downloaded", 1)
        done = self.last("downloaded")
        self.assertFalse(done["complete"])
        # bytes_sent counts whole pieces of 16 KiB whose write completed: what the client
        # received is at most one piece more, and nothing near the whole dump was sent.
        self.assertGreaterEqual(done["bytes_sent"], received - (16 << 10))
        self.assertLess(done["bytes_sent"], 16 << 20)
        self.assertEqual(server.stop(), 0)

    def test_bad_start_is_one_line(self):
        bad_users = os.path.join(self.tmp, "bad-users")
        with open(bad_users, "w") as f:
            f.write("alice download sha256:nothex\n")
        cases = {
            "users": ("127.0.0.1:0", ["--users", bad_users]),
            "listen": ("127.0.0.1:99999", []),
            "rate": ("127.0.0.1:0", ["--rate-limit", "0"]),
            "alert": ("127.0.0.1:0", ["--alert-command", "true"]),
        }
        for what, (listen, extra) in cases.items():
            args = self.serve_args()
            if extra[:1] == ["--users"]:
                args[args.index("--users") + 1] = extra[1]
                extra = []
            proc = subprocess.run([dgtest.DUMPGUARD, "serve", "--listen", listen, *args, *extra],
                                  capture_output=True, timeout=60)
            self.assertEqual(proc.returncode, 2, what)
            self.assertEqual(len(proc.stderr.splitlines()), 1, (what, proc.stderr))
        # A certificate whose key does not match.
        os.mkdir(os.path.join(self.tmp, "other"))
        other_cert, _ = make_certificate(os.path.join(self.tmp, "other"))
        args = self.serve_args()
        args[args.index("--tls-cert") + 1] = other_cert
        proc = subprocess.run([dgtest.DUMPGUARD, "serve", "--listen", "127.0.0.1:0", *args], capture_output=True,
                              timeout=60)
        self.assertEqual(proc.returncode, 2)
        self.assertIn(b"TLS", proc.stderr)


if __name__ == "__main__":
    unittest.main()
