"""A random-number generator's ChaCha20 state is not a key in use. A real Python process asks
SQLite for random bytes (`randomblob`), so libsqlite3's sqlite3_randomness seeds its ChaCha20
generator in the library's static data. The test reads the process's own memory map before
dumping it, finds the ChaCha constant in the core itself, and requires the state that lies in
libsqlite3's mappings to be reported as "chacha20-prng-state" at low severity, so that the
default scan (--fail-on medium) does not fail on it."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

PROGRAM = """
import sqlite3, sys
connection = sqlite3.connect(":memory:")
connection.execute("select randomblob(32)").fetchone()
print("ready", flush=True)
sys.stdin.read()
"""


def sqlite_ranges(pid):
    """[(start, end)] of the mappings of libsqlite3 in /proc/PID/maps."""
    ranges = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 6 and "libsqlite3" in fields[5]:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                ranges.append((start, end))
    return ranges


class SqlitePrng(dgtest.DumpTestCase):
    def test_sqlite_generator_state_is_reported_apart_at_low(self):
        script = os.path.join(self.tmp, "prng.py")
        with open(script, "w") as f:
            f.write(PROGRAM)
        holder = dgtest.LiveProcess(["/usr/bin/python3", script])
        try:
            ranges = sqlite_ranges(holder.pid)
            # The module's .bss follows its last mapping: count the page after it too.
            if ranges:
                ranges.append((ranges[-1][1], ranges[-1][1] + (1 << 20)))
            core = dgtest.gcore(holder.pid, self.tmp)
        finally:
            holder.stop()
        self.assertTrue(ranges, "python3's sqlite3 module did not load libsqlite3")
        with open(core, "rb") as f:
            data = f.read()
        self.assertTrue(dgtest.occurrences(data, b"expand 32-byte k"), "no ChaCha constant in the core")
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", os.path.join(self.tmp, "fp"), core)
        report = json.loads(out)
        states = [f for f in report["findings"] if f["detector"] == "chacha-state" and f["length"] == 64]
        in_sqlite = [f for f in states if f.get("vaddr") is not None
                     and any(start <= f["vaddr"] < end for start, end in ranges)]
        self.assertTrue(in_sqlite, "the generator's state in libsqlite3 was not found")
        for f in in_sqlite:
            self.assertEqual(f["kind"], "chacha20-prng-state")
            self.assertEqual(f["severity"], "low")
            self.assertIn("libsqlite3", f["proof"])
        high = [f["kind"] for f in report["findings"] if f["severity"] in ("medium", "high", "critical")]
        self.assertEqual(high, [], "a process holding no secret got findings at medium or above")
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main()
