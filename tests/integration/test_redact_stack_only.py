"""`dumpguard redact --drop heap` on the real minidumps of tests/corpus: each becomes a
stack-only dump, as MiniDumpNormal would have written it.

Independent checks: lldb lists the same threads and modules for the copy as for the input; a
minidump reader written here (not dumpguard's) finds in the copy one MemoryListStream whose
ranges are exactly the threads' stacks, each byte for byte the input's memory at the same
addresses, every stream but the memory lists still there, and no memory beyond the stacks (the
full-memory dump's heap marker is gone). dumpguard's own `info --json` must show only stack
regions and no warning. A key planted in a kept stack is still overwritten."""
import json
import os
import struct
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
from test_minidump_corpus import MARKER, run_lldb  # noqa: E402

CORPUS = dgtest.MINIDUMPS
VALID = ["test.dmp", "linux-mini.dmp", "simple-crashpad.dmp", "pipeline-inlines-macos-segv.dmp",
         "invalid-parameter.dmp", "fullmem-normal.dmp"]


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Minidump:
    """Just enough of a minidump reader, from minidumpapiset.h, to check the copy."""

    def __init__(self, data):
        self.data = data
        assert data[:4] == b"MDMP"
        count, rva = struct.unpack_from("<II", data, 8)
        self.flags = struct.unpack_from("<Q", data, 24)[0]
        self.streams = [struct.unpack_from("<III", data, rva + 12 * i) for i in range(count)]  # (type, size, rva)

    def streams_of(self, stream_type):
        return [(size, rva) for t, size, rva in self.streams if t == stream_type and size]

    def memory(self):
        """[(vaddr, size, file offset)] from MemoryListStream (5) and Memory64ListStream (9)."""
        out = []
        for size, rva in self.streams_of(5):
            n = struct.unpack_from("<I", self.data, rva)[0]
            first = rva + (4 if size == 4 + 16 * n else 8)
            for i in range(n):
                start, length, at = struct.unpack_from("<QII", self.data, first + 16 * i)
                out.append((start, length, at))
        for size, rva in self.streams_of(9):
            n, base = struct.unpack_from("<QQ", self.data, rva)
            for i in range(n):
                start, length = struct.unpack_from("<QQ", self.data, rva + 16 + 16 * i)
                out.append((start, length, base))
                base += length
        return out

    def threads(self):
        """[(tid, stack start, stack size, stack rva)] from ThreadListStream (3)."""
        out = []
        for size, rva in self.streams_of(3):
            n = struct.unpack_from("<I", self.data, rva)[0]
            first = rva + (4 if size == 4 + 48 * n else 8)
            for i in range(n):
                at = first + 48 * i
                tid = struct.unpack_from("<I", self.data, at)[0]
                start, length, data_rva = struct.unpack_from("<QII", self.data, at + 24)
                out.append((tid, start, length, data_rva))
        return out

    def read_memory(self, vaddr, size):
        for start, length, at in self.memory():
            if start <= vaddr and vaddr + size <= start + length:
                return self.data[at + vaddr - start:at + vaddr - start + size]
        return None


class StackOnly(dgtest.DumpTestCase):
    def redact(self, source, out, *extra):
        report = out + ".json"
        code, stdout, err = dgtest.run_dumpguard("redact", "--fingerprint-key", os.path.join(self.tmp, "fp.key"),
                                                 source, "--drop", "heap", "-o", out, "--report", report, *extra)
        self.assertEqual(code, 0, err)
        self.assertNotIn(b"warning", err)
        return json.loads(read(report))

    def check_copy(self, source, data_in, out, data_out):
        """The checks every stack-only copy must pass; returns the two parsed dumps."""
        before, after = Minidump(data_in), Minidump(data_out)
        # lldb: the same threads and modules.
        self.assertEqual(run_lldb(out), run_lldb(source))
        # Every stream but the memory lists, in the same order; one MemoryListStream instead.
        self.assertEqual([t for t, s, _ in after.streams if t not in (0, 5, 9)],
                         [t for t, s, _ in before.streams if t not in (0, 5, 9)])
        self.assertEqual(len(after.streams_of(5)), 1)
        self.assertEqual(after.streams_of(9), [])
        self.assertEqual(after.flags & 0x2, 0, "the copy still claims MiniDumpWithFullMemory")
        # Memory: exactly the threads' stacks (their Stack descriptors), the input's bytes.
        threads = after.threads()
        self.assertEqual([t[0] for t in threads], [t[0] for t in before.threads()])
        stacks = sorted((start, length) for _, start, length, _ in threads if length)
        self.assertEqual(sorted((s, n) for s, n, _ in after.memory()), stacks)
        for tid, start, length, rva in threads:
            if not length:
                continue
            self.assertEqual(data_out[rva:rva + length], after.read_memory(start, length), f"thread {tid}")
            self.assertEqual(after.read_memory(start, length), before.read_memory(start, length), f"thread {tid}")
        # dumpguard's own model: complete, no warnings, stacks only.
        info = dgtest.info_json(out)
        self.assertTrue(info["complete"])
        self.assertEqual(info["warnings"], [])
        self.assertEqual({r["kind"] for r in info["regions"] if r["vaddr"] is not None} - {"stack"}, set())
        return before, after

    def test_every_valid_corpus_minidump(self):
        for name in VALID:
            with self.subTest(name):
                source = os.path.join(CORPUS, name)
                out = os.path.join(self.tmp, name)
                report = self.redact(source, out)
                data_in, data_out = read(source), read(out)
                before, after = self.check_copy(source, data_in, out, data_out)
                self.assertLessEqual(len(data_out), len(data_in))
                self.assertEqual(report["layout"]["changed"], True)
                self.assertEqual(report["layout"]["as"], "stack-only minidump")
                dropped = len(before.memory()) - len(after.memory())
                self.assertEqual(sum(k["regions"] for k in report["layout"]["removed"]), dropped)
                self.assertEqual(report["verification"]["verdict"], "clean")

    def test_full_memory_dump(self):
        # 111 MB of memory (Memory64List) becomes the three threads' live stacks. The sanitizer
        # build redacts only the compressed dump (each redaction scans 111 MB twice).
        compressed = os.path.join(CORPUS, "fullmem-full.dmp.zst")
        source = os.path.join(self.tmp, "fullmem-full.dmp")
        subprocess.run(["zstd", "-q", "-d", compressed, "-o", source], check=True, timeout=300)
        out = os.path.join(self.tmp, "stack-only.dmp")
        out_zst = os.path.join(self.tmp, "stack-only.dmp.zst")
        if os.environ.get("DG_SANITIZE") == "ON":
            report = self.redact(compressed, out_zst)
            with open(out, "wb") as f:
                subprocess.run(["zstd", "-dc", out_zst], check=True, stdout=f, timeout=300)
        else:
            report = self.redact(source, out)
        data_in, data_out = read(source), read(out)
        self.assertIn(MARKER, data_in)
        self.assertNotIn(MARKER, data_out, "heap memory is still in the copy")
        self.assertNotIn(MARKER.decode().encode("utf-16-le"), data_out)
        self.assertLess(len(data_out), len(data_in) // 1000, "the copy is not much smaller")
        self.check_copy(source, data_in, out, data_out)
        self.assertEqual(report["layout"]["replaced_streams"], ["memory64-list"])
        self.assertEqual(report["layout"]["kept_memory"]["regions"], 3)
        if not os.path.exists(out_zst):
            # Compressed in, compressed out (the same codec): the copy decompresses to the same
            # stack-only dump.
            self.redact(compressed, out_zst)
            plain = subprocess.run(["zstd", "-dc", out_zst], check=True, capture_output=True, timeout=300).stdout
            self.assertEqual(plain, data_out)

    def test_a_key_in_a_kept_stack_is_still_overwritten(self):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
        source = os.path.join(CORPUS, "fullmem-normal.dmp")
        data = bytearray(read(source))
        dump = Minidump(bytes(data))
        tid, start, length, rva = max(dump.threads(), key=lambda t: t[2])
        der = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        self.assertGreater(length, len(der) + 64)
        at = rva + 32
        data[at:at + len(der)] = der
        planted = os.path.join(self.tmp, "planted.dmp")
        with open(planted, "wb") as f:
            f.write(bytes(data))
        out = os.path.join(self.tmp, "stack-only.dmp")
        report = self.redact(planted, out)
        data_out = read(out)
        self.assertNotIn(der[-32:], data_out, "the key's seed is still in the copy")
        kept = Minidump(data_out).read_memory(start, length)
        original = dump.read_memory(start, length)
        self.assertEqual(kept[:32], original[:32])
        self.assertEqual(kept[32:32 + len(der)], bytes(len(der)), "the key's span was not zero-filled")
        self.assertEqual(kept[32 + len(der):], original[32 + len(der):])
        self.assertTrue(any(s["detector"] != "drop" for s in report["spans"]))
        self.assertEqual(run_lldb(out), run_lldb(planted))

    def test_a_core_keeps_its_layout(self):
        # For an ELF core, --drop heap fills instead (the layout stays): a raw image stands in here,
        # since this file dumps no live process; the report says the layout did not change.
        raw = os.path.join(self.tmp, "image.raw")
        with open(raw, "wb") as f:
            f.write(bytes(range(256)) * 64)
        out = os.path.join(self.tmp, "image.out")
        report = self.redact(raw, out, "--raw")
        self.assertEqual(report["layout"], {"changed": False})
        self.assertEqual(os.path.getsize(out), os.path.getsize(raw))


if __name__ == "__main__":
    unittest.main()
