"""The progress bar of `scan` and `redact`: drawn on stderr when stderr is a
terminal (a real pseudo-terminal, Python's pty module), erased at the end, absent when stderr is
a pipe or --no-progress is given; the report on stdout is the same either way. The input is a
raw image of random bytes, scanned slowly enough (see SLOW) to outlast the bar's first delay."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
from test_text_reports import run_on_pty  # noqa: E402

# The scan must outlast the bar's first delay (0.2 s). It no longer starts with the built-in
# rules' 0.45 s compile (now done at build time), and random bytes scan at about 0.5 GB/s, so
# --aes-tolerance 16 makes the scan compute-bound instead of the file large: on this machine
# 16 MiB take 0.6 s (0.04 s without it), and 8 MiB take 1 s in the sanitizer build.
SANITIZED = os.environ.get("DG_SANITIZE") == "ON"
SIZE = (8 if SANITIZED else 16) << 20
SIZE_TEXT = b"8.0 MiB" if SANITIZED else b"16.0 MiB"
SLOW = ["--aes-tolerance", "16"]


class ProgressBar(dgtest.DumpTestCase):
    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-progress-")
        cls.image = os.path.join(cls._dir.name, "image.raw")
        with open(cls.image, "wb") as f:
            f.write(os.urandom(SIZE))
        cls.fp_key = os.path.join(cls._dir.name, "fp.key")

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def scan(self, *extra):
        return ["scan", "--raw", *SLOW, "--fingerprint-key", self.fp_key, *extra, self.image]

    def assert_bar_drawn_and_erased(self, shown, stage):
        self.assertIn(b"\r", shown)
        self.assertRegex(shown, rb"\r" + stage + rb" \[[#.]+\] +\d+%  [\d.]+ [KMG]?i?B / " + SIZE_TEXT.replace(b".", b"\\."))
        self.assertTrue(shown.endswith(b"\r\x1b[K"), "the bar was not erased at the end")

    def test_scan_draws_on_a_terminal(self):
        code, shown, piped = run_on_pty(self.scan(), stdout_tty=False, stderr_tty=True)
        self.assertEqual(code, 0)
        self.assert_bar_drawn_and_erased(shown, rb"scan")
        # One pass per detector: the bar names them.
        self.assertRegex(shown, rb"  [a-z0-9-]+ \d+/\d+  ")
        self.assertTrue(piped.rstrip().endswith(b"verdict: clean"))
        self.assertNotIn(b"\r", piped)

    def test_nothing_when_stderr_is_a_pipe(self):
        code, out, err = dgtest.run_dumpguard(*self.scan())
        self.assertEqual(code, 0)
        self.assertEqual(err, b"")
        self.assertNotIn(b"\r", out)

    def test_no_progress_on_a_terminal(self):
        code, shown, _ = run_on_pty(self.scan("--no-progress"), stdout_tty=False, stderr_tty=True)
        self.assertEqual(code, 0)
        self.assertEqual(shown, b"")

    def test_redact_draws_its_stages(self):
        out = os.path.join(self.tmp, "out.raw")
        args = ["redact", "--raw", *SLOW, "--fingerprint-key", self.fp_key, self.image, "-o", out]
        code, shown, piped = run_on_pty(args, stdout_tty=False, stderr_tty=True)
        self.assertEqual(code, 0, piped)
        self.assert_bar_drawn_and_erased(shown, rb"(scan|verify)")
        self.assertIn(b"verify [", shown)  # the rescan of the copy is as long as the scan
        self.assertIn(b"verdict: clean", piped)
        os.unlink(out)
        code, out_text, err = dgtest.run_dumpguard(*args)
        self.assertEqual(code, 0)
        self.assertEqual(err, b"")


if __name__ == "__main__":
    unittest.main()
