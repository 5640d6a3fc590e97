"""No small file may cost minutes or gigabytes (docs/formats.md, "Bad input"). The test writes, byte by
byte from the specifications, the shapes that once did:

- a minidump whose MemoryList descriptors all point at one 4 MiB block (100,000 of them in a
  5.6 MB file: the scan searched the block once per descriptor, 400 GB, minutes);
- an ELF core with 65,000 PT_LOADs over the same 8 MiB (12 MB: 520 GB to search);
- a minidump with a million one-byte ranges, one byte apart (a region per 17 bytes of file:
  1.5 GB of memory in `scan` and `info --json`);
- an ELF core with a million empty notes (a region per 12 bytes).

`scan --json` and `info --json` run on each under an address-space limit (`ulimit -v`, 1 GiB)
and a timeout (60 s) that the test harness enforces: the bounds are the harness's, never
timings the test compares. Each dump must read as incomplete, with the warning that says why,
and `scan` must not call it clean. Under ASan+UBSan (whose shadow memory cannot live under an
address-space limit) only the two overlap shapes run, with the timeout."""
import json
import os
import resource
import struct
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

ADDRESS_SPACE = 1 << 30  # bytes; the scans below peak at about 450 MB resident
TIMEOUT = 60             # seconds; each run below takes well under 5 s in the Release build
SANITIZED = os.environ.get("DG_SANITIZE", "OFF").upper() in ("ON", "1", "TRUE")
REGION_LIMIT = 131072    # docs/formats.md, "Bad input"

MDMP_HEADER = struct.Struct("<IIIIIIQ")  # Signature, Version, NumberOfStreams, StreamDirectoryRva, CheckSum, TimeDateStamp, Flags
MEMORY_LIST = 5
MIB = 1 << 20
RANGE_START = 0x10000000


def minidump(memory_list, data, data_rva):
    """Header, then `data` at `data_rva` (right after the header), then the MemoryList and the
    directory of one stream."""
    assert data_rva == MDMP_HEADER.size
    list_rva = data_rva + len(data)
    dir_rva = list_rva + len(memory_list)
    header = MDMP_HEADER.pack(0x504D444D, 0xA793, 1, dir_rva, 0, 0, 0)
    return header + data + memory_list + struct.pack("<III", MEMORY_LIST, len(memory_list), list_rva)


def filler(size):
    line = b"x" * 63 + b"\n"
    return (line * (size // len(line) + 1))[:size]


def minidump_shared_block(count, block):
    rva = MDMP_HEADER.size
    # MINIDUMP_MEMORY_DESCRIPTOR: StartOfMemoryRange u64, DataSize u32, Rva u32.
    descriptors = b"".join(struct.pack("<QII", RANGE_START + i * block, block, rva) for i in range(count))
    return minidump(struct.pack("<I", count) + descriptors, filler(block), rva)


def minidump_tiny_ranges(count):
    rva = MDMP_HEADER.size
    descriptors = b"".join(struct.pack("<QII", RANGE_START + i * 0x1000, 1, rva + 2 * i) for i in range(count))
    return minidump(struct.pack("<I", count) + descriptors, filler(2 * count), rva)


def elf_core(phdrs, body):
    """An x86-64 ET_CORE: ELF header, program headers (type, flags, offset, vaddr, filesz,
    memsz, align), then `body` right after them."""
    assert len(phdrs) < 0xFFFF
    ident = b"\x7fELF\x02\x01\x01" + bytes(9)
    # e_type, e_machine, e_version, e_entry, e_phoff, e_shoff, e_flags, e_ehsize, e_phentsize,
    # e_phnum, e_shentsize, e_shnum, e_shstrndx
    header = ident + struct.pack("<HHIQQQIHHHHHH", 4, 62, 1, 0, 64, 0, 0, 64, 56, len(phdrs), 0, 0, 0)
    table = b"".join(struct.pack("<IIQQQQQQ", t, f, off, va, 0, fs, ms, al) for t, f, off, va, fs, ms, al in phdrs)
    return header + table + body


def core_repeated_loads(count, block):
    body_offset = 64 + 56 * count
    phdrs = [(1, 6, body_offset, RANGE_START + i * block, block, block, 1) for i in range(count)]
    return elf_core(phdrs, filler(block))


def core_empty_notes(count):
    # Elf64_Nhdr: namesz 0, descsz 0, type: 12 bytes a note.
    notes = struct.pack("<III", 0, 0, 0x100) * count
    return elf_core([(4, 4, 64 + 56, 0, len(notes), 0, 4)], notes)


class HostileBounds(dgtest.DumpTestCase):
    def run_bounded(self, *args):
        """Runs the CLI under the address-space limit and the timeout; returns (code, stdout,
        stderr, peak resident MiB)."""
        def limit():
            if not SANITIZED:
                resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
        proc = subprocess.Popen([dgtest.DUMPGUARD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=limit)
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            self.fail(f"dumpguard {' '.join(args)} ran longer than {TIMEOUT} s")
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return proc.returncode, out, err.decode(errors="replace"), usage.ru_maxrss / 1024

    def check(self, name, data, warning, regions_at_most=None, memory_regions=None):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        code, out, err, peak = self.run_bounded("info", "--json", path)
        self.assertEqual(code, 0, err[-2000:])
        info = json.loads(out)
        self.assertFalse(info["complete"])
        messages = [w["message"] for w in info["warnings"]]
        self.assertTrue(any(warning in m for m in messages), messages[:5])
        if regions_at_most is not None:
            self.assertLessEqual(len(info["regions"]), regions_at_most)
        if memory_regions is not None:
            # The ranges stay in the model; only the scan's work is bounded.
            self.assertEqual(sum(1 for r in info["regions"] if r["vaddr"] is not None), memory_regions)

        code, out, err, peak = self.run_bounded("scan", "--json", path)
        self.assertIn(code, (0, 1), err[-2000:])
        scan = json.loads(out)
        self.assertFalse(scan["complete"])
        self.assertNotEqual(scan["verdict"], "clean")
        self.assertTrue(any(warning in w["message"] for w in scan["warnings"]))
        print(f"{name}: {len(data) >> 10} KiB file, peak resident of the runs so far {peak:.0f} MiB",
              file=sys.stderr)

    def test_minidump_ranges_sharing_one_block(self):
        self.check("shared-block.dmp", minidump_shared_block(100_000, 4 * MIB), "regions overlap",
                   memory_regions=100_000)

    def test_core_loads_over_one_block(self):
        self.check("repeated-loads.core", core_repeated_loads(65_000, 8 * MIB), "overlaps segment",
                   memory_regions=65_000)

    @unittest.skipIf(SANITIZED, "no address-space limit under ASan; the unit tests check the model's limit")
    def test_minidump_million_ranges(self):
        self.check("tiny-ranges.dmp", minidump_tiny_ranges(1_000_000), f"more than {REGION_LIMIT} regions",
                   regions_at_most=REGION_LIMIT)

    @unittest.skipIf(SANITIZED, "no address-space limit under ASan; the unit tests check the model's limit")
    def test_core_million_empty_notes(self):
        self.check("empty-notes.core", core_empty_notes(1_000_000), "limit of regions", regions_at_most=REGION_LIMIT)


if __name__ == "__main__":
    unittest.main()
