"""The text reports of `scan` and `redact`: tables for people, colour only on a
terminal (or with --color always), the verdict on the last line, and no secret bytes. The input
is a raw image with a PEM key and a DER key the test generated, at offsets the test knows; the
terminal is a real pseudo-terminal (Python's pty module)."""
import os
import pty
import re
import select
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402

ANSI = re.compile(rb"\x1b\[[0-9;]*m")


def run_on_pty(args, env=None, stdout_tty=True, stderr_tty=False, timeout=300):
    """Runs the CLI with stdout and/or stderr on a pseudo-terminal; returns (exit code, what the
    terminal showed, what the pipes got)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([dgtest.DUMPGUARD, *args], stdin=subprocess.DEVNULL,
                            stdout=slave if stdout_tty else subprocess.PIPE,
                            stderr=slave if stderr_tty else subprocess.PIPE, env=env)
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            proc.kill()
            raise AssertionError("dumpguard hung on the terminal")
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    piped = b"".join(p.read() for p in (proc.stdout, proc.stderr) if p is not None)
    code = proc.wait(timeout=timeout)
    os.close(master)
    return code, shown.replace(b"\r\n", b"\n"), piped


def last_line(text):
    return ANSI.sub(b"", text).rstrip(b"\n").split(b"\n")[-1]


class TextReports(dgtest.DumpTestCase):
    def setUp(self):
        super().setUp()
        self.pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.der = rsa_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                         serialization.NoEncryption())
        self.d = rsa_key.private_numbers().d.to_bytes(256, "big")
        filler = bytes(range(32, 127)) * 20
        self.image = filler + self.pem + filler + self.der + filler
        self.pem_at, self.der_at = len(filler), 2 * len(filler) + len(self.pem)
        self.path = os.path.join(self.tmp, "image.raw")
        with open(self.path, "wb") as f:
            f.write(self.image)
        self.fp_key = os.path.join(self.tmp, "fp.key")
        self.env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}

    def scan_args(self, *extra):
        return ["scan", "--raw", "--fingerprint-key", self.fp_key, *extra, self.path]

    def redact_args(self, out, *extra):
        return ["redact", "--raw", "--fingerprint-key", self.fp_key, *extra, self.path, "-o", out]

    def assert_no_secret(self, text):
        body = b"".join(self.pem.splitlines()[1:-1])
        dgtest.assert_no_secret({"report": text}, {"der": self.der, "d": self.d, "pem body": body})

    def test_scan_piped_is_plain_with_the_verdict_last(self):
        code, out, err = dgtest.run_dumpguard(*self.scan_args())
        self.assertEqual(code, 1, err)
        self.assertIsNone(ANSI.search(out), "colour in piped output")
        # Two keys, each verified (the EC key's public point and the RSA key's p*q = n hold).
        self.assertRegex(last_line(out), rb"^verdict: \d+ findings? in 2 keys \(2 critical\)$")
        # The findings table: a header, and a row at each offset the test put a key.
        self.assertRegex(out, rb"\n +key +kind +encoding +offset +length +vaddr +region\n")
        for at in (self.pem_at, self.der_at):
            self.assertRegex(out, rb"\n +\d+ +\S+ +\S+ +" + f"{at:#x}".encode() + rb" ")
        self.assert_no_secret(out + err)

    def test_scan_color_always(self):
        code, out, err = dgtest.run_dumpguard(*self.scan_args("--color", "always"))
        self.assertEqual(code, 1, err)
        self.assertIsNotNone(ANSI.search(out))
        self.assertIn(b"\x1b[1;31mcritical\x1b[0m", out)
        self.assertTrue(last_line(out).startswith(b"verdict: "))
        self.assertEqual(ANSI.sub(b"", out), dgtest.run_dumpguard(*self.scan_args("--color", "never"))[1])
        self.assert_no_secret(out)

    def test_scan_auto_colours_a_terminal_unless_no_color(self):
        code, shown, _ = run_on_pty(self.scan_args(), env=self.env)
        self.assertEqual(code, 1)
        self.assertIsNotNone(ANSI.search(shown), "no colour on a terminal")
        self.assertTrue(last_line(shown).startswith(b"verdict: "))
        code, shown, _ = run_on_pty(self.scan_args(), env=dict(self.env, NO_COLOR="1"))
        self.assertEqual(code, 1)
        self.assertIsNone(ANSI.search(shown), "colour despite NO_COLOR")
        code, shown, _ = run_on_pty(self.scan_args("--color", "never"), env=self.env)
        self.assertIsNone(ANSI.search(shown))

    def test_scan_clean_dump(self):
        clean = os.path.join(self.tmp, "clean.raw")
        with open(clean, "wb") as f:
            f.write(bytes(range(32, 127)) * 40)
        code, out, err = dgtest.run_dumpguard("scan", "--raw", "--fingerprint-key", self.fp_key, clean)
        self.assertEqual(code, 0, err)
        self.assertEqual(last_line(out), b"verdict: clean")

    def test_redact_text(self):
        out_path = os.path.join(self.tmp, "out.raw")
        code, out, err = dgtest.run_dumpguard(*self.redact_args(out_path))
        self.assertEqual(code, 0, err)
        self.assertIsNone(ANSI.search(out))
        self.assertEqual(last_line(out), f"verdict: clean: {out_path} written and verified by a rescan".encode())
        self.assertRegex(out, rb"\n +key +kind +detector +spans +bytes\n")
        self.assert_no_secret(out + err)
        os.unlink(out_path)
        code, out, err = dgtest.run_dumpguard(*self.redact_args(out_path, "--color", "always"))
        self.assertEqual(code, 0, err)
        self.assertIn(b"\x1b[1;32mclean", out)
        self.assertTrue(last_line(out).startswith(b"verdict: clean"))
        os.unlink(out_path)
        code, shown, _ = run_on_pty(self.redact_args(out_path), env=self.env)
        self.assertEqual(code, 0)
        self.assertIsNotNone(ANSI.search(shown))
        self.assert_no_secret(shown)


class HelpFooters(unittest.TestCase):
    def test_every_command_documents_its_exit_codes(self):
        expected = {("scan",): [b"0 clean", b"1 findings", b"2 error"],
                    ("redact",): [b"0 the copy was written and its verification scan found nothing", b"2 error",
                                  b"Never 1"],
                    ("info",): [b"0 every dump was read", b"2 error"],
                    ("fingerprint",): [b"0 the fingerprint file was written", b"2 error"],
                    ("rules", "check"): [b"0 every rule passes", b"1 a rule fails", b"2 error"],
                    ("audit", "verify"): [b"0 the chain", b"1 broken", b"2 error"]}
        for command, phrases in expected.items():
            code, out, err = dgtest.run_dumpguard(*command, "--help")
            self.assertEqual(code, 0, command)
            footer = out.rstrip().split(b"\n")[-1]
            self.assertTrue(footer.startswith(b"Exit codes: "), (command, footer))
            for phrase in phrases:
                self.assertIn(phrase, footer, command)


if __name__ == "__main__":
    unittest.main()
