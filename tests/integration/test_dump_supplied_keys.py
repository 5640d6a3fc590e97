"""'Is OUR key in this dump?': keys the user supplies with --pubkey and --keyring.

A real `openssl s_server` holds key A (made here); the scan is given A's public key in every
accepted form (certificate PEM, SubjectPublicKeyInfo DER, OpenSSH .pub, a JWKS document) and
key B, which the server never loaded. A must be reported present, with findings, under its
SPKI fingerprint; B absent, with a statement of what was searched."""
import base64
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
from keyforms import jwk_of, spki_fingerprint  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402


class SuppliedKeys(dgtest.DumpTestCase):
    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-supplied-")
        d = cls._dir.name
        for name in ("a", "b"):
            dgtest.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                           "-out", os.path.join(d, f"{name}.key"))
            dgtest.openssl("req", "-x509", "-key", os.path.join(d, f"{name}.key"), "-out",
                           os.path.join(d, f"{name}.crt"), "-days", "2", "-subj", f"/CN={name}")
        server = dgtest.start_s_server(d, os.path.join(d, "a.key"), os.path.join(d, "a.crt"))
        try:
            cls.core = dgtest.gcore(server.pid, d)
        finally:
            server.kill()
            server.wait()
        key_a = serialization.load_pem_private_key(open(os.path.join(d, "a.key"), "rb").read(), None)
        key_b = serialization.load_pem_private_key(open(os.path.join(d, "b.key"), "rb").read(), None)
        cls.fp_a, cls.fp_b = spki_fingerprint(key_a.public_key()), spki_fingerprint(key_b.public_key())
        # A's public key in the other accepted forms, in a keyring directory.
        ring = os.path.join(d, "ring")
        os.mkdir(ring)
        with open(os.path.join(ring, "a.der"), "wb") as f:
            f.write(key_a.public_key().public_bytes(serialization.Encoding.DER,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo))
        with open(os.path.join(ring, "a.pub"), "wb") as f:
            f.write(key_a.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                                    serialization.PublicFormat.OpenSSH) + b" ops@example\n")
        public_jwk = {k: v for k, v in jwk_of(key_a).items() if k in ("kty", "n", "e")}
        with open(os.path.join(ring, "jwks.json"), "w") as f:
            json.dump({"keys": [dict(public_jwk, kid="signing-2026")]}, f)
        cls.fp_key = os.path.join(d, "fp.key")
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", cls.fp_key,
                                              "--pubkey", os.path.join(d, "a.crt"), "--pubkey",
                                              os.path.join(d, "b.crt"), "--keyring", ring, cls.core)
        cls.code, cls.err = code, err
        cls.report = json.loads(out)

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def test_every_form_of_the_loaded_key_is_present_with_its_findings(self):
        a = [s for s in self.report["supplied"] if s["fingerprint"] == self.fp_a]
        self.assertEqual(len(a), 4, self.report["supplied"])  # certificate, DER, .pub, JWKS
        for s in a:
            self.assertEqual(s["status"], "present", s)
            self.assertTrue(s["findings"])
            self.assertTrue(all(self.report["findings"][i]["key"] == self.fp_a for i in s["findings"]))
            self.assertIn("verified", s["statement"])
        self.assertEqual([s["kid"] for s in a if s["kid"]], ["signing-2026"])

    def test_the_key_never_loaded_is_absent_with_what_was_searched(self):
        b = [s for s in self.report["supplied"] if s["fingerprint"] == self.fp_b]
        self.assertEqual(len(b), 1)
        self.assertEqual(b[0]["status"], "absent")
        self.assertEqual(b[0]["findings"], [])
        self.assertIn(f"searched {self.report['searched']['bytes']} bytes", b[0]["statement"])
        self.assertIn("prefilters on", b[0]["statement"])

    def test_exit_code_is_1(self):
        self.assertEqual(self.code, 1, self.err)

    def test_unreadable_key_file_is_an_error(self):
        bad = os.path.join(self.tmp, "not-a-key.txt")
        with open(bad, "w") as f:
            f.write("hello\n")
        code, _, err = dgtest.run_dumpguard("scan", "--pubkey", bad, "--fingerprint-key",
                                            os.path.join(self.tmp, "fp.key"), self.core)
        self.assertEqual(code, 2)
        self.assertIn(b"no PEM, DER, OpenSSH or JWK public key", err)


if __name__ == "__main__":
    unittest.main()
