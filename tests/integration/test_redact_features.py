"""`dumpguard redact` features that need no live process, so they run in the sanitizer build
too: the report and the copy are put in place together or not at all (--report failures, with -o
and with --in-place). The input is a raw image holding a PEM key the test generated; the test
knows where it put it."""
import hashlib
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Base(dgtest.DumpTestCase):
    def setUp(self):
        super().setUp()
        key = ec.generate_private_key(ec.SECP256R1())
        self.pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
        filler = bytes(range(32, 127)) * 30
        self.image = filler + self.pem + filler
        self.input = os.path.join(self.tmp, "image.raw")
        with open(self.input, "wb") as f:
            f.write(self.image)
        self.fp_key = os.path.join(self.tmp, "fingerprint.key")
        dgtest.run_dumpguard("fingerprint", "--fingerprint-key", self.fp_key, "-o", os.path.join(self.tmp, "fp"),
                             self.input)  # makes the fingerprint key, outside the listings below
        os.unlink(os.path.join(self.tmp, "fp"))

    def redact(self, *args):
        return dgtest.run_dumpguard("redact", "--raw", "--fingerprint-key", self.fp_key, *args)

    def listing(self):
        return sorted(os.listdir(self.tmp))


class ReportAndCopyTogether(Base):
    """Exit 0 means OUT and the report both exist; exit 2 that neither a new OUT nor a report
    claiming one does."""

    def test_success_writes_both(self):
        out, report = os.path.join(self.tmp, "out.raw"), os.path.join(self.tmp, "report.json")
        code, _, err = self.redact(self.input, "-o", out, "--report", report)
        self.assertEqual(code, 0, err)
        self.assertNotIn(self.pem, read(out))
        self.assertIn(hashlib.sha256(read(out)).hexdigest().encode(), read(report))

    def test_report_in_a_missing_directory(self):
        out = os.path.join(self.tmp, "out.raw")
        before = self.listing()
        code, _, err = self.redact(self.input, "-o", out, "--report", os.path.join(self.tmp, "missing", "r.json"))
        self.assertEqual(code, 2)
        self.assertEqual(len(err.decode().strip().splitlines()), 1, err)
        self.assertFalse(os.path.exists(out))
        self.assertEqual(self.listing(), before)

    def test_report_under_a_regular_file(self):
        # ENOTDIR: the report's "directory" is a file. Fails even for root, unlike permissions.
        out = os.path.join(self.tmp, "out.raw")
        before = self.listing()
        code, _, err = self.redact(self.input, "-o", out, "--report", os.path.join(self.input, "r.json"))
        self.assertEqual(code, 2)
        self.assertFalse(os.path.exists(out))
        self.assertEqual(self.listing(), before)

    def test_report_that_fails_after_the_copy_is_in_place(self):
        # The report's path is a directory: its temporary file is made beside it, and only the
        # last step (the rename over a directory) fails, after OUT was put in place. OUT must be
        # undone: a new OUT disappears, an older OUT comes back unchanged.
        report = os.path.join(self.tmp, "report-dir")
        os.mkdir(report)
        out = os.path.join(self.tmp, "out.raw")
        before = self.listing()
        code, _, err = self.redact(self.input, "-o", out, "--report", report)
        self.assertEqual(code, 2)
        self.assertIn(b"as it was before", err)
        self.assertFalse(os.path.exists(out))
        self.assertEqual(self.listing(), before)

        with open(out, "wb") as f:
            f.write(b"an older copy")
        before = self.listing()
        code, _, err = self.redact(self.input, "-o", out, "--report", report)
        self.assertEqual(code, 2)
        self.assertEqual(read(out), b"an older copy")
        self.assertEqual(self.listing(), before)

    def test_in_place_report_that_fails_after_the_swap(self):
        report = os.path.join(self.tmp, "report-dir")
        os.mkdir(report)
        before = self.listing()
        code, _, err = self.redact("--in-place", self.input, "--report", report)
        self.assertEqual(code, 2)
        self.assertEqual(read(self.input), self.image, "the input was not put back")
        self.assertEqual(self.listing(), before)

    def test_in_place_success(self):
        report = os.path.join(self.tmp, "report.json")
        code, _, err = self.redact("--in-place", self.input, "--report", report)
        self.assertEqual(code, 0, err)
        data = read(self.input)
        self.assertEqual(len(data), len(self.image))
        self.assertNotIn(self.pem, data)
        for line in self.pem.splitlines()[1:-1]:
            self.assertNotIn(line, data)
        self.assertEqual(os.stat(self.input).st_mode & 0o777, 0o600)
        self.assertEqual(self.listing(), ["fingerprint.key", "image.raw", "report.json"])


if __name__ == "__main__":
    unittest.main()
