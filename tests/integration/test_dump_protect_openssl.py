"""The example OpenSSL server (examples/tls_server.cpp) keeps its private key out of its core
dump with the protection library's secure-heap helper: after a real TLS handshake (so the key
has signed), a gcore of the server must not hold the P-256 private scalar in any byte order, and
`dumpguard scan --pubkey CERT` must report the key absent. The same server without the helper
(--no-secure-heap, the usual SSL_CTX_use_PrivateKey_file) holds it, and dumpguard finds it: the
check can fail. Keys are made here; the verdict comes from searching the core for the scalar."""
import json
import os
import socket
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402

SERVER = os.path.join(os.environ.get("DG_BUILD_DIR", ""), "examples", "tls_server")


class ExampleTlsServer(dgtest.DumpTestCase):
    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-protect-tls-")
        d = cls._dir.name
        cls.key_path, cls.cert_path = os.path.join(d, "ec.key"), os.path.join(d, "ec.crt")
        dgtest.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", cls.key_path)
        dgtest.openssl("req", "-x509", "-key", cls.key_path, "-out", cls.cert_path, "-days", "2", "-subj", "/CN=localhost")
        with open(cls.key_path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)
        cls.scalar = key.private_numbers().private_value.to_bytes(32, "big")

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def serve_and_dump(self, *flags):
        server = dgtest.LiveProcess([SERVER, "--key", self.key_path, "--cert", self.cert_path, *flags])
        try:
            port = int(server.lines[-1].split("port=")[1].split()[0])
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
                with context.wrap_socket(raw, server_hostname="localhost") as tls:
                    self.assertEqual(tls.recv(16), b"hello\n")  # the key has signed the handshake
            core = dgtest.gcore(server.pid, self.tmp)
        finally:
            server.stop()
        with open(core, "rb") as f:
            data = f.read()
        hits = [o for form in (self.scalar, self.scalar[::-1]) for o in dgtest.occurrences(data, form)]
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", os.path.join(self.tmp, "fp.key"),
                                              "--pubkey", self.cert_path, core)
        self.assertIn(code, (0, 1), err)
        report = json.loads(out)
        (supplied,) = report["supplied"]
        return hits, supplied["status"], report

    def test_with_the_secure_heap_helper_the_key_is_not_in_the_dump(self):
        hits, status, _ = self.serve_and_dump()
        self.assertEqual(hits, [], "the private scalar must not be in the dump")
        self.assertEqual(status, "absent")

    def test_without_the_helper_the_key_is_in_the_dump_and_found(self):
        hits, status, report = self.serve_and_dump("--no-secure-heap")
        self.assertTrue(hits, "the usual way leaves the scalar in the dump")
        self.assertEqual(status, "present")
        for offset in hits:
            self.assertTrue(dgtest.covered(report["findings"], offset, 32), f"scalar at {offset:#x}")


if __name__ == "__main__":
    unittest.main()
