"""`dumpguard redact` on the real minidumps of tests/corpus, with keys planted into their
memory. No live process: this runs in the sanitizer build too.

For each dump, a copy gets four RSA-2048 keys and an AES-128 key, all made here: a CNG
BCRYPT_RSAFULLPRIVATE_BLOB, a CryptoAPI PRIVATEKEYBLOB, the primes of a third key as raw
little-endian limbs (p behind an OpenSSL BIGNUM header that points at them, as OpenSSL holds
it; q bare, with nothing pointing at it), whose modulus dumpguard only gets through --pubkey,
a DER PKCS#1 RSAPrivateKey, and an expanded AES-128 schedule. They overwrite bytes inside
ranges of the dump's MemoryList or Memory64List, which the test finds by reading the stream
directory itself (Microsoft's minidumpapiset.h layout), not through dumpguard.

The redacted copy is then checked four ways: lldb lists the same threads and modules as for
the original; dumpguard's own rescan finds nothing; the test searches it for every secret
component of every key (p, q, d, dp, dq, qinv) big-endian, little-endian and as 64-bit limbs,
each raw, in hex, base64 and UTF-16LE, whole and in 16-byte pieces (dgtest.find_secrets); and aeskeyfind and rsakeyfind find
nothing, while they do find the planted AES schedule and DER key in the input, so each check
can fail. Outside the spans the report lists, the copy is the input byte for byte."""
import hashlib
import json
import os
import struct
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
import keyforms  # noqa: E402
from test_dump_aes import schedules  # noqa: E402  (FIPS-197 key expansion in Python)
from test_minidump_corpus import run_lldb  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

CORPUS = dgtest.MINIDUMPS
SMALL_DUMPS = ["test.dmp", "linux-mini.dmp", "pipeline-inlines-macos-segv.dmp", "fullmem-normal.dmp"]
SANITIZED = os.environ.get("DG_SANITIZE", "OFF").upper() not in ("", "OFF", "0", "FALSE", "NO")
# Under ASan each dumpguard run costs seconds: there, one 32-bit Breakpad dump and one 64-bit
# dbghelp dump (both readers' paths, both pointer widths); the Release build runs them all.
if SANITIZED:
    SMALL_DUMPS = ["test.dmp", "fullmem-normal.dmp"]
# MINIDUMP_STREAM_TYPE (minidumpapiset.h)
MEMORY_LIST, SYSTEM_INFO, MEMORY64_LIST = 5, 7, 9
# PROCESSOR_ARCHITECTURE_*: x86, ARM, AMD64, ARM64, and Breakpad's old ARM64 value.
POINTER_WIDTH = {0: 4, 5: 4, 9: 8, 12: 8, 0x8003: 8}
GAP = 16  # bytes of the dump's own data kept before each planted object
MARGIN = 4096  # bytes around each planted object searched for every form in a large dump


def memory_ranges(data):
    """[(vaddr, file_offset, size)] of MemoryListStream and Memory64ListStream, and the pointer
    width from SystemInfoStream, read from the stream directory."""
    signature, _, count, directory = struct.unpack_from("<4sIII", data, 0)
    assert signature == b"MDMP"
    ranges, width = [], None
    for i in range(count):
        kind, _, rva = struct.unpack_from("<III", data, directory + 12 * i)
        if kind == MEMORY_LIST:
            (n,) = struct.unpack_from("<I", data, rva)
            for j in range(n):
                start, size, at = struct.unpack_from("<QII", data, rva + 4 + 16 * j)
                ranges.append((start, at, size))
        elif kind == MEMORY64_LIST:
            n, at = struct.unpack_from("<QQ", data, rva)
            for j in range(n):
                start, size = struct.unpack_from("<QQ", data, rva + 16 + 16 * j)
                ranges.append((start, at, size))
                at += size
        elif kind == SYSTEM_INFO:
            width = POINTER_WIDTH[struct.unpack_from("<H", data, rva)[0]]
    for _, at, size in ranges:
        assert at + size <= len(data)
    return ranges, width


class Planter:
    """Places objects in memory ranges, each 16-byte aligned in virtual memory, GAP bytes after
    the range's start or the previous object, largest ranges first."""

    def __init__(self, data, ranges):
        self.data = data
        self.free = sorted(([v, o, s, GAP] for v, o, s in ranges), key=lambda r: -r[2])
        self.used = []  # (file_offset, size) of each object placed

    def place(self, size, build=None, content=None):
        for r in self.free:
            vaddr, offset, rsize, cursor = r
            at = cursor + (-(vaddr + cursor)) % 16
            if at + size <= rsize:
                blob = build(vaddr + at) if build else content
                assert len(blob) == size
                self.data[offset + at:offset + at + size] = blob
                r[3] = at + size + GAP
                self.used.append((offset + at, size))
                return offset + at
        raise AssertionError(f"no memory range of the dump has room for {size} bytes")


def components(key):
    n = key.private_numbers()
    return {"p": n.p, "q": n.q, "d": n.d, "dp": n.dmp1, "dq": n.dmq1, "qinv": n.iqmp}


def binary_forms(value):
    """Big-endian, little-endian and little-endian 64-bit limbs of a number."""
    be = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return {"be": be, "le": be[::-1], "le64": value.to_bytes(-(-len(be) // 8) * 8, "little")}


def key_secrets(keys):
    """{(key, component, encoding): bytes} of every secret number of every key, in the binary
    forms; dgtest.find_secrets() adds the text encodings and the pieces."""
    return {(name, comp, enc): form for name, key in keys.items() for comp, value in components(key).items()
            for enc, form in binary_forms(value).items()}


def rsakeyfind(path):
    out = subprocess.run(["rsakeyfind", path], capture_output=True, text=True, timeout=600).stdout
    return out.count("FOUND PRIVATE KEY")


def aeskeyfind(path):
    return subprocess.run(["aeskeyfind", "-q", path], capture_output=True, text=True, timeout=600).stdout.split()


class RedactPlantedMinidumps(dgtest.DumpTestCase):
    def make_keys(self):
        self.keys = {form: rsa.generate_private_key(public_exponent=65537, key_size=2048)
                     for form in ("cng", "capi", "limbs", "der")}
        self.aes_key = os.urandom(16)
        self.pubkey = os.path.join(self.tmp, "limbs.pub.pem")
        with open(self.pubkey, "wb") as f:
            f.write(self.keys["limbs"].public_key().public_bytes(serialization.Encoding.PEM,
                                                                 serialization.PublicFormat.SubjectPublicKeyInfo))
        self.fp_key = os.path.join(self.tmp, "fingerprint.key")

    def plant(self, original):
        """A copy of `original` with the keys planted; returns (bytes, [(offset, size)] around
        each planted object)."""
        data = bytearray(original)
        ranges, width = memory_ranges(original)
        self.assertIsNotNone(width, "no SystemInfo stream: the pointer width is unknown")
        planter = Planter(data, ranges)
        planter.place(len(cng := keyforms.cng_rsa(self.keys["cng"], keyforms.RSA3)), content=cng)
        planter.place(len(capi := keyforms.capi_rsa(self.keys["capi"])), content=capi)
        der = self.keys["der"].private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                             serialization.NoEncryption())
        planter.place(len(der), content=der)
        n = self.keys["limbs"].private_numbers()
        p_limbs, q_limbs = n.p.to_bytes(128, "little"), n.q.to_bytes(128, "little")
        limbs = 128 // width

        def bignum_then_limbs(vaddr):
            # crypto/bn/bn_local.h: struct bignum_st { BN_ULONG *d; int top; int dmax; int neg;
            # int flags; }, then (16-byte aligned) the limbs it points at.
            header = (vaddr + header_size).to_bytes(width, "little") + struct.pack("<iiii", limbs, limbs, 0, 1)
            return header.ljust(header_size, b"\0") + p_limbs

        header_size = -(-(width + 16) // 16) * 16  # the header, padded so the limbs are 16-byte aligned
        planter.place(header_size + len(p_limbs), build=bignum_then_limbs)
        planter.place(len(q_limbs), content=q_limbs)
        planter.place(176, content=schedules(self.aes_key)["enc"])
        # Search windows: each object with MARGIN bytes around it, within the file.
        windows = [(max(0, at - MARGIN), size + 2 * MARGIN) for at, size in planter.used]
        return bytes(data), windows

    def check_dump(self, name, original, stored=None, full_search=True):
        """Plant, redact and check one dump. `original` is its (decompressed) bytes."""
        planted_bytes, windows = self.plant(original)
        planted = os.path.join(self.tmp, "planted-" + name)
        with open(planted, "wb") as f:
            f.write(planted_bytes)
        search_windows = None if full_search else windows
        # The test's own search sees every planted number in the input, so it can fail.
        hits = dgtest.find_secrets(planted_bytes, key_secrets(self.keys), search_windows)
        before = {(k, c) for (k, c, _), _, _ in hits}
        expected = {(k, c) for k in ("cng", "capi", "der") for c in components(self.keys[k])}
        expected |= {("limbs", "p"), ("limbs", "q")}
        self.assertEqual(before & expected, expected, "a planted component is missing from the input")
        self.assertEqual(rsakeyfind(planted), 1, "rsakeyfind must find the planted DER key in the input")
        self.assertIn(self.aes_key.hex(), aeskeyfind(planted), "aeskeyfind must find the planted schedule")
        out_path = os.path.join(self.tmp, "redacted-" + name)
        report_path = os.path.join(self.tmp, "report-" + name + ".json")
        code, r_out, r_err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key, "--pubkey", self.pubkey,
                                                  planted, "-o", out_path, "--report", report_path)
        self.assertEqual(code, 0, r_err)
        with open(out_path, "rb") as f:
            redacted = f.read()
        self.assertEqual(len(redacted), len(planted_bytes))
        with open(report_path, "rb") as f:
            report_bytes = f.read()
        report = json.loads(report_bytes)
        self.assertEqual(report["output"]["sha256"], hashlib.sha256(redacted).hexdigest())
        self.assertEqual(report["verification"]["verdict"], "clean")
        # dumpguard found each planted key: its spans name it.
        span_keys = {s["key"] for s in report["spans"]}
        for form, key in self.keys.items():
            self.assertIn(keyforms.spki_fingerprint(key.public_key()), span_keys, f"{name}: the {form} key")
        self.assertIn("aes-key-schedule", {s["kind"] for s in report["spans"]}, f"{name}: the AES key")
        # Only the listed spans changed, and each is zero-filled.
        pos = 0
        for start, end in sorted((s["file_offset"], s["file_offset"] + s["length"]) for s in report["spans"]):
            self.assertEqual(redacted[pos:start], planted_bytes[pos:start])
            self.assertEqual(redacted[start:end], bytes(end - start))
            pos = max(pos, end)
        self.assertEqual(redacted[pos:], planted_bytes[pos:])
        # The suite's self-check: nothing the scan found in the input is anywhere in the output.
        self.assertEqual(dgtest.left_after_redaction(planted, planted_bytes, redacted, report["spans"]), [], name)

        # lldb: the same threads and modules as for the original and the planted copy.
        self.assertEqual(run_lldb(out_path), run_lldb(stored or os.path.join(CORPUS, name)))
        self.assertEqual(dgtest.info_json(out_path)["regions"], dgtest.info_json(planted)["regions"])
        # dumpguard's own rescan, with the same hints.
        code, rescan, rescan_err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", self.fp_key,
                                                        "--pubkey", self.pubkey, out_path)
        self.assertEqual(code, 0, rescan_err)
        rescan_report = json.loads(rescan)
        self.assertEqual(rescan_report["findings"], [])
        self.assertEqual(rescan_report["verdict"], "clean")
        self.assertEqual([s["status"] for s in rescan_report["supplied"]], ["absent"])
        # The independent search, and the peers.
        left = dgtest.find_secrets(redacted, key_secrets(self.keys), search_windows)
        self.assertEqual(left, [], f"{name}: key material left")
        self.assertNotIn(self.aes_key, redacted)
        for layout, schedule in schedules(self.aes_key).items():
            self.assertNotIn(schedule, redacted, layout)
        self.assertEqual(rsakeyfind(out_path), 0)
        self.assertEqual(aeskeyfind(out_path), [])
        # No output carries a secret.
        secrets_ = {" ".join(k): v for k, v in key_secrets(self.keys).items() if k[2] != "le64"}
        secrets_["AES key"] = self.aes_key
        dgtest.assert_no_secret({"redact stdout": r_out, "redact stderr": r_err,
                                 "redact report": report_bytes, "rescan": rescan + rescan_err}, secrets_)

    def test_small_corpus_minidumps(self):
        self.make_keys()
        for name in SMALL_DUMPS:
            with self.subTest(name):
                with open(os.path.join(CORPUS, name), "rb") as f:
                    self.check_dump(name, f.read())

    def test_full_memory_minidump(self):
        """dbghelp's MiniDumpWithFullMemory dump (Memory64List, 111 MB decompressed)."""
        if SANITIZED:
            self.skipTest("111 MB under ASan takes minutes; the small dumps cover the sanitizer build")
        self.make_keys()
        packed = os.path.join(CORPUS, "fullmem-full.dmp.zst")
        original = subprocess.run(["zstd", "-dc", packed], check=True, capture_output=True, timeout=300).stdout
        plain = os.path.join(self.tmp, "fullmem-full.dmp")
        with open(plain, "wb") as f:
            f.write(original)
        # The whole output is searched for the binary forms; the text forms and the pieces are
        # searched in the ranges the keys went into (everything else is checked equal to the input).
        self.check_dump("fullmem-full.dmp", original, stored=plain, full_search=False)


if __name__ == "__main__":
    unittest.main()
