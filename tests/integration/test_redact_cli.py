"""`dumpguard redact` without a live process, so it runs in the sanitizer build too: a raw
image holding a PEM and a DER private key the test generated (--raw), the test corpus
minidump that holds no key, unreadable input and usage errors. The expected bytes come from the
test's own knowledge of where it put the keys."""
import hashlib
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402


def read(path):
    with open(path, "rb") as f:
        return f.read()


class RedactCli(dgtest.DumpTestCase):
    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def fp_key(self):
        return os.path.join(self.tmp, "fingerprint.key")

    def test_raw_image_with_pem_and_der_keys(self):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
        filler = bytes(range(32, 127)) * 40
        image = filler + pem + filler + der + filler
        path = self.write("image.raw", image)
        out = os.path.join(self.tmp, "redacted.raw")
        report_path = os.path.join(self.tmp, "report.json")
        code, stdout, err = dgtest.run_dumpguard("redact", "--raw", "--fingerprint-key", self.fp_key(), path,
                                                 "-o", out, "--report", report_path, "--fill", "0defaced")
        self.assertEqual(code, 0, err)
        self.assertEqual(read(path), image, "the input changed")
        data = read(out)
        self.assertEqual(len(data), len(image))
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o600)
        body = b"".join(pem.splitlines()[1:-1])  # the base64 of the key
        n = key.private_numbers()
        for name, value in {"p": n.p, "q": n.q, "d": n.d}.items():
            self.assertIn(value.to_bytes((value.bit_length() + 7) // 8, "big"), image)
            self.assertNotIn(value.to_bytes((value.bit_length() + 7) // 8, "big"), data, name)
        for line in pem.splitlines()[1:-1]:
            self.assertNotIn(line, data)
        self.assertNotIn(der, data)
        # The filler around the keys is untouched.
        self.assertEqual(data[:len(filler)], filler)
        self.assertEqual(data[-len(filler):], filler)
        report = json.loads(read(report_path))
        self.assertEqual(report["schema"], "dumpguard-redact/1")
        self.assertEqual(report["fill"], "0defaced")
        self.assertEqual(report["input"]["sha256"], hashlib.sha256(image).hexdigest())
        self.assertEqual(report["output"]["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(report["verification"]["verdict"], "clean")
        self.assertTrue(report["spans"])
        for span in report["spans"]:
            start, length = span["file_offset"], span["length"]
            expected = bytes([0x0D, 0xEF, 0xAC, 0xED][(start + i) % 4] for i in range(length))
            self.assertEqual(data[start:start + length], expected)
        outputs = stdout + err + read(report_path)
        dgtest.assert_no_secret([outputs], {"DER": der, "PEM body": body, "d": n.d.to_bytes(256, "big"),
                                            "p": n.p.to_bytes(128, "big"), "q": n.q.to_bytes(128, "big")})
        code, _, err = dgtest.run_dumpguard("scan", "--raw", "--fingerprint-key", self.fp_key(), out)
        self.assertEqual(code, 0, err)

    def test_minidump_without_keys_is_copied_identically(self):
        # lldb's view of redacted minidumps is checked in test_redact_minidumps and
        # test_redact_stack_only; here, a dump with nothing to redact is copied byte for byte.
        dump = os.path.join(dgtest.MINIDUMPS, "fullmem-normal.dmp")
        out = os.path.join(self.tmp, "redacted.dmp")
        report = os.path.join(self.tmp, "report.json")
        code, _, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key(), dump, "-o", out,
                                            "--report", report)
        self.assertEqual(code, 0, err)
        self.assertEqual(read(out), read(dump))
        self.assertEqual(json.loads(read(report))["spans"], [])
        self.assertEqual(dgtest.info_json(out)["regions"], dgtest.info_json(dump)["regions"])

    def test_minidump_with_a_planted_key_still_opens_in_lldb(self):
        """The corpus's dbghelp minidump with an Ed25519 PKCS#8 key (made here) planted into its
        largest memory range: the redacted copy holds no byte of the key's DER, and lldb lists
        the same threads and modules for it as for the planted input."""
        from cryptography.hazmat.primitives.asymmetric import ed25519
        from test_minidump_corpus import run_lldb
        source = os.path.join(dgtest.MINIDUMPS, "fullmem-normal.dmp")
        model = dgtest.info_json(source)
        target = max((r for r in model["regions"] if r["kind"] != "metadata"), key=lambda r: r["size"])
        der = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        self.assertGreaterEqual(target["size"], len(der) + 16)
        data = bytearray(read(source))
        at = target["file_offset"] + 8
        data[at:at + len(der)] = der
        planted = self.write("planted.dmp", bytes(data))
        out = os.path.join(self.tmp, "redacted.dmp")
        code, _, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key(), planted, "-o", out)
        self.assertEqual(code, 0, err)
        redacted = read(out)
        self.assertEqual(len(redacted), len(data))
        self.assertIn(der[-32:], bytes(data))
        self.assertNotIn(der[-32:], redacted, "the key's seed is still in the copy")
        self.assertEqual(run_lldb(out), run_lldb(planted))
        self.assertEqual(dgtest.info_json(out)["regions"], dgtest.info_json(planted)["regions"])

    def test_partly_parsed_dump_needs_allow_partial(self):
        # redact refuses a partly parsed dump unless --allow-partial is given.
        dump = os.path.join(dgtest.MINIDUMPS, "invalid-range.dmp")
        self.assertFalse(dgtest.info_json(dump)["complete"])
        out = os.path.join(self.tmp, "partial.dmp")
        code, _, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key(), dump, "-o", out)
        self.assertEqual(code, 2)
        self.assertIn(b"--allow-partial", err)
        self.assertFalse(os.path.exists(out))
        code, _, err = dgtest.run_dumpguard("redact", "--allow-partial", "--fingerprint-key", self.fp_key(), dump,
                                            "-o", out)
        self.assertEqual(code, 0, err)
        self.assertEqual(os.path.getsize(out), os.path.getsize(dump))

    def test_unreadable_input_writes_nothing(self):
        for name, data in (("random.bin", os.urandom(4096)), ("elf-cut.core", b"\x7fELF\x02\x01\x01" + bytes(20))):
            path = self.write(name, data)
            out = os.path.join(self.tmp, name + ".out")
            code, _, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key(), path, "-o", out)
            self.assertEqual(code, 2, name)
            self.assertEqual(len(err.decode().strip().splitlines()), 1, err)
            self.assertEqual([f for f in os.listdir(self.tmp) if f.startswith(name + ".out")], [])

    def test_repeatable_options_take_one_value_each(self):
        """The documented synopsis, `redact [scan options] DUMP -o OUT`: a repeatable option given
        right before the dump takes one value, and the dump stays the dump."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
        pub = self.write("key.pub.der", key.public_key().public_bytes(serialization.Encoding.DER,
                                                                      serialization.PublicFormat.SubjectPublicKeyInfo))
        image = self.write("image.raw", bytes(range(256)) * 8 + der + bytes(range(256)) * 8)
        out = os.path.join(self.tmp, "out.raw")
        code, _, err = dgtest.run_dumpguard("redact", "--raw", "--fingerprint-key", self.fp_key(), "--pubkey", pub,
                                            "--drop", "metadata", image, "-o", out)
        self.assertEqual(code, 0, err)
        self.assertNotIn(der, read(out))
        code, stdout, err = dgtest.run_dumpguard("scan", "--raw", "--json", "--fingerprint-key", self.fp_key(),
                                                 "--pubkey", pub, "--pubkey", pub, image)
        self.assertEqual(code, 1, err)
        self.assertEqual([s["status"] for s in json.loads(stdout)["supplied"]], ["present", "present"])

    def test_usage_errors_exit_2(self):
        path = self.write("a.raw", bytes(64))
        self.assertEqual(dgtest.run_dumpguard("redact", "--raw", path)[0], 2)  # no -o
        self.assertEqual(dgtest.run_dumpguard("redact", "--raw", "--fingerprint-key", self.fp_key(), path, path,
                                              "-o", os.path.join(self.tmp, "o"))[0], 2)  # two dumps
        self.assertEqual(dgtest.run_dumpguard("redact", "--raw", "--fill", "ff", path, "-o",
                                              os.path.join(self.tmp, "o"))[0], 2)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "o")))
        self.assertEqual(dgtest.run_dumpguard("redact", "--help")[0], 0)


if __name__ == "__main__":
    unittest.main()
