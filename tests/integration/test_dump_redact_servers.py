"""`dumpguard redact` on real cores of two more real processes: `openssl s_server`
holding an RSA-2048 key made here, after one TLS handshake and GET, and a process whose
environment (and heap) holds credentials made here in the shapes providers use (AWS access key
id and secret key, a GitHub token, a Slack token also kept as UTF-16LE, a bearer token).

Each is dumped with gcore and redacted; then gdb must print the same threads and backtraces,
dumpguard's rescan must find nothing, the test's own search (dgtest.find_secrets: every
encoding, and 16-byte pieces) must find no component of the key (p, q, d, dp, dq, qinv, big-
and little-endian) and no credential value, while it finds them in the input; aeskeyfind and
rsakeyfind must find nothing; no output may carry a secret. For the environment, the variable
names (the context) stay readable and only the values are filled."""
import json
import os
import secrets
import string
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
from test_dump_redact import gdb_threads, info_without_file_fields  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402

BASE62 = string.ascii_letters + string.digits


def random_text(n, alphabet=BASE62):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def aeskeyfind(path):
    return subprocess.run(["aeskeyfind", "-q", path], capture_output=True, text=True, timeout=600).stdout.split()


def rsakeyfind(path):
    out = subprocess.run(["rsakeyfind", path], capture_output=True, text=True, timeout=600).stdout
    return out.count("FOUND PRIVATE KEY")


class RedactedCore:
    """Mixin: make_core() gives (program, core, secrets {name: bytes}); setUpClass redacts it."""

    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-redact-real-")
        d = cls.d = cls._dir.name
        cls.program, cls.core, cls.secrets = cls.make_core(d)
        cls.fp_key = os.path.join(d, "fingerprint.key")
        cls.out = os.path.join(d, "redacted.core")
        cls.report_path = os.path.join(d, "report.json")
        cls.code, cls.stdout, cls.stderr = dgtest.run_dumpguard(
            "redact", "--fingerprint-key", cls.fp_key, cls.core, "-o", cls.out, "--report", cls.report_path)
        cls.input_bytes = read(cls.core)
        cls.out_bytes = read(cls.out) if os.path.exists(cls.out) else b""

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def test_written_same_size_same_model(self):
        self.assertEqual(self.code, 0, self.stderr)
        self.assertEqual(len(self.out_bytes), len(self.input_bytes))
        self.assertEqual(info_without_file_fields(self.out), info_without_file_fields(self.core))

    def test_gdb_prints_the_same_threads_and_backtraces(self):
        original = gdb_threads(self.program, self.core)
        self.assertIn("Thread 1", original)
        self.assertIn("main", original)
        self.assertEqual(gdb_threads(self.program, self.out), original)

    def test_rescan_finds_nothing(self):
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", self.fp_key, self.out)
        self.assertEqual(code, 0, err)
        report = json.loads(out)
        self.assertEqual(report["findings"], [])
        self.assertEqual(report["verdict"], "clean")
        dgtest.assert_no_secret({"rescan": out + err}, self.secrets)

    def test_no_secret_is_left_in_any_encoding(self):
        before = {name for name, _, _ in dgtest.find_secrets(self.input_bytes, self.secrets)}
        self.assertEqual(before, set(self.expected_in_input()), "the test's search must see them in the input")
        self.assertEqual(dgtest.find_secrets(self.out_bytes, self.secrets), [])

    def test_key_finders_find_nothing(self):
        if self.peers_find_something_in_the_input:
            self.assertNotEqual(aeskeyfind(self.core), [], "aeskeyfind found nothing in the input")
            self.assertGreater(rsakeyfind(self.core), 0, "rsakeyfind found nothing in the input")
        self.assertEqual(aeskeyfind(self.out), [])
        self.assertEqual(rsakeyfind(self.out), 0)

    def test_no_output_carries_a_secret(self):
        dgtest.assert_no_secret({"stdout": self.stdout, "stderr": self.stderr, "report": read(self.report_path)},
                                self.secrets)

    def test_what_the_scan_found_is_gone_from_the_output(self):
        # Self-consistency: the bytes of every span the redaction covered (each finding of the
        # input's scan), and every AES key aeskeyfind -t 0 sees in the input (the raw key a
        # schedule expands from, wherever the application also keeps it), occur nowhere in the
        # output.
        with open(self.report_path) as f:
            spans = json.load(f)["spans"]
        self.assertEqual(dgtest.left_after_redaction(self.core, self.input_bytes, self.out_bytes, spans), [])


class RedactSServer(RedactedCore, dgtest.DumpTestCase):
    # The TLS session's AES schedules, and DER copies of the key OpenSSL made while loading it.
    peers_find_something_in_the_input = True

    @classmethod
    def make_core(cls, d):
        key_path, cert_path = os.path.join(d, "key.pem"), os.path.join(d, "cert.pem")
        dgtest.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key_path)
        dgtest.openssl("req", "-x509", "-key", key_path, "-out", cert_path, "-days", "2", "-subj", "/CN=localhost")
        server = dgtest.start_s_server(d, key_path, cert_path)
        try:
            cls.response = dgtest.tls_get(server.port)
            core = dgtest.gcore(server.pid, d, self_check=False)  # RedactedCore checks its own redaction
        finally:
            server.kill()
            server.wait()
        n = serialization.load_pem_private_key(read(key_path), password=None).private_numbers()
        found = {}
        for name, value in {"p": n.p, "q": n.q, "d": n.d, "dp": n.dmp1, "dq": n.dmq1, "qinv": n.iqmp}.items():
            be, le = dgtest.le_be_encodings(value)
            found[f"{name} (big-endian)"], found[f"{name} (little-endian)"] = be, le
        os.unlink(key_path)  # the key now lives in the core (and in this test) only
        return "/usr/bin/openssl", core, found

    def expected_in_input(self):
        # OpenSSL keeps the key as BIGNUMs (little-endian limbs); each number is in the core.
        return [name for name in self.secrets if "little" in name]

    def test_the_handshake_happened(self):
        self.assertIn(b"200 ok", self.response)


class RedactEnvironmentSecrets(RedactedCore, dgtest.DumpTestCase):
    peers_find_something_in_the_input = False  # text credentials only

    @classmethod
    def make_core(cls, d):
        cls.env = {
            "PATH": "/usr/bin:/bin",
            "AWS_ACCESS_KEY_ID": "AKIA" + random_text(16, string.ascii_uppercase + "234567"),
            "AWS_SECRET_ACCESS_KEY": random_text(40, BASE62 + "/+"),
            "GITHUB_TOKEN": "ghp_" + random_text(36),
            # text_secret_holder keeps this one as a std::u16string too (UTF-16LE) ...
            "DG_WIDE_SECRET": "xoxb-" + random_text(12, string.digits) + "-" + random_text(12, string.digits) + "-"
                              + random_text(24),
            # ... and sends this one in an Authorization header it builds on the heap.
            "API_TOKEN": random_text(48, BASE62 + "-._~"),
        }
        program = os.path.join(dgtest.PROGRAMS, "text_secret_holder")
        holder = dgtest.LiveProcess([program], env=cls.env)
        try:
            core = dgtest.gcore(holder.pid, d, self_check=False)  # RedactedCore checks its own redaction
        finally:
            holder.stop()
        return program, core, {name: value.encode() for name, value in cls.env.items() if name != "PATH"}

    def expected_in_input(self):
        return list(self.secrets)

    def test_the_names_stay_and_only_the_values_go(self):
        model = dgtest.info_json(self.core)
        self.assertEqual(len(model["environment"]), 1, model["environment"])
        block = model["environment"][0]
        start, size = block["file_offset"], block["size"]
        expected = b"".join(f"{k}={v}".encode() + b"\0" for k, v in self.env.items())
        self.assertEqual(self.input_bytes[start:start + size], expected)
        # In the copy: every NAME= in place, each secret value zero-filled, PATH untouched.
        redacted = b"".join(f"{k}=".encode() + (v.encode() if k == "PATH" else bytes(len(v))) + b"\0"
                            for k, v in self.env.items())
        self.assertEqual(self.out_bytes[start:start + size], redacted)
        # Elsewhere too, wherever a name was followed by '=' it still is.
        for name in self.env:
            marker = f"{name}=".encode()
            self.assertEqual(dgtest.occurrences(self.out_bytes, marker), dgtest.occurrences(self.input_bytes, marker))


if __name__ == "__main__":
    unittest.main()
