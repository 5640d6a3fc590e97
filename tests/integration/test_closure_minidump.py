"""Loose copies of secrets the scan proves elsewhere, in real minidumps (the repository's
corpus), with keys made here and planted into ranges of the dump's memory lists:

- a P-256 key as a CNG BCRYPT_ECCPRIVATE_BLOB (proven: d·G is the blob's point), and the same
  32-byte scalar again on its own, big-endian, and little-endian elsewhere;
- an expanded AES-128 schedule, and the raw 16-byte key it expands from on its own, as an
  application keeps it beside its cipher context.

Every planted copy must lie inside a finding of its key, and after `redact` no copy may be
left: the test searches the output for every form itself, aeskeyfind finds nothing where it
found the planted schedule, and lldb lists the same threads and modules. No live process: this
runs in the sanitizer build too."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
import keyforms  # noqa: E402
from test_dump_aes import schedules  # noqa: E402  (FIPS-197 key expansion in Python)
from test_minidump_corpus import run_lldb  # noqa: E402
from test_redact_minidumps import Planter, aeskeyfind, memory_ranges  # noqa: E402

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

DUMPS = ["fullmem-normal.dmp", "test.dmp"]


class ClosureInMinidumps(dgtest.DumpTestCase):
    def check(self, name):
        with open(os.path.join(dgtest.MINIDUMPS, name), "rb") as f:
            original = f.read()
        key = ec.generate_private_key(ec.SECP256R1())
        d = key.private_numbers().private_value.to_bytes(32, "big")
        aes_key = os.urandom(16)
        data = bytearray(original)
        ranges, _ = memory_ranges(original)
        planter = Planter(data, ranges)
        blob = keyforms.cng_ecc(key, 0x32534345, 32)  # BCRYPT_ECDSA_PRIVATE_P256_MAGIC "ECS2"
        planted = {"cng blob": (planter.place(len(blob), content=blob), len(blob)),
                   "scalar big-endian": (planter.place(32, content=d), 32),
                   "scalar little-endian": (planter.place(32, content=d[::-1]), 32),
                   "aes schedule": (planter.place(176, content=schedules(aes_key)["enc"]), 176),
                   "aes key alone": (planter.place(16, content=aes_key), 16)}
        path = os.path.join(self.tmp, "planted-" + name)
        with open(path, "wb") as f:
            f.write(data)
        self.assertIn(aes_key.hex(), aeskeyfind(path), "aeskeyfind must see the planted schedule")
        fp = os.path.join(self.tmp, "fp.key")
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", fp, path)
        self.assertEqual(code, 1, err)
        findings = json.loads(out)["findings"]
        ec_key = keyforms.spki_fingerprint(key.public_key())
        for what, (at, size) in planted.items():
            inside = [f for f in findings if f["file_offset"] <= at and at + size <= f["file_offset"] + f["length"]]
            self.assertTrue(inside, f"{name}: the {what} at {at:#x} is in no finding")
            if not what.startswith("aes"):
                self.assertIn(ec_key, {f["key"] for f in inside}, f"{name}: the {what} is not of the EC key")
                self.assertTrue(all(f["verified"] for f in inside if f["key"] == ec_key))
        # The schedule and the loose key are one key group.
        aes_groups = {f["key"] for f in findings for what in ("aes schedule", "aes key alone")
                      if f["file_offset"] <= planted[what][0] < f["file_offset"] + f["length"]}
        self.assertEqual(len(aes_groups), 1, f"{name}: the AES schedule and its key are not one key")

        redacted = os.path.join(self.tmp, "redacted-" + name)
        report = os.path.join(self.tmp, "redact-" + name + ".json")
        code, _, err = dgtest.run_dumpguard("redact", "--fingerprint-key", fp, path, "-o", redacted, "--report", report)
        self.assertEqual(code, 0, err)
        with open(redacted, "rb") as f:
            left = f.read()
        # The suite's self-check: nothing the scan found in the input is anywhere in the output.
        with open(report) as f:
            spans = json.load(f)["spans"]
        self.assertEqual(dgtest.left_after_redaction(path, bytes(data), left, spans), [], name)
        forms = {"scalar": d, "scalar reversed": d[::-1], "aes key": aes_key}
        for label, form in forms.items():
            for at in dgtest.occurrences(left, form):
                self.fail(f"{name}: the {label} is still at {at:#x}")
        self.assertNotIn(aes_key.hex(), aeskeyfind(redacted))
        self.assertEqual(run_lldb(redacted), run_lldb(path))

    def test_loose_copies_in_minidumps(self):
        for name in DUMPS:
            with self.subTest(dump=name):
                self.check(name)


if __name__ == "__main__":
    unittest.main()
