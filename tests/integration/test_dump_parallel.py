"""The parallel scan: one report whatever the thread count and the chunk size, and a
key across a chunk boundary found once, whole.

`key_holder 2048` is dumped with gcore; it writes its RSA key to a 0600 file, so the test knows
p independently. A copy of the core gets, in the free top of its largest heap region (the zero
run at the region's end, found here), keys the test made itself, each planted across a
boundary of 4 KiB chunks (chunks start at each region's first byte): a PKCS#8 RSA key in PEM,
a PKCS#1 RSA key in DER, an AES-256 encryption schedule (expanded here, FIPS-197 5.2), a JWK
whose brace is before the boundary and its "kty" after, and little-endian and big-endian
copies of the process's own prime p (found by the RSA hunt's closure). Then:
- `scan --json` with --threads 1, 2 and 3, and with chunks of 4 KiB, 12 KiB and the default
  size, prints the same bytes;
- each planted key is exactly one finding, with exactly its span;
- a chunk size that puts a boundary in the middle of the first copy of p the process itself
  left (its BIGNUM limbs, which the hunt reaches through structure) changes nothing either."""
import json
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
from keyforms import jwk_of  # noqa: E402
from test_dump_aes import schedules  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

CHUNK = 4096


def zero_run(data, start, size):
    """The longest run of zero bytes in data[start:start+size], as (offset, length)."""
    best, i, end = (start, 0), start, start + size
    while i < end:
        if data[i] == 0:
            j = i
            while j < end and data[j] == 0:
                j += 1
            if j - i > best[1]:
                best = (i, j - i)
            i = j
        else:
            i += 1
    return best


class ParallelScan(dgtest.DumpTestCase):
    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-parallel-")
        d = cls._dir.name
        key_path = os.path.join(d, "key.pem")
        holder = dgtest.LiveProcess([os.path.join(dgtest.PROGRAMS, "key_holder"), "2048", "wait", key_path])
        try:
            cls.core = dgtest.gcore(holder.pid, d)
        finally:
            holder.stop()
        with open(key_path, "rb") as f:
            held = serialization.load_pem_private_key(f.read(), password=None)
        os.remove(key_path)
        cls.p = held.private_numbers().p
        cls.fp_key = os.path.join(d, "fp.key")
        with open(cls.fp_key, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(cls.fp_key, 0o600)

        with open(cls.core, "rb") as f:
            data = bytearray(f.read())
        info = dgtest.info_json(cls.core)
        heap = max((r for r in info["regions"] if r["kind"] == "heap"), key=lambda r: r["size"])
        run_at, run_len = zero_run(data, heap["file_offset"], heap["size"])

        pem_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = pem_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).rstrip(b"\n")
        der = der_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
        aes = schedules(os.urandom(32))["enc"]
        jwk = json.dumps(jwk_of(jwk_key), separators=(",", ":")).encode()
        assert jwk.startswith(b'{"kty"')
        p_le = cls.p.to_bytes(128, "little")
        p_be = cls.p.to_bytes(128, "big")
        # (name, bytes, bytes before the boundary, detector): each across its own 4 KiB boundary.
        pieces = [("pem", pem, len(pem) // 2, "pem"), ("der", der, len(der) // 2, "der"),
                  ("aes", aes, 120, "aes-schedule"), ("jwk", jwk, 1, "jwk"),
                  ("p-le", p_le, 64, "rsa-factor"), ("p-be", p_be, 64, "rsa-factor")]
        region = heap["file_offset"]
        boundary = region + ((run_at - region) // CHUNK + 1) * CHUNK
        cls.planted = []
        for name, blob, before, detector in pieces:
            at = boundary - before
            if at + len(blob) + 16 > run_at + run_len:
                raise AssertionError(f"the heap's free top ({run_len} bytes) is too small to plant {name}")
            data[at:at + len(blob)] = blob
            cls.planted.append((name, at, len(blob), detector))
            boundary += CHUNK
        cls.copy = os.path.join(d, "planted.core")
        with open(cls.copy, "wb") as f:
            f.write(data)
        # The first copy of p the process left (not one of ours), and its region's start.
        cls.p_at = bytes(data).find(p_le)
        assert cls.p_at >= 0, "the held prime p is not in the core as little-endian limbs"
        cls.p_region = next(r["file_offset"] for r in info["regions"]
                            if r["file_offset"] <= cls.p_at < r["file_offset"] + r["size"])
        cls.reports = {}

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def report(self, *args, core=None):
        key = (core or self.copy,) + args
        if key not in self.reports:
            code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", self.fp_key, *args,
                                                  core or self.copy)
            self.assertEqual(code, 1, err.decode(errors="replace"))
            self.reports[key] = out
        return self.reports[key]

    def test_same_report_for_any_thread_count_and_chunk_size(self):
        base = self.report("--threads", "1")
        for args in (("--threads", "2"), ("--threads", "3"), ("--threads", "1", "--chunk-size", str(CHUNK)),
                     ("--threads", "3", "--chunk-size", str(CHUNK)), ("--threads", "2", "--chunk-size", str(3 * CHUNK))):
            self.assertEqual(self.report(*args), base, f"scan {' '.join(args)} differs from --threads 1")

    def test_each_key_across_a_boundary_is_one_finding_with_its_span(self):
        findings = json.loads(self.report("--threads", "3", "--chunk-size", str(CHUNK)))["findings"]
        for name, at, length, detector in self.planted:
            mine = [f for f in findings if f["detector"] == detector and f["file_offset"] < at + length
                    and at < f["file_offset"] + f["length"]]
            self.assertEqual([(f["file_offset"], f["length"]) for f in mine], [(at, length)], name)
            self.assertTrue(mine[0]["verified"], name)

    def test_a_boundary_inside_the_processs_own_prime_changes_nothing(self):
        size = self.p_at - self.p_region + 64  # the first boundary of that region, 64 bytes into p
        self.assertGreaterEqual(size, 4096)
        split = self.report("--threads", "2", "--chunk-size", str(size), core=self.core)
        self.assertEqual(split, self.report("--threads", "1", core=self.core))
        primes = [f for f in json.loads(split)["findings"] if f["kind"] == "rsa-prime" and f["file_offset"] == self.p_at]
        self.assertEqual(len(primes), 1)
        self.assertEqual(primes[0]["length"], 128)


if __name__ == "__main__":
    unittest.main()
