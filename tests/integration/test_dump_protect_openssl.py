"""The example OpenSSL server (examples/tls_server.cpp) keeps its private key out of its core
dump with the protection library's OpenSSL helpers. After a real TLS handshake (so the key has
signed), a gcore of the server must hold no copy of the key, and `dumpguard scan --pubkey CERT`
must report it absent:
- EC P-256: the private scalar in either byte order;
- RSA-2048: p, q, d, dp, dq and qinv, big- and little-endian, whole or as any 16-byte window
  (a copy partly overwritten after it was freed still shows);
- either key: any line of the PEM file's base64 body (a stdio buffer would hold them).
The same server loading the key the usual way (--no-protection, SSL_CTX_use_PrivateKey_file)
holds the key and dumpguard finds it: the checks can fail. Keys are made here; the verdict comes
from searching the core for the key's components."""
import json
import os
import socket
import ssl
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402

SERVER = os.path.join(os.environ.get("DG_BUILD_DIR", ""), "examples", "tls_server")
WINDOW = 16


def be_bytes(value):
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


class ExampleTlsServer(dgtest.DumpTestCase):
    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-protect-tls-")
        d = cls._dir.name
        cls.ec_key, cls.ec_cert = os.path.join(d, "ec.key"), os.path.join(d, "ec.crt")
        dgtest.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", cls.ec_key)
        dgtest.openssl("req", "-x509", "-key", cls.ec_key, "-out", cls.ec_cert, "-days", "2", "-subj", "/CN=localhost")
        cls.rsa_key, cls.rsa_cert = os.path.join(d, "rsa.key"), os.path.join(d, "rsa.crt")
        dgtest.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", cls.rsa_key)
        dgtest.openssl("req", "-x509", "-key", cls.rsa_key, "-out", cls.rsa_cert, "-days", "2", "-subj", "/CN=localhost")
        with open(cls.ec_key, "rb") as f:
            ec = serialization.load_pem_private_key(f.read(), None)
        cls.scalar = ec.private_numbers().private_value.to_bytes(32, "big")
        with open(cls.rsa_key, "rb") as f:
            n = serialization.load_pem_private_key(f.read(), None).private_numbers()
        cls.rsa_parts = {"p": be_bytes(n.p), "q": be_bytes(n.q), "d": be_bytes(n.d), "dp": be_bytes(n.dmp1),
                         "dq": be_bytes(n.dmq1), "qinv": be_bytes(n.iqmp)}

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def serve_and_dump(self, key, cert, *flags):
        """Starts the server, completes one TLS handshake, waits until the server has closed
        the connection, dumps it with gcore; returns (core bytes, dumpguard's report, the
        server's "served" line)."""
        server = dgtest.LiveProcess([SERVER, "--key", key, "--cert", cert, *flags])
        try:
            port = int(server.lines[-1].split("port=")[1].split()[0])
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
                with context.wrap_socket(raw, server_hostname="localhost") as tls:
                    self.assertEqual(tls.recv(16), b"hello\n")  # the key has signed the handshake
            served = server.proc.stdout.readline()  # the server has freed the connection
            self.assertTrue(served.startswith("served "), served)
            core = dgtest.gcore(server.pid, self.tmp)
        finally:
            server.stop()
        with open(core, "rb") as f:
            data = f.read()
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", os.path.join(self.tmp, "fp.key"),
                                              "--pubkey", cert, core)
        self.assertIn(code, (0, 1), err)
        return data, json.loads(out), served

    @staticmethod
    def pem_lines_in(data, key):
        with open(key, "rb") as f:
            lines = [line for line in f.read().split(b"\n") if line and not line.startswith(b"-----")]
        return [i for i, line in enumerate(lines) if data.find(line) >= 0]

    @staticmethod
    def counters(served):
        return {k: int(v) for k, v in (field.split("=") for field in served.split()[1:])}

    def rsa_copies(self, data):
        """{component: [(form, offset)]} for whole copies, big- and little-endian."""
        hits = {}
        for name, be in self.rsa_parts.items():
            found = [(form, o) for form, b in (("be", be), ("le", be[::-1])) for o in dgtest.occurrences(data, b)]
            if found:
                hits[name] = found
        return hits

    def rsa_windows(self, data):
        """Every 16-byte window (at 8-byte steps) of any component, in either byte order, found."""
        found = []
        for name, be in self.rsa_parts.items():
            for form, b in (("be", be), ("le", be[::-1])):
                for i in range(0, len(b) - WINDOW + 1, 8):
                    if data.find(b[i:i + WINDOW]) >= 0:
                        found.append((name, form, i))
        return found

    def test_rsa_key_with_the_library_is_not_in_the_dump(self):
        data, report, served = self.serve_and_dump(self.rsa_key, self.rsa_cert)
        self.assertEqual(self.rsa_copies(data), {}, "no component of the RSA key may be in the dump")
        self.assertEqual(self.rsa_windows(data), [], "no part of any component either")
        self.assertEqual(self.pem_lines_in(data, self.rsa_key), [], "no line of the PEM file")
        (supplied,) = report["supplied"]
        self.assertEqual(supplied["status"], "absent")
        # OpenSSL really allocated from the excluded arena, and never ran out of it.
        counters = self.counters(served)
        self.assertGreater(counters["openssl_heap_live"], 0)
        self.assertEqual(counters["openssl_heap_refused"], 0)

    def test_rsa_key_loaded_the_usual_way_is_in_the_dump_and_found(self):
        data, report, served = self.serve_and_dump(self.rsa_key, self.rsa_cert, "--no-protection")
        hits = self.rsa_copies(data)
        self.assertEqual(set(hits), set(self.rsa_parts), "the usual way leaves every component in the dump")
        (supplied,) = report["supplied"]
        self.assertEqual(supplied["status"], "present")
        for name in ("p", "q"):
            for _, offset in hits[name]:
                self.assertTrue(dgtest.covered(report["findings"], offset, len(self.rsa_parts[name])),
                                f"{name} at {offset:#x}")
        self.assertEqual(self.counters(served)["openssl_heap_live"], 0)

    def test_ec_key_with_the_library_is_not_in_the_dump(self):
        for flags in ((), ("--secure-heap-only",)):  # for an EC key, the secure heap alone suffices
            with self.subTest(flags=flags):
                data, report, _ = self.serve_and_dump(self.ec_key, self.ec_cert, *flags)
                hits = [o for form in (self.scalar, self.scalar[::-1]) for o in dgtest.occurrences(data, form)]
                self.assertEqual(hits, [], "the private scalar must not be in the dump")
                self.assertEqual(self.pem_lines_in(data, self.ec_key), [], "no line of the PEM file")
                (supplied,) = report["supplied"]
                self.assertEqual(supplied["status"], "absent")

    def test_ec_key_loaded_the_usual_way_is_in_the_dump_and_found(self):
        data, report, _ = self.serve_and_dump(self.ec_key, self.ec_cert, "--no-protection")
        hits = [o for form in (self.scalar, self.scalar[::-1]) for o in dgtest.occurrences(data, form)]
        self.assertTrue(hits, "the usual way leaves the scalar in the dump")
        (supplied,) = report["supplied"]
        self.assertEqual(supplied["status"], "present")
        for offset in hits:
            self.assertTrue(dgtest.covered(report["findings"], offset, 32), f"scalar at {offset:#x}")


if __name__ == "__main__":
    unittest.main()
