"""The scan's memory bound (docs/commands/scan.md, "Bounded memory"): a real 512 MiB heap, dumped with
gcore, is scanned with every default detector on 2 threads, and the scan's peak resident memory
(the child's own rusage, from wait4) stays under 192 MiB: the bound docs/commands/scan.md states for 2 threads,
whatever the dump's size. The core's size is checked too, so the bound is far below it."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

HEAP_MIB = 512
BOUND_MIB = 192  # docs/commands/scan.md: about 96 MiB, plus 32 MiB per thread, plus the program (~32 MiB)


class MemoryBound(dgtest.DumpTestCase):
    def test_peak_resident_memory_stays_under_the_bound(self):
        filler = dgtest.LiveProcess([os.path.join(dgtest.PROGRAMS, "heap_filler"), str(HEAP_MIB)], timeout=120)
        try:
            # Random filler holds no secret, and redacting 512 MiB would cost seconds.
            core = dgtest.gcore(filler.pid, self.tmp, self_check=False)
        finally:
            filler.stop()
        size = os.path.getsize(core)
        self.assertGreater(size, HEAP_MIB << 20)
        key = os.path.join(self.tmp, "fp.key")
        with open(key, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(key, 0o600)
        proc = subprocess.Popen([dgtest.DUMPGUARD, "scan", "--json", "--threads", "2", "--fingerprint-key", key, core],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        self.assertIn(proc.returncode, (0, 1), err)
        peak_mib = usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux
        print(f"peak {peak_mib:.0f} MiB", file=sys.stderr)
        self.assertLess(peak_mib, BOUND_MIB, f"peak RSS {peak_mib:.0f} MiB scanning a {size >> 20} MiB core")


if __name__ == "__main__":
    unittest.main()
