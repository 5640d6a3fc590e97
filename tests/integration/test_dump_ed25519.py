"""An Ed25519 key kept as seed‖public key (libsodium, Go): the scan, given the public key with
--pubkey, must find every copy of the seed the test itself finds in the core, verified, and
report the key present; a key the process never held is reported absent."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
from keyforms import spki_fingerprint  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: E402


class Ed25519Seed(dgtest.DumpTestCase):
    def test_seed_next_to_its_public_key_is_found_everywhere(self):
        pub, priv = os.path.join(self.tmp, "pub.pem"), os.path.join(self.tmp, "priv.pem")
        holder = dgtest.LiveProcess([os.path.join(dgtest.PROGRAMS, "ed25519_holder"), pub, priv])
        try:
            core = dgtest.gcore(holder.pid, self.tmp)
        finally:
            holder.stop()
        key = serialization.load_pem_private_key(open(priv, "rb").read(), None)
        seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
        other = os.path.join(self.tmp, "other.pem")
        with open(other, "wb") as f:
            f.write(ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", os.path.join(self.tmp, "fp"),
                                              "--pubkey", pub, "--pubkey", other, core)
        self.assertEqual(code, 1, err)
        report = dgtest.json.loads(out)
        copies = dgtest.occurrences(open(core, "rb").read(), seed)
        self.assertTrue(copies, "the independent check must see the seed in the core")
        for offset in copies:
            self.assertTrue(dgtest.covered(report["findings"], offset, 32), f"seed at {offset:#x} not covered")
        fp = spki_fingerprint(key.public_key())
        status = {s["fingerprint"]: s for s in report["supplied"]}
        self.assertEqual(status[fp]["status"], "present")
        self.assertIn("verified", status[fp]["statement"])
        others = [s for s in report["supplied"] if s["fingerprint"] != fp]
        self.assertEqual([s["status"] for s in others], ["absent"])
        dgtest.assert_no_secret({"stdout": out, "stderr": err}, {"Ed25519 seed": seed})


if __name__ == "__main__":
    unittest.main()
