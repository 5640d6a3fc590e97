"""--exhaustive: a real process keeps an RSA prime (of a key made here) as bare big-endian
bytes at an odd offset of a heap buffer, with no header, length prefix or BIGNUM: a blind spot
of the default hunt by design. With the public key supplied, the default scan must say
"absent" and name its structure priors and prefilters; the exhaustive scan must say "present"
and cover every copy of the prime the test itself finds in the core, and its statement must
say that no prefilter but oddness was used. With a time budget that runs out at once, the
key is "incomplete", never "absent"."""
import json
import os
import sys
import time
import unittest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402


class Exhaustive(dgtest.DumpTestCase):
    def test_bare_prime_is_absent_by_default_and_present_when_exhaustive(self):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        p = key.private_numbers().p
        prime_file = os.path.join(self.tmp, "prime.hex")
        with open(os.open(prime_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(format(p, "0256x"))
        pub = os.path.join(self.tmp, "server.pub.pem")
        with open(pub, "wb") as f:
            f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
        holder = dgtest.LiveProcess([os.path.join(dgtest.PROGRAMS, "prime_holder"), prime_file])
        try:
            core = dgtest.gcore(holder.pid, self.tmp)
        finally:
            holder.stop()
        os.unlink(prime_file)
        fp = os.path.join(self.tmp, "fp.key")

        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", fp, "--pubkey", pub, core)
        default = json.loads(out)
        self.assertEqual(default["supplied"][0]["status"], "absent", err)
        self.assertIn("prefilters on", default["supplied"][0]["statement"])
        self.assertFalse(default["searched"]["exhaustive"])

        started = time.monotonic()
        code, out2, err2 = dgtest.run_dumpguard("scan", "--json", "--exhaustive", "--fingerprint-key", fp,
                                                "--pubkey", pub, core)
        elapsed = time.monotonic() - started
        report = json.loads(out2)
        self.assertEqual(code, 1, err2)
        self.assertTrue(report["searched"]["exhaustive"])
        status = report["supplied"][0]
        self.assertEqual(status["status"], "present")
        with open(core, "rb") as f:
            data = f.read()
        prime_be = p.to_bytes(128, "big")
        copies = dgtest.occurrences(data, prime_be)
        self.assertTrue(copies, "the process keeps the prime; the core must hold it")
        for offset in copies:
            self.assertTrue(dgtest.covered(report["findings"], offset, len(prime_be)), f"prime at {offset:#x}")
        print(f"exhaustive scan of {report['searched']['bytes']} bytes: {elapsed:.1f} s", file=sys.stderr)
        # A time budget that has run out before the first candidate: the hunt says where it
        # stopped, the key is "incomplete" rather than absent, and the verdict is not clean.
        _, out3, err3 = dgtest.run_dumpguard("scan", "--json", "--exhaustive", "--time-budget", "1e-9",
                                             "--fingerprint-key", fp, "--pubkey", pub, core)
        cut = json.loads(out3)
        self.assertEqual(cut["supplied"][0]["status"], "incomplete", err3)
        self.assertIn("time budget", cut["supplied"][0]["statement"])
        self.assertIn("rsa-factor", [limit["detector"] for limit in cut["searched"]["limits"]])
        self.assertNotEqual(cut["verdict"], "clean")
        dgtest.assert_no_secret([out, err, out2, err2, out3, err3], {"prime": prime_be, "prime (LE)": prime_be[::-1]})


if __name__ == "__main__":
    unittest.main()
