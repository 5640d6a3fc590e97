"""A search engine that fails is an error, never a clean verdict. The CLI runs with
tests/shims/hs_scan_wrong_scratch.cpp preloaded: every hs_scan gets a scratch that belongs to
another database, so Vectorscan itself fails the text rules' scan (HS_INVALID) and reports no
match. `scan` and `redact` must then exit 2 with one line naming the failure, write no report
or copy, and the gate must quarantine the dump instead of releasing it. The same runs without
the preload show that the input holds a secret (exit 1) or none (exit 0), so the exit 2 is the
failure's doing. The anchor pass uses Vectorscan only on a CPU without AVX2: qemu-x86_64
(package qemu-user) emulates one for that test. No live process: this runs in the sanitizer
build too, all but the emulated test (an ASan program does not run under qemu-user)."""
import os
import secrets
import shutil
import string
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
import gatetest  # noqa: E402

SHIM = os.environ.get("DG_HS_SCAN_WRONG_SCRATCH", "")
# A CPU qemu emulates that has SSE4.2 but no AVX2, so the anchor pass runs on Vectorscan.
NO_AVX2_CPU = "Nehalem"


def github_token():
    alphabet = string.ascii_letters + string.digits
    return "ghp_" + "".join(secrets.choice(alphabet) for _ in range(36))


class ScanEngineFailure(dgtest.DumpTestCase):
    def setUp(self):
        super().setUp()
        if not SHIM or not os.path.exists(SHIM):
            self.fail("DG_HS_SCAN_WRONG_SCRATCH is not set to the built preload library")
        self.token = github_token()
        filler = bytes(range(0x80, 0x100)) * 64  # no text
        self.secret_image = self.write("secret.raw", filler + b"\0GITHUB_TOKEN=" + self.token.encode() + b"\0" + filler)
        self.clean_image = self.write("clean.raw", filler + b"\0just some text, nothing secret\0" + filler)
        self.fp_key = os.path.join(self.tmp, "fingerprint.key")

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def run_cli(self, *args, failing):
        env = dict(os.environ)
        if failing:
            env["LD_PRELOAD"] = SHIM
        proc = subprocess.run([dgtest.DUMPGUARD, *args], capture_output=True, timeout=300, env=env)
        dgtest.assert_no_secret([proc.stdout, proc.stderr], {"token": self.token.encode()})
        return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")

    def assert_engine_error(self, code, err):
        self.assertEqual(code, 2, err)
        lines = err.strip().splitlines()
        self.assertEqual(len(lines), 1, err)
        self.assertIn("text rules", lines[0])
        self.assertIn("hs_scan failed (HS_INVALID", lines[0])

    def test_scan_exits_2_instead_of_missing_a_secret(self):
        code, out, err = self.run_cli("scan", "--raw", "--fingerprint-key", self.fp_key, self.secret_image,
                                      failing=False)
        self.assertEqual(code, 1, err)
        self.assertIn("github-pat", out)
        code, out, err = self.run_cli("scan", "--raw", "--fingerprint-key", self.fp_key, "--json", self.secret_image,
                                      failing=True)
        self.assert_engine_error(code, err)
        self.assertEqual(out, "", "no report of a scan that failed")

    def test_scan_of_a_clean_image_exits_2_not_0(self):
        code, out, err = self.run_cli("scan", "--raw", "--fingerprint-key", self.fp_key, self.clean_image,
                                      failing=False)
        self.assertEqual(code, 0, err)
        self.assertIn("clean", out)
        code, out, err = self.run_cli("scan", "--raw", "--fingerprint-key", self.fp_key, self.clean_image,
                                      failing=True)
        self.assert_engine_error(code, err)
        self.assertNotIn("clean", out)

    def test_redact_exits_2_and_writes_no_copy(self):
        out_path = os.path.join(self.tmp, "redacted.raw")
        code, out, err = self.run_cli("redact", "--raw", "--fingerprint-key", self.fp_key, self.secret_image,
                                      "-o", out_path, failing=True)
        self.assert_engine_error(code, err)
        self.assertFalse(os.path.exists(out_path), "no copy of a dump whose scan failed")
        code, out, err = self.run_cli("redact", "--raw", "--fingerprint-key", self.fp_key, self.secret_image,
                                      "-o", out_path, failing=False)
        self.assertEqual(code, 0, err)
        with open(out_path, "rb") as f:
            self.assertNotIn(self.token.encode(), f.read())

    @unittest.skipIf(os.environ.get("DG_SANITIZE") == "ON", "an ASan program does not run under qemu-user; "
                     "the Release build runs this test")
    def test_anchor_pass_on_vectorscan_exits_2_instead_of_missing_a_key(self):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        qemu = shutil.which("qemu-x86_64")
        if not qemu:
            self.fail("qemu-x86_64 is missing: make deps installs qemu-user")
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        filler = bytes(range(0x80, 0x100)) * 64
        image = self.write("pem.raw", filler + pem + filler)
        no_rules = self.write("no-rules.toml", b"# no text rules: only the anchor pass uses Vectorscan\n")
        secrets_seen = {"pem": pem, "body": b"".join(pem.splitlines()[1:-1])}

        def run(preload):
            argv = [qemu, "-cpu", NO_AVX2_CPU]
            if preload:
                argv += ["-E", "LD_PRELOAD=" + SHIM]
            argv += [dgtest.DUMPGUARD, "scan", "--raw", "--stats", "--rules-only", "--rules", no_rules,
                     "--fingerprint-key", self.fp_key, image]
            proc = subprocess.run(argv, capture_output=True, timeout=600)
            dgtest.assert_no_secret([proc.stdout, proc.stderr], secrets_seen)
            return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")

        code, out, err = run(preload=False)
        self.assertEqual(code, 1, err)
        self.assertIn("(anchors of every structure detector; Vectorscan)", err, "the emulated CPU has no AVX2")
        code, out, err = run(preload=True)
        self.assertEqual(code, 2, err)
        self.assertNotIn("clean", out)
        self.assertIn("dumpguard: internal error: the anchor pass: Vectorscan's hs_scan failed (HS_INVALID", err)

    def test_gate_quarantines_a_dump_it_could_not_search(self):
        # The corpus minidump that holds no key: without the failure the gate releases it
        # (test_gate_cli.py); with it, it must not.
        clean_dump = os.path.join(dgtest.MINIDUMPS, "fullmem-normal.dmp")
        g = gatetest.GateDirs(os.path.join(self.tmp, "gate"))
        g.deliver(clean_dump, "clean.dmp")
        env = dict(os.environ, LD_PRELOAD=SHIM)
        proc = subprocess.run([dgtest.DUMPGUARD, *g.args("--once")], capture_output=True, timeout=300, env=env)
        err = proc.stderr.decode(errors="replace")
        self.assertEqual(g.released(), [], err)
        self.assertEqual(g.quarantined(), ["clean.dmp"], err)
        reason = g.reason("clean.dmp")
        self.assertEqual(reason["reason"], "internal-error", reason)
        self.assertIn("hs_scan failed (HS_INVALID", reason["message"])


if __name__ == "__main__":
    unittest.main()
