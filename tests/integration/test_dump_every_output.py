"""No output carries a secret: one test that collects EVERY
output dumpguard produces on real dumps holding secrets made here, and greps all of them for
every secret in every encoding (dgtest.assert_no_secret: raw, hex in both cases, base64 and
base64url at each alignment, UTF-16LE of the raw text and of the hex and base64 forms, bytes
written as JSON text, and every 16-byte piece of a long secret).

The dumps: key_holder (an RSA-2048 key, whose p, q, d, dp, dq, qinv are sought big- and
little-endian) started with AWS and GitHub credentials in its environment; secret_holder.py
holding a registered password and a registered binary API key in several forms; aes_evp holding
AES-128/192/256 keys. The outputs: `fingerprint` (its file, stdout, stderr), `scan` as text,
--json and --sarif (with --pubkey and --fingerprints), `redact` (stdout, stderr, --report) of
each dump, the rescan of each copy, and `info` as text and JSON; the stderr of each."""
import json
import os
import secrets
import string
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402

HOLDER = os.path.join(os.path.dirname(os.path.dirname(__file__)), "programs", "secret_holder.py")
BASE62 = string.ascii_letters + string.digits


def random_text(n, alphabet=BASE62):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write_secret(path, data):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
        f.write(data)


class EveryOutput(dgtest.DumpTestCase):
    def setUp(self):
        super().setUp()
        d = self.tmp
        self.secrets = {}
        self.outputs = {}
        # key_holder, with credentials in its environment.
        env = {"PATH": "/usr/bin:/bin", "AWS_SECRET_ACCESS_KEY": random_text(40, BASE62 + "/+"),
               "GITHUB_TOKEN": "ghp_" + random_text(36)}
        self.secrets.update({name: value for name, value in env.items() if name != "PATH"})
        key_path = os.path.join(d, "key.pem")
        holder = dgtest.LiveProcess([os.path.join(dgtest.PROGRAMS, "key_holder"), "2048", "wait", key_path], env=env)
        try:
            key_core = dgtest.gcore(holder.pid, d, self_check=False)  # each core's redaction is checked below
        finally:
            holder.stop()
        key = serialization.load_pem_private_key(read(key_path), password=None)
        os.unlink(key_path)
        self.pubkey = os.path.join(d, "key.pub.pem")
        with open(self.pubkey, "wb") as f:
            f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
        n = key.private_numbers()
        for name, value in {"p": n.p, "q": n.q, "d": n.d, "dp": n.dmp1, "dq": n.dmq1, "qinv": n.iqmp}.items():
            be, le = dgtest.le_be_encodings(value)
            self.secrets[f"RSA {name} (big-endian)"], self.secrets[f"RSA {name} (little-endian)"] = be, le
        # secret_holder.py, with a registered password and API key.
        self.secrets["password"] = "db-" + secrets.token_urlsafe(15)
        self.secrets["API key"] = secrets.token_bytes(32)
        pw_file, api_file = os.path.join(d, "db-password"), os.path.join(d, "api-key")
        write_secret(pw_file, (self.secrets["password"] + "\n").encode())
        write_secret(api_file, self.secrets["API key"])
        service = dgtest.LiveProcess(["/usr/bin/python3", HOLDER, pw_file, api_file])
        os.mkdir(os.path.join(d, "service"))
        try:
            service_core = dgtest.gcore(service.pid, os.path.join(d, "service"), self_check=False)
        finally:
            service.stop()
        # aes_evp, with three AES keys.
        aes_file = os.path.join(d, "aes.keys")
        aes = dgtest.LiveProcess([os.path.join(dgtest.PROGRAMS, "aes_evp"), aes_file])
        os.mkdir(os.path.join(d, "aes"))
        try:
            aes_core = dgtest.gcore(aes.pid, os.path.join(d, "aes"), self_check=False)
        finally:
            aes.stop()
        raw = read(aes_file)
        os.unlink(aes_file)
        self.secrets.update({"AES-128 key": raw[:16], "AES-192 key": raw[16:40], "AES-256 key": raw[40:]})
        self.cores = [key_core, service_core, aes_core]
        self.fp_key = os.path.join(d, "fingerprint.key")
        self.fingerprints = os.path.join(d, "fingerprints.json")
        self.produce("fingerprint", "fingerprint", "--fingerprint-key", self.fp_key, pw_file, api_file,
                 "-o", self.fingerprints, expect=0)
        os.unlink(pw_file)
        os.unlink(api_file)
        self.outputs["fingerprint file"] = read(self.fingerprints)

    def produce(self, label, *args, expect=None):
        proc = subprocess.run([dgtest.DUMPGUARD, *args], capture_output=True, timeout=600)
        if expect is not None:
            self.assertEqual(proc.returncode, expect, f"{label}: {proc.stderr.decode(errors='replace')}")
        self.outputs[f"{label} stdout"] = proc.stdout
        self.outputs[f"{label} stderr"] = proc.stderr
        return proc

    def test_no_output_carries_any_secret_in_any_encoding(self):
        # Every secret is in a dump (the RSA numbers as OpenSSL's little-endian limbs), so every
        # report is about dumps that hold them.
        dumps = b"".join(read(core) for core in self.cores)
        for name, secret in self.secrets.items():
            if "big-endian" not in name:
                held = (secret.encode() if isinstance(secret, str) else secret) in dumps
                self.assertTrue(held, f"{name} is in none of the dumps")
        hints = ["--fingerprint-key", self.fp_key, "--fingerprints", self.fingerprints, "--pubkey", self.pubkey]
        self.produce("scan (text)", "scan", *hints, *self.cores, expect=1)
        reports = json.loads(self.produce("scan --json", "scan", "--json", *hints, *self.cores, expect=1).stdout)
        self.assertEqual(len(reports), 3, "one report per dump")
        self.assertEqual([s["status"] for s in reports[0]["supplied"]], ["present"])
        self.assertEqual(sorted(r["status"] for r in reports[1]["registered"]), ["present", "present"])
        self.produce("scan --sarif", "scan", "--sarif", *hints, *self.cores, expect=1)
        self.produce("info (text)", "info", *self.cores, expect=0)
        self.produce("info --json", "info", "--json", *self.cores, expect=0)
        copies = []
        for i, core in enumerate(self.cores):
            out, report_path = os.path.join(self.tmp, f"redacted-{i}.core"), os.path.join(self.tmp, f"report-{i}.json")
            self.produce(f"redact {i}", "redact", *hints, core, "-o", out, "--report", report_path, expect=0)
            self.outputs[f"redact {i} --report"] = read(report_path)
            copies.append(out)
            # Whatever the scan found in this dump is gone from its copy, wherever else it was.
            spans = json.loads(read(report_path))["spans"]
            self.assertEqual(dgtest.left_after_redaction(core, read(core), read(out), spans), [], core)
        self.produce("rescan (text)", "scan", *hints, *copies, expect=0)
        self.produce("rescan --json", "scan", "--json", *hints, *copies, expect=0)
        self.produce("rescan --sarif", "scan", "--sarif", *hints, *copies, expect=0)
        self.assertGreaterEqual(len(self.outputs), 20)
        dgtest.assert_no_secret(self.outputs, self.secrets)


if __name__ == "__main__":
    unittest.main()
