"""`dumpguard redact` and the other commands under attack and faults, without a live process (so
it runs in the sanitizer build too): a --report path that names the input or the output under any
spelling, SIGINT, SIGTERM and SIGHUP in the middle of writing the copy, and a stderr or stdout
that cannot be written (/dev/full). Inputs are made by the test: a raw image holding a PEM key
it generated, and a corpus minidump that holds no key."""
import hashlib
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

CLEAN_DUMP = os.path.join(dgtest.MINIDUMPS, "fullmem-normal.dmp")


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class RedactHostile(dgtest.DumpTestCase):
    def setUp(self):
        super().setUp()
        self.fp_key = os.path.join(self.tmp, "fingerprint.key")
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        self.image = os.path.join(self.tmp, "image.raw")
        with open(self.image, "wb") as f:
            f.write(bytes(range(32, 127)) * 50 + pem + bytes(range(32, 127)) * 50)
        self.before = digest(self.image)

    def redact(self, *args):
        return dgtest.run_dumpguard("redact", "--raw", "--no-progress", "--fingerprint-key", self.fp_key, *args)

    def test_report_naming_the_input_or_the_output_is_refused(self):
        out = os.path.join(self.tmp, "out.raw")
        link = os.path.join(self.tmp, "image-link.raw")
        os.link(self.image, link)
        spelled = os.path.join(self.tmp, ".", "sub", "..", "image.raw")
        os.makedirs(os.path.join(self.tmp, "sub"))
        cases = {
            "the input": [self.image, "-o", out, "--report", self.image],
            "the input, spelled otherwise": [self.image, "-o", out, "--report", spelled],
            "the input, by another hard link": [self.image, "-o", out, "--report", link],
            "the output, not there yet": [self.image, "-o", out, "--report", os.path.join(self.tmp, "sub", "..", "out.raw")],
        }
        for what, args in cases.items():
            code, stdout, err = self.redact(*args)
            self.assertEqual(code, 2, f"{what}: {err}")
            self.assertIn(b"--report names", err, what)
            self.assertEqual(digest(self.image), self.before, f"{what}: the input changed")
            self.assertFalse(os.path.exists(out), f"{what}: an output was written")
            self.assertEqual(sorted(os.listdir(self.tmp)), ["image-link.raw", "image.raw", "sub"], what)
        # The output that exists already, named by the report.
        with open(out, "wb") as f:
            f.write(b"an older copy")
        code, _, err = self.redact(self.image, "-o", out, "--report", out)
        self.assertEqual(code, 2, err)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), b"an older copy")
        os.unlink(out)
        # --in-place: the report may not name the dump it replaces (the dump needs one link).
        os.unlink(link)
        code, _, err = self.redact(self.image, "--in-place", "--report", spelled)
        self.assertEqual(code, 2, err)
        self.assertIn(b"--report names", err)
        self.assertEqual(digest(self.image), self.before, "the input changed")
        # A report of its own is still fine.
        report = os.path.join(self.tmp, "report.json")
        code, _, err = self.redact(self.image, "-o", out, "--report", report)
        self.assertEqual(code, 0, err)
        self.assertTrue(os.path.exists(report) and os.path.exists(out))

    def test_a_signal_while_the_copy_is_written_leaves_no_temporary_file(self):
        # Large enough that the copy's write and rescan take a while: the signal lands there.
        big = os.path.join(self.tmp, "big.raw")
        with open(big, "wb") as f:
            for _ in range(12):
                f.write(os.urandom(16 << 20))
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            out_dir = os.path.join(self.tmp, f"out-{sig.name}")
            os.makedirs(out_dir)
            out = os.path.join(out_dir, "out.raw")
            proc = subprocess.Popen([dgtest.DUMPGUARD, "redact", "--raw", "--no-progress", "--fingerprint-key",
                                     self.fp_key, big, "-o", out, "--report", out + ".json"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            deadline = time.time() + 120
            while time.time() < deadline and proc.poll() is None and \
                    not any(n.startswith("out.raw.") and not n.endswith(".json") for n in os.listdir(out_dir)):
                time.sleep(0.002)
            self.assertIsNone(proc.poll(), "redact ended before its temporary file was seen")
            proc.send_signal(sig)
            proc.communicate(timeout=120)
            self.assertEqual(proc.returncode, -sig, f"{sig.name}: it ends by the signal, as before")
            self.assertEqual(os.listdir(out_dir), [], f"{sig.name}: left behind")

    def test_stderr_that_cannot_be_written_changes_nothing(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        garbage = os.path.join(self.tmp, "garbage.core")
        with open(garbage, "wb") as f:
            f.write(os.urandom(4096))
        out = os.path.join(self.tmp, "out.raw")
        runs = [(["info", garbage], 2), (["scan", "--no-progress", "--fingerprint-key", self.fp_key, garbage], 2),
                (["redact", "--no-progress", "--fingerprint-key", self.fp_key, garbage, "-o", out], 2),
                (["redact", "--raw", "--no-progress", "--fingerprint-key", self.fp_key, self.image, "-o", out], 0),
                (["redact", "--bad-option"], 2)]
        for args, expected in runs:
            with open("/dev/full", "wb") as full:
                proc = subprocess.run([dgtest.DUMPGUARD, *args], stdout=subprocess.DEVNULL, stderr=full, timeout=300)
            self.assertEqual(proc.returncode, expected, f"{args}: exit {proc.returncode} (negative: a signal)")
        self.assertTrue(os.path.exists(out), "the copy was made although nothing could be said")

    def test_a_report_that_cannot_be_written_is_an_error(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        for args in (["scan", "--json"], ["scan", "--sarif"], ["scan"], ["info", "--json"], ["info"]):
            with open("/dev/full", "wb") as full:
                proc = subprocess.run([dgtest.DUMPGUARD, *args, "--fingerprint-key", self.fp_key, CLEAN_DUMP]
                                      if args[0] == "scan" else [dgtest.DUMPGUARD, *args, CLEAN_DUMP],
                                      stdout=full, stderr=subprocess.PIPE, timeout=300)
            self.assertEqual(proc.returncode, 2, f"{args}: {proc.stderr}")
            self.assertIn(b"standard output", proc.stderr)
        # The same scan to a writable stdout exits by its findings (the dump holds none).
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", self.fp_key, CLEAN_DUMP)
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main()
