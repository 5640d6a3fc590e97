"""Private keys held as base64 DER without PEM lines (the der-base64 detector): a real process
holds, made here at test time, an RSA-2048 key as one base64 PKCS#8 line in its environment
(as configuration passes keys), a P-256 key's SEC1 base64 in a heap buffer, and the body of an
Ed25519 PEM file whose BEGIN line was overwritten in a heap buffer (as glibc's stdio buffer
holds a key file after SSL_CTX_use_PrivateKey_file reuses it). gcore dumps it. The test's own
search finds each base64 text in the core; the scan must report each as a verified key of the
right type spanning exactly that text, and report every supplied public key "present". With
the der-base64 detector left out, the same keys are "absent" (what the detector adds). No
output holds any of the keys' bytes."""
import base64
import json
import os
import sys
import unittest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

HOLDER = r"""
import os, sys
sec1 = bytearray(sys.argv[1].encode())
body = bytearray(os.path.getsize(sys.argv[2]))
with open(sys.argv[2], 'rb', buffering=0) as f:
    f.readinto(body)              # straight into the buffer: no other copy of the file
first = body.index(b'\n')
body[:first] = b'#' * first       # the BEGIN line overwritten, the body left
print('ready', flush=True)
sys.stdin.read()
"""


def pem_body(pem):
    return b"".join(pem.splitlines(keepends=True)[1:-1])  # between the BEGIN and END lines


class DerBase64(dgtest.DumpTestCase):
    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-der-base64-")
        d = cls._dir.name
        cls.keys = {
            "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec": ec.generate_private_key(ec.SECP256R1()),
            "ed25519": ed25519.Ed25519PrivateKey.generate(),
        }
        pkcs8 = serialization.PrivateFormat.PKCS8
        der, pem = serialization.Encoding.DER, serialization.Encoding.PEM
        none = serialization.NoEncryption()
        cls.der = {
            "rsa": cls.keys["rsa"].private_bytes(der, pkcs8, none),
            "ec": cls.keys["ec"].private_bytes(der, serialization.PrivateFormat.TraditionalOpenSSL, none),
            "ed25519": cls.keys["ed25519"].private_bytes(der, pkcs8, none),
        }
        cls.text = {
            "rsa": base64.b64encode(cls.der["rsa"]),
            "ec": base64.b64encode(cls.der["ec"]),
            "ed25519": pem_body(cls.keys["ed25519"].private_bytes(pem, pkcs8, none)).rstrip(b"\n"),
        }
        key_file = os.path.join(d, "ed25519.pem")
        with open(key_file, "wb") as f:
            f.write(cls.keys["ed25519"].private_bytes(pem, pkcs8, none))
        cls.pubkeys = []
        for name, key in cls.keys.items():
            path = os.path.join(d, f"{name}.pub.pem")
            with open(path, "wb") as f:
                f.write(key.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo))
            cls.pubkeys += ["--pubkey", path]
        env = {"PATH": "/usr/bin:/bin", "TLS_PRIVATE_KEY": cls.text["rsa"].decode()}
        holder = dgtest.LiveProcess(["/usr/bin/python3", "-c", HOLDER, cls.text["ec"].decode(), key_file], env=env)
        try:
            cls.core = dgtest.gcore(holder.pid, d)
        finally:
            holder.stop()
        os.unlink(key_file)
        with open(cls.core, "rb") as f:
            cls.data = f.read()
        cls.fp = os.path.join(d, "fp.key")
        cls.code, out, cls.err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", cls.fp, *cls.pubkeys, cls.core)
        cls.out = out
        cls.report = json.loads(out)

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def test_each_base64_text_is_a_verified_key_spanning_exactly_that_text(self):
        kinds = {"rsa": "rsa-private-key", "ec": "ec-private-key", "ed25519": "ed25519-private-key"}
        found = [f for f in self.report["findings"] if f["detector"] == "der-base64"]
        for name, text in self.text.items():
            places = dgtest.occurrences(self.data, text)
            self.assertTrue(places, f"{name}: the test's own search found no copy in the core")
            for at in places:
                hits = [f for f in found if f["file_offset"] == at and f["length"] == len(text)]
                self.assertEqual(len(hits), 1, f"{name} at {at:#x}: {found}")
                self.assertEqual(hits[0]["kind"], kinds[name])
                self.assertTrue(hits[0]["verified"], hits[0])
        self.assertEqual(self.code, 1, self.err)

    def test_every_supplied_key_is_present(self):
        statuses = sorted(s["status"] for s in self.report["supplied"])
        self.assertEqual(statuses, ["present"] * 3, self.report["supplied"])

    def test_without_the_detector_the_keys_are_absent(self):
        everything = [d for d in self.report["searched"]["detectors"] if d != "der-base64"]
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", self.fp, "--detectors",
                                              ",".join(everything), *self.pubkeys, self.core)
        report = json.loads(out)
        self.assertEqual(sorted(s["status"] for s in report["supplied"]), ["absent"] * 3, report["supplied"])

    def test_no_output_holds_the_keys(self):
        secrets = {f"{name}-der": der for name, der in self.der.items()}
        secrets.update({f"{name}-base64": text for name, text in self.text.items()})
        dgtest.assert_no_secret({"stdout": self.out, "stderr": self.err}, secrets)


if __name__ == "__main__":
    unittest.main()
