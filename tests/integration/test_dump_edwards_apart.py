"""Ed25519 and X25519 seeds stored apart from their public key, as OpenSSL keeps them (the
private half in an allocation of its own). The keys are made here; the process gets only the
raw seed. Given the public key with --pubkey, the scan must report it present and cover every
copy of the seed the test itself finds in the core; a key the process never held is absent,
and the statement names the island search."""
import json
import os
import sys
import unittest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402


def raw_private(key):
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def write_pub(path, key):
    with open(path, "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))


class EdwardsApart(dgtest.DumpTestCase):
    def check(self, kind, module):
        key, other = module.generate(), module.generate()
        seed = raw_private(key)
        seed_file = os.path.join(self.tmp, "seed")
        with open(os.open(seed_file, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(seed)
        pub, other_pub = os.path.join(self.tmp, "pub.pem"), os.path.join(self.tmp, "other.pem")
        write_pub(pub, key)
        write_pub(other_pub, other)
        holder = dgtest.LiveProcess([os.path.join(dgtest.PROGRAMS, "ed25519_apart"), kind, seed_file])
        try:
            core = dgtest.gcore(holder.pid, self.tmp)
        finally:
            holder.stop()
        os.unlink(seed_file)
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", os.path.join(self.tmp, "fp"),
                                              "--pubkey", pub, "--pubkey", other_pub, core)
        report = json.loads(out)
        with open(core, "rb") as f:
            copies = dgtest.occurrences(f.read(), seed)
        self.assertTrue(copies, "OpenSSL keeps the seed; the core must hold it")
        for offset in copies:
            self.assertTrue(dgtest.covered(report["findings"], offset, 32), f"seed at {offset:#x} not covered")
        self.assertEqual(code, 1, err)
        self.assertEqual([s["status"] for s in report["supplied"]], ["present", "absent"])
        self.assertIn("island of 32 random bytes", report["supplied"][1]["statement"])
        dgtest.assert_no_secret({"stdout": out, "stderr": err}, {"Ed25519 seed": seed})

    def test_ed25519_seed_kept_by_openssl(self):
        self.check("ed25519", ed25519.Ed25519PrivateKey)

    def test_x25519_key_kept_by_openssl(self):
        self.check("x25519", x25519.X25519PrivateKey)


if __name__ == "__main__":
    unittest.main()
