"""A core written by the Linux kernel itself (not gcore), as systemd-coredump receives it.

The process aborts with `ulimit -c unlimited` in a directory of its own (core_pattern is
`core` on this machine); the test checks the model against eu-readelf, independently.
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402


def kernel_core(directory):
    holder = os.path.join(dgtest.PROGRAMS, "key_holder")
    subprocess.run(["bash", "-c", f"ulimit -c unlimited; ulimit -f {dgtest.CORE_LIMIT_BLOCKS}; exec {holder} 2048 abort"],
                   cwd=directory, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    cores = [f for f in os.listdir(directory) if f.startswith("core")]
    return os.path.join(directory, cores[0]) if cores else None


def eu_readelf_loads(path):
    """(offset, filesz, vaddr) of each PT_LOAD, as eu-readelf prints them."""
    out = subprocess.run(["eu-readelf", "-l", path], capture_output=True, text=True, check=True).stdout
    loads = []
    for line in out.splitlines():
        fields = line.split()
        if fields and fields[0] == "LOAD":
            loads.append((int(fields[1], 16), int(fields[4], 16), int(fields[2], 16)))
    return loads


class KernelCore(dgtest.DumpTestCase):
    def setUp(self):
        super().setUp()
        # Held shared while the process crashes: a test that pipes cores to a handler holds it
        # exclusively, so this core is never sent there.
        guard = dgtest.CorePatternGuard(exclusive=False)
        try:
            pattern = open("/proc/sys/kernel/core_pattern").read().strip()
            if pattern.startswith("|"):
                self.skipTest(f"core_pattern pipes cores to {pattern}; no core file lands here")
            self.core = kernel_core(self.tmp)
        finally:
            guard.release()
        if self.core is None:
            self.skipTest("the kernel wrote no core (core_pattern or limits)")

    def test_kernel_core_matches_eu_readelf(self):
        info = dgtest.info_json(self.core)
        self.assertEqual(info["format"], "elf-core")
        self.assertEqual(info["arch"], "x86_64")
        self.assertTrue(info["complete"], info["warnings"])
        loads = [l for l in eu_readelf_loads(self.core) if l[1] > 0]
        memory = {(r["file_offset"], r["size"], r["vaddr"]) for r in info["regions"] if r["vaddr"] is not None}
        self.assertEqual(set(loads), memory)
        # One thread (the program has no others), its stack pointer inside its stack region.
        self.assertEqual(len(info["threads"]), 1)
        thread = info["threads"][0]
        stack = info["regions"][thread["stack_region"]]
        self.assertEqual(stack["kind"], "stack")
        end = stack["vaddr"] + (stack["memory_size"] or stack["size"])
        self.assertTrue(stack["vaddr"] <= thread["sp"] < end)
        # The kernel's NT_FILE names the program: it is a module.
        self.assertTrue(any(m["path"].endswith("/key_holder") for m in info["modules"]))

    def test_redact_leaves_nothing_its_scan_found(self):
        # The suite's self-check (dgtest.gcore runs it on every core gcore makes), on a core the
        # kernel wrote: its segments are page-aligned in the file, gcore's are not.
        self.assertEqual(dgtest.redaction_leaves(self.core), [])

    def test_kernel_core_compressed_like_systemd_coredump(self):
        plain = dgtest.info_json(self.core)
        subprocess.run(["zstd", "-q", self.core, "-o", self.core + ".zst"], check=True)
        packed = dgtest.info_json(self.core + ".zst")
        self.assertEqual(packed["compression"]["format"], "zstd")
        self.assertEqual(packed["regions"], plain["regions"])
        self.assertEqual(packed["threads"], plain["threads"])


if __name__ == "__main__":
    unittest.main()
