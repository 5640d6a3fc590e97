"""`dumpguard redact --in-place` on a real gcore core of key_holder.

The core is redacted in place, plain and zstd-compressed; the test checks the file itself
afterwards against the key it knows (no RSA component is left, in either byte order), that the
result is byte for byte what `-o OUT` writes from the same input, mode 0600, and that nothing is
left beside it. On failures (a report that cannot be written, a verification scan cut short by
its time budget) the input must stay byte-identical and nothing new may appear beside it."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sha256(path):
    return hashlib.sha256(read(path)).hexdigest()


class RedactInPlace(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-inplace-")
        d = cls.d = cls._dir.name
        key_path = os.path.join(d, "key.pem")
        holder = dgtest.LiveProcess([os.path.join(dgtest.PROGRAMS, "key_holder"), "2048", "wait", key_path])
        try:
            cls.core = dgtest.gcore(holder.pid, d, self_check=False)  # the class checks its own redaction
        finally:
            holder.stop()
        numbers = serialization.load_pem_private_key(read(key_path), password=None).private_numbers()
        cls.components = {"p": numbers.p, "q": numbers.q, "d": numbers.d, "dp": numbers.dmp1, "dq": numbers.dmq1}
        cls.fp_key = os.path.join(d, "fingerprint.key")
        # The reference: what -o writes from the same input.
        cls.reference = os.path.join(d, "reference.core")
        dgtest.run_dumpguard("redact", "--fingerprint-key", cls.fp_key, cls.core, "-o", cls.reference, check_exit=0)

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def setUp(self):
        self.work = os.path.join(self.d, self.id().rsplit(".", 1)[-1])
        os.mkdir(self.work)

    def tearDown(self):
        shutil.rmtree(self.work)

    def copy_of_core(self, name="dump.core"):
        path = os.path.join(self.work, name)
        shutil.copyfile(self.core, path)
        os.chmod(path, 0o644)
        return path

    def assert_no_component(self, data):
        seen = 0
        original = read(self.core)
        for name, value in self.components.items():
            for encoding in dgtest.le_be_encodings(value):
                seen += len(dgtest.occurrences(original, encoding))
                self.assertEqual(dgtest.occurrences(data, encoding), [], f"{name} is still in the file")
        self.assertGreater(seen, 0, "the core holds no component: the check would prove nothing")

    def test_in_place_redacts_the_file_itself(self):
        path = self.copy_of_core()
        report = os.path.join(self.work, "report.json")
        code, out, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key, "--in-place", path,
                                              "--report", report)
        self.assertEqual(code, 0, err)
        data = read(path)
        self.assert_no_component(data)
        self.assertEqual(data, read(self.reference), "--in-place and -o wrote different bytes")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual(sorted(os.listdir(self.work)), ["dump.core", "report.json"], "something was left behind")
        with open(report) as f:
            r = json.load(f)
        self.assertEqual(r["input"]["path"], path)
        self.assertEqual(r["input"]["sha256"], sha256(self.core))
        self.assertEqual(r["output"], {"path": path, "in_place": True, "compression": None, "size": len(data),
                                       "sha256": hashlib.sha256(data).hexdigest()})
        self.assertEqual(r["verification"]["verdict"], "clean")
        self.assertEqual(dgtest.left_after_redaction(self.core, read(self.core), data, r["spans"]), [])
        code, _, err = dgtest.run_dumpguard("scan", "--fingerprint-key", self.fp_key, path)
        self.assertEqual(code, 0, err)

    def test_in_place_keeps_the_compression(self):
        plain = self.copy_of_core()
        path = plain + ".zst"
        subprocess.run(["zstd", "-q", "-1", "--rm", plain, "-o", path], check=True, timeout=300)
        code, _, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key, "--in-place", path)
        self.assertEqual(code, 0, err)
        decompressed = subprocess.run(["zstd", "-dc", path], check=True, capture_output=True, timeout=300).stdout
        self.assertEqual(decompressed, read(self.reference))
        self.assertEqual(os.listdir(self.work), ["dump.core.zst"])

    def test_report_that_cannot_be_written_leaves_the_input_untouched(self):
        path = self.copy_of_core()
        before = sha256(path)
        report = os.path.join(self.work, "no-such-dir", "report.json")
        code, out, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key, "--in-place", path,
                                              "--report", report)
        self.assertEqual(code, 2)
        self.assertEqual(len(err.decode().strip().splitlines()), 1, err)
        self.assertIn(b"no-such-dir", err)
        self.assertEqual(sha256(path), before, "the input changed")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o644)
        self.assertEqual(os.listdir(self.work), ["dump.core"], "something was left behind")

    def test_verification_cut_short_leaves_the_input_untouched(self):
        # A time budget too small for the hunts: the verification scan cannot prove the copy
        # clean, so nothing may replace the input.
        path = self.copy_of_core()
        before = sha256(path)
        code, _, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key, "--time-budget", "0.000001",
                                            "--in-place", path)
        self.assertEqual(code, 2, err)
        self.assertIn(b"not proven clean", err)
        self.assertEqual(sha256(path), before, "the input changed")
        self.assertEqual(os.listdir(self.work), ["dump.core"], "something was left behind")

    def test_refusals(self):
        path = self.copy_of_core()
        before = sha256(path)
        link = os.path.join(self.work, "link.core")
        os.symlink(path, link)
        code, _, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key, "--in-place", link)
        self.assertEqual(code, 2)
        self.assertIn(b"symlink", err)
        os.unlink(link)
        hard = os.path.join(self.work, "hard.core")
        os.link(path, hard)
        code, _, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key, "--in-place", path)
        self.assertEqual(code, 2)
        self.assertIn(b"hard links", err)
        os.unlink(hard)
        code, _, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key, "--in-place", "-",
                                            stdin=read(path))
        self.assertEqual(code, 2)
        self.assertIn(b"standard input", err)
        code, _, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key, "--in-place", path,
                                            "-o", os.path.join(self.work, "out.core"))
        self.assertEqual(code, 2)
        self.assertEqual(sha256(path), before)
        self.assertEqual(os.listdir(self.work), ["dump.core"])


if __name__ == "__main__":
    unittest.main()
