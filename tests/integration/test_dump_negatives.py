"""What must NOT be found: public keys, certificates and random data are not private keys.

A raw image packed with real certificates and public keys (PEM and DER, RSA, EC, Ed25519)
and random bytes, and a real core of a Python process that has loaded certificates and
public keys but never a private key, must produce no private-key finding at all."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

PRIVATE_KINDS = ("private", "rsa-prime", "rsa-crt", "scalar", "seed")


def private_findings(report):
    return [f for f in report["findings"] if any(k in f["kind"] for k in PRIVATE_KINDS)]


class Negatives(dgtest.DumpTestCase):
    def make_public_material(self):
        parts = []
        for i, args in enumerate((("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"),
                                  ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"),
                                  ("-algorithm", "ED25519"))):
            key = os.path.join(self.tmp, f"k{i}.pem")
            dgtest.openssl("genpkey", *args, "-out", key)
            cert = os.path.join(self.tmp, f"c{i}.pem")
            dgtest.openssl("req", "-x509", "-key", key, "-out", cert, "-days", "2", "-subj", f"/CN=neg{i}")
            for out_args in (("x509", "-in", cert), ("x509", "-in", cert, "-outform", "DER"),
                             ("pkey", "-in", key, "-pubout"), ("pkey", "-in", key, "-pubout", "-outform", "DER")):
                out = os.path.join(self.tmp, "out.bin")
                dgtest.openssl(*out_args, "-out", out)
                parts.append(open(out, "rb").read())
            os.remove(key)  # the private key itself never goes into the image
        return parts

    def test_public_keys_certificates_and_random_data_are_not_private_keys(self):
        image = bytearray()
        for part in self.make_public_material():
            image += os.urandom(1 + len(image) % 13) + part
        image += os.urandom(1 << 20)
        path = os.path.join(self.tmp, "public.raw")
        with open(path, "wb") as f:
            f.write(image)
        code, out, err = dgtest.run_dumpguard("scan", "--raw", "--json", "--fingerprint-key",
                                              os.path.join(self.tmp, "fp.key"), path)
        report = dgtest.json.loads(out)
        self.assertEqual(private_findings(report), [])
        self.assertEqual(code, 0, err)
        self.assertEqual(report["verdict"], "clean")
        # They were seen, as public keys: three keys, each as certificate and as public key.
        harvested = {k["fingerprint"] for k in report["public_keys"] if not k["derived"]}
        self.assertEqual(len(harvested), 3)

    def test_core_of_a_process_holding_only_public_keys(self):
        script = (
            "import sys\n"
            "from cryptography import x509\n"
            "from cryptography.hazmat.primitives import serialization\n"
            "certs = [x509.load_pem_x509_certificate(open(p, 'rb').read()) for p in sys.argv[1:]]\n"
            "keys = [c.public_key() for c in certs]\n"
            "print('ready', flush=True)\n"
            "sys.stdin.read()\n")
        self.make_public_material()
        certs = [os.path.join(self.tmp, f"c{i}.pem") for i in range(3)]
        proc = dgtest.LiveProcess(["/usr/bin/python3", "-c", script, *certs])
        try:
            core = dgtest.gcore(proc.pid, self.tmp)
        finally:
            proc.stop()
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key",
                                              os.path.join(self.tmp, "fp.key"), core)
        self.assertIn(code, (0, 1), err)
        report = dgtest.json.loads(out)
        self.assertEqual([(f["kind"], f["proof"]) for f in private_findings(report)], [])


if __name__ == "__main__":
    unittest.main()
