"""nginx (Debian nginx-light) serving TLS on loopback with an EC P-256 certificate and an RSA
certificate, keys made here. Both workers and the master are dumped with gcore; with no flag at
all, the scan of each must cover every copy of the EC scalar and of p, q, d, dp, dq, qinv that
the test itself finds in that core, and report each key verified under its SPKI fingerprint."""
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
from keyforms import spki_fingerprint  # noqa: E402
from test_dump_scan_openssl import components  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402

SERVER = """listen 127.0.0.1:{{port}} ssl;
    ssl_certificate {d}/ec.crt;
    ssl_certificate_key {d}/ec.key;
    ssl_certificate {d}/rsa.crt;
    ssl_certificate_key {d}/rsa.key;"""


@unittest.skipIf(shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"), "nginx-light is not installed")
class NginxTls(dgtest.DumpTestCase):
    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-nginx-")
        d = cls._dir.name
        for name, args in (("ec", ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")),
                           ("rsa", ("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"))):
            dgtest.openssl("genpkey", *args, "-out", os.path.join(d, f"{name}.key"))
            dgtest.openssl("req", "-x509", "-key", os.path.join(d, f"{name}.key"), "-out",
                           os.path.join(d, f"{name}.crt"), "-days", "2", "-subj", "/CN=localhost")
        cls.cores = dgtest.dump_nginx(d, SERVER.format(d=d))
        cls.keys = {name: serialization.load_pem_private_key(open(os.path.join(d, f"{name}.key"), "rb").read(), None)
                    for name in ("ec", "rsa")}
        cls.fp_key = os.path.join(d, "fp.key")

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def test_master_and_worker_keys_are_found_without_any_flag(self):
        self.assertGreaterEqual(len(self.cores), 2, "expected the master and a worker")
        for core in self.cores:
            code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", self.fp_key, core)
            self.assertEqual(code, 1, err)
            report = dgtest.json.loads(out)
            data = open(core, "rb").read()
            for name, key in self.keys.items():
                with self.subTest(core=os.path.basename(core), key=name):
                    checked = 0
                    for part, value in components(key).items():
                        for encoding in dgtest.le_be_encodings(value):
                            for offset in dgtest.occurrences(data, encoding):
                                checked += 1
                                self.assertTrue(dgtest.covered(report["findings"], offset, len(encoding)),
                                                f"{name} {part} at {offset:#x} is not covered")
                    self.assertGreater(checked, 0, "the independent check must see the key in the core")
                    groups = [k for k in report["keys"] if k["fingerprint"] == spki_fingerprint(key.public_key())]
                    self.assertEqual(len(groups), 1)
                    self.assertTrue(groups[0]["verified"])
                    dgtest.assert_no_secret({"stdout": out, "stderr": err},
                                            {f"{part} ({e})": b for part, value in components(key).items()
                                             for e, b in zip(("be", "le"), dgtest.le_be_encodings(value))})


if __name__ == "__main__":
    unittest.main()
