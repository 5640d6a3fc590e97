"""Conformance of `dumpguard info --json` on the real minidumps in tests/corpus.

Thread and module counts, thread ids and module base addresses are checked against lldb
(an independent minidump reader); the full-memory dump's Memory64List mapping is checked
against a marker string at known virtual addresses in the decompressed bytes.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

DUMPGUARD = os.environ.get("DUMPGUARD", "dumpguard")
# The real minidumps, in the repository (their source and licence: SOURCE.md there).
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "corpus", "minidumps")

VALID = [
    "test.dmp",
    "linux-mini.dmp",
    "simple-crashpad.dmp",
    "pipeline-inlines-macos-segv.dmp",
    "invalid-parameter.dmp",
    "fullmem-normal.dmp",
]
MALFORMED = ["invalid-range.dmp", "invalid-record-count.dmp"]

MARKER = b"dumpguard-conformance-marker-7f3a9c"
# SOURCE.md: where fullmem.c left the marker in its heap.
MARKER_ASCII_VADDR = 0x34D420
MARKER_UTF16_VADDR = 0x34FE10

LLDB_ENV = {
    "PYTHONPATH": "/usr/lib/llvm-14/lib/python3.11/dist-packages",
    "PATH": "/usr/bin:/bin",
}


def run_lldb(path):
    """Returns (thread ids, module bases) as lldb lists them for a minidump."""
    if shutil.which("lldb", path=LLDB_ENV["PATH"]) is None:
        raise unittest.SkipTest("lldb is not installed")
    env = dict(os.environ, **LLDB_ENV)
    # lldb exits 0 even when it cannot load the core, so the output is what counts.
    out = subprocess.run(
        ["lldb", "--batch", "-c", path, "-o", "thread list", "-o", "image list"],
        env=env, capture_output=True, text=True, timeout=600,
    ).stdout
    if "was loaded" not in out:
        raise AssertionError(f"lldb could not load {path}:\n{out[-2000:]}")
    # "* thread #1: tid = 0x0bf4, ..." (hex on Windows/macOS dumps, decimal on Linux ones)
    tids = [int(m.group(1), 0) for m in re.finditer(r"^\*?\s+thread #\d+: tid = (\w+)", out, re.M)]
    # "[  0] GUID-AGE 0x00400000 c:\test_app.exe"; the GUID column may be blank.
    bases = [int(m.group(1), 16) for m in re.finditer(r"^\[\s*\d+\]\s+(?:\S+\s+)??0x([0-9a-fA-F]+)\s", out, re.M)]
    return tids, bases


def dumpguard_info(path):
    proc = subprocess.run([DUMPGUARD, "info", "--json", path], capture_output=True, timeout=600)
    return proc


def vaddr_to_offset(info, vaddr):
    for r in info["regions"]:
        if r.get("vaddr") is None:
            continue
        if r["vaddr"] <= vaddr < r["vaddr"] + r["size"]:
            return r["file_offset"] + (vaddr - r["vaddr"])
    return None


class MinidumpCorpusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(DUMPGUARD):
            raise unittest.SkipTest(f"dumpguard CLI not built: {DUMPGUARD}")
        cls.tmp = tempfile.TemporaryDirectory(prefix="dg-minidump-")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def check_info(self, path, stored_path=None):
        proc = dumpguard_info(stored_path or path)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        info = json.loads(proc.stdout)
        self.assertEqual(info["format"], "minidump")
        self.assertTrue(info["complete"], info["warnings"])
        self.assertEqual(info["warnings"], [])
        size = os.path.getsize(path)
        for r in info["regions"]:
            self.assertLessEqual(r["file_offset"] + r["size"], size, r)
        for t in info["threads"]:
            for key in ("stack_region", "context_region"):
                if t.get(key) is not None:
                    self.assertLess(t[key], len(info["regions"]))
        tids, bases = run_lldb(path)
        self.assertEqual(len(info["threads"]), len(tids))
        self.assertEqual(sorted(t["tid"] for t in info["threads"]), sorted(tids))
        self.assertEqual(len(info["modules"]), len(bases))
        self.assertEqual(sorted(m["base"] for m in info["modules"]), sorted(bases))
        return info

    def test_valid_dumps_match_lldb(self):
        for name in VALID:
            with self.subTest(name):
                self.check_info(os.path.join(CORPUS, name))

    def test_full_memory_dump_maps_markers(self):
        zst = os.path.join(CORPUS, "fullmem-full.dmp.zst")
        if shutil.which("zstd") is None:
            self.skipTest("zstd CLI not installed")
        raw = os.path.join(self.tmp.name, "fullmem-full.dmp")
        subprocess.run(["zstd", "-q", "-d", "-f", "-o", raw, zst], check=True, timeout=600)
        try:
            # dumpguard reads the .zst itself; offsets refer to the decompressed bytes.
            info = self.check_info(raw, stored_path=zst)
            with open(raw, "rb") as f:
                data = f.read()
            utf16 = MARKER.decode().encode("utf-16-le")
            for vaddr, expect in ((MARKER_ASCII_VADDR, MARKER), (MARKER_UTF16_VADDR, utf16)):
                offset = vaddr_to_offset(info, vaddr)
                self.assertIsNotNone(offset, hex(vaddr))
                self.assertEqual(data[offset:offset + len(expect)], expect, hex(vaddr))
        finally:
            os.unlink(raw)

    def test_malformed_dumps_warn_and_are_incomplete(self):
        for name in MALFORMED:
            with self.subTest(name):
                proc = dumpguard_info(os.path.join(CORPUS, name))
                self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
                info = json.loads(proc.stdout)
                self.assertEqual(info["format"], "minidump")
                self.assertFalse(info["complete"])
                self.assertTrue(info["warnings"])
                self.assertTrue(info["unaccounted"])

    def test_truncated_and_corrupted_copies_never_crash(self):
        # Every cut or flipped byte must give a model (exit 0) or a clean error (exit 2).
        with open(os.path.join(CORPUS, "test.dmp"), "rb") as f:
            original = f.read()
        variants = [original[:n] for n in (31, 32, 100, 200, 388, 500, 5000, len(original) - 1)]
        for pos in range(0, 600, 7):
            flipped = bytearray(original)
            flipped[pos] ^= 0xFF
            variants.append(bytes(flipped))
        path = os.path.join(self.tmp.name, "variant.dmp")
        for i, data in enumerate(variants):
            with open(path, "wb") as f:
                f.write(data)
            proc = dumpguard_info(path)
            self.assertIn(proc.returncode, (0, 2), f"variant {i}: {proc.stderr[-500:]!r}")
            if proc.returncode == 0:
                json.loads(proc.stdout)


if __name__ == "__main__":
    unittest.main()
