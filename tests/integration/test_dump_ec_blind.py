"""EC private keys proven without any certificate or public-key file, in the default scan. A
real CPython process holds a P-256 and a P-384 key made here, as OpenSSL key objects built from
their scalars, with each public point kept only as SEC1 bytes: nothing the structure detectors
harvest. The scan must prove each scalar by finding a coordinate of its d·G in memory. A third
key, P-256, is held with no OpenSSL object: its scalar only as a Python int (CPython's 30-bit
digits, no BIGNUM limbs anywhere in the core), its point as SEC1 bytes; the default scan must
take the scalar from the runtime's own layout.

The test's own search writes each scalar in each runtime layout (big- and little-endian bytes,
OpenSSL's limbs, CPython's 30-bit digits, the JVM's words, hex), finds every copy in the core,
and requires each to lie inside a verified finding; after `redact`, none may remain, and what
the scan found is gone from the output. No output may carry a scalar.

A real Node.js process also holds a secp256k1 and a P-256 key pair made by elliptic (bn.js's
26-bit digits as V8 small integers, nothing else): the default scan must prove each scalar from
V8's arrays alone (EllipticKeysInNodeJs)."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
from test_dump_closure import (PROGRAMS_SRC, SANITIZED, SMALL_MALLOC, layouts, looks_random, read,  # noqa: E402
                               uncovered, write_private)
from test_dump_redact import gdb_threads  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

CURVES = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1()}
PYTHON_ONLY = "p256-python"  # the key held only as a Python int


def cpython_digits(v):
    """CPython's digits of v (Include/cpython/longintrepr.h: 30 bits each, least significant first)."""
    return [(v >> (30 * i)) & ((1 << 30) - 1) for i in range((v.bit_length() + 29) // 30)]


def bignum_held_key(curve):
    """A key outside the documented blind spot of BIGNUM candidates (docs/detectors.md,
    `ec-scalar`): its scalar's limbs, little-endian bytes of the curve's size, pass the
    candidates' statistics. About one key in 500 fails them (eight printable bytes in a limb, as
    a rule) and is drawn again, so the test does not fail by chance."""
    while True:
        key = ec.generate_private_key(curve)
        if looks_random(key.private_numbers().private_value.to_bytes(curve.key_size // 8, "little")):
            return key


def python_only_key():
    """A P-256 key outside the documented blind spot of runtime-layout candidates (docs/detectors.md,
    `ec-scalar`): every digit but the most significant has a bit set in its upper half. One key in
    about 4,000 is in it and is drawn again, so the test does not fail by chance."""
    while True:
        key = ec.generate_private_key(ec.SECP256R1())
        digits = cpython_digits(key.private_numbers().private_value)
        if len(digits) == 9 and all(d >> 15 for d in digits[:-1]):
            return key


class EcScalarsWithoutCertificate(dgtest.DumpTestCase):
    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-ec-blind-")
        d = cls._dir.name
        cls.keys = {name: bignum_held_key(curve) for name, curve in CURVES.items()}
        cls.keys[PYTHON_ONLY] = python_only_key()
        cls.scalars = {name: k.private_numbers().private_value for name, k in cls.keys.items()}
        cls.points = {name: k.public_key().public_bytes(serialization.Encoding.X962,
                                                        serialization.PublicFormat.UncompressedPoint)
                      for name, k in cls.keys.items()}
        spec = os.path.join(d, "spec.json")  # the holder deletes it once read
        held = {name: format(v, "x") for name, v in cls.scalars.items() if name != PYTHON_ONLY}
        held["python"] = {PYTHON_ONLY: {"scalar": format(cls.scalars[PYTHON_ONLY], "x"),
                                        "point": cls.points[PYTHON_ONLY].hex()}}
        write_private(spec, json.dumps(held))
        cls.core = dgtest.dump_process(["/usr/bin/python3", os.path.join(PROGRAMS_SRC, "ec_point_holder.py"), spec], d,
                                       self_check=False)  # the class checks its own redaction
        fp = os.path.join(d, "fp.key")
        cls.scan_code, out, cls.scan_err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", fp, cls.core)
        cls.out = out
        cls.report = json.loads(out) if out else {"findings": [], "public_keys": []}
        out_path = os.path.join(d, "redacted.core")
        cls.redact_code, cls.redact_out, cls.redact_err = dgtest.run_dumpguard(
            "redact", "--fingerprint-key", fp, cls.core, "-o", out_path)
        cls.data = read(cls.core)
        cls.out_data = read(out_path) if os.path.exists(out_path) else b""

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def forms(self):
        return [(f"{name} scalar as {layout}", form) for name, v in self.scalars.items()
                for layout, form in layouts(v).items() if len(form) >= 8]

    def test_the_core_holds_each_point_and_no_public_key_structure(self):
        # Otherwise the scan could not prove anything, or could know the keys another way.
        for name, point in self.points.items():
            self.assertIn(point, self.data, f"the {name} point is not in the core")
            spki = self.keys[name].public_key().public_bytes(serialization.Encoding.DER,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo)
            self.assertNotIn(spki, self.data)

    def test_the_python_only_scalar_has_no_bignum_copy(self):
        # Its digits are in the core and its limbs (OpenSSL's BIGNUM, little-endian words) are
        # not: otherwise the BIGNUM walk could have proposed it.
        forms = layouts(self.scalars[PYTHON_ONLY])
        self.assertIn(forms["cpython-30"], self.data)
        self.assertNotIn(forms["le"], self.data)
        self.assertNotIn(forms["be"], self.data)

    def test_every_copy_of_each_scalar_is_a_verified_finding(self):
        self.assertEqual(self.scan_code, 1, self.scan_err)
        verified = [f for f in self.report["findings"] if f["verified"]]
        missed, seen = [], {name: 0 for name in self.scalars}
        for form_name, form in self.forms():
            left, count = uncovered(verified, self.data, form)
            seen[form_name.split()[0]] += count
            missed += [f"{form_name} at {at:#x}" for at in left]
        self.assertEqual(missed, [], f"{len(missed)} copies outside every verified finding")
        for name, count in seen.items():
            self.assertGreater(count, 0, f"no copy of the {name} scalar is in the core")

    def test_each_key_is_proven_by_its_point_in_memory(self):
        derived = [k for k in self.report["public_keys"] if k["type"].startswith("ec-") and k.get("derived")]
        self.assertEqual(sorted(k["type"] for k in derived), ["ec-p256", "ec-p256", "ec-p384"],
                         self.report["public_keys"])
        for k in derived:
            self.assertIn("of d·G laid out as", k["origin"])
        scalars = [f for f in self.report["findings"] if f["kind"] == "ec-private-scalar"]
        self.assertTrue(scalars and all(f["verified"] and f["severity"] == "critical" for f in scalars))

    def test_nothing_is_left_after_redact(self):
        self.assertEqual(self.redact_code, 0, self.redact_err)
        self.assertEqual(len(self.out_data), len(self.data))
        self.assertEqual([name for name, form in self.forms() if form in self.out_data], [])
        self.assertEqual(dgtest.left_after_redaction(self.core, self.data, self.out_data, self.report["findings"]), [])

    def test_no_output_carries_a_scalar(self):
        secrets = {name: v.to_bytes((v.bit_length() + 7) // 8, "big") for name, v in self.scalars.items()}
        dgtest.assert_no_secret({"scan report": self.out, "scan stderr": self.scan_err,
                                 "redact stdout": self.redact_out, "redact stderr": self.redact_err}, secrets)


def bn_js_digits(v):
    """v as bn.js keeps it in Node.js without pointer compression: 26-bit digits, least significant
    first, each a V8 small integer (the value in the high half of a 64-bit slot)."""
    return b"".join((((v >> (26 * i)) & ((1 << 26) - 1)) << 32).to_bytes(8, "little")
                    for i in range((v.bit_length() + 25) // 26))


def js_bytes(v):
    """v as a JavaScript array of its big-endian bytes in Node.js without pointer compression (bn.js's
    toArray, with which elliptic signs with a key and seeds hmac-drbg): each byte a V8 small integer."""
    return b"".join((b << 32).to_bytes(8, "little") for b in v.to_bytes((v.bit_length() + 7) // 8, "big"))


ELLIPTIC_CURVES = ("secp256k1", "p256")  # in the order elliptic_holder.js writes them


@unittest.skipIf(SANITIZED, "Node.js's core scanned and redacted under ASan costs minutes; the Release build runs it")
class EllipticKeysInNodeJs(dgtest.DumpTestCase):
    """A real Node.js process holds a secp256k1 and a P-256 key pair made by elliptic (bn.js's
    26-bit digits as V8 small integers), has signed with each, and has read each public point:
    nothing a structure detector harvests, no BIGNUM, no bytes. The default scan must prove each
    scalar from V8's digit arrays: secp256k1's by its x held in normal form, P-256's by its x
    held in Montgomery form. Signing leaves each scalar as JavaScript arrays of its bytes too
    (smi64-8): every copy in every layout must be a verified finding. The scalars reach the test
    only after the core is written, from the live process, into a private file."""

    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-elliptic-")
        d = cls._dir.name
        cls.program = "/usr/bin/node"
        env = dict(SMALL_MALLOC, NODE_PATH="/usr/share/nodejs")
        # Without the JIT's code range and with a small heap, the core is about 60 MB.
        holder = dgtest.LiveProcess([cls.program, "--jitless", "--max-old-space-size=16", "--max-semi-space-size=1",
                                     os.path.join(PROGRAMS_SRC, "elliptic_holder.js")], env=env)
        keys = os.path.join(d, "keys.hex")
        try:
            cls.core = dgtest.gcore(holder.pid, d, self_check=False)  # checked below, with this test's scan
            holder.proc.stdin.write(f"keys {keys}\n")
            holder.proc.stdin.flush()
            while "written" not in holder.proc.stdout.readline():
                pass
        finally:
            holder.stop()
        cls.scalars = dict(zip(ELLIPTIC_CURVES, (int(line, 16) for line in read(keys).decode().split())))
        fp = os.path.join(d, "fp.key")
        cls.scan_code, cls.out, cls.scan_err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", fp, cls.core)
        cls.report = json.loads(cls.out) if cls.out else {"findings": [], "public_keys": [], "searched": {"limits": []}}
        cls.redacted = os.path.join(d, "redacted.core")
        cls.redact_code, cls.redact_out, cls.redact_err = dgtest.run_dumpguard(
            "redact", "--fingerprint-key", fp, cls.core, "-o", cls.redacted)
        cls.rescan_code, _, cls.rescan_err = (dgtest.run_dumpguard("scan", "--fingerprint-key", fp, cls.redacted)
                                              if os.path.exists(cls.redacted) else (None, b"", b"no output"))
        cls.data = read(cls.core)
        cls.out_data = read(cls.redacted) if os.path.exists(cls.redacted) else b""

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def forms(self):
        return [(f"{name} scalar as {layout}", form) for name, v in self.scalars.items()
                for layout, form in {**layouts(v), "smi64-26": bn_js_digits(v), "smi64-8": js_bytes(v)}.items()
                if len(form) >= 8]

    def test_the_core_holds_each_scalar_only_as_bn_js_digits(self):
        # As elliptic keeps it, and not as bytes or BIGNUM limbs that another prior could propose.
        self.assertEqual(sorted(self.scalars), sorted(ELLIPTIC_CURVES))
        for name, v in self.scalars.items():
            forms = layouts(v)
            self.assertIn(bn_js_digits(v), self.data, f"the {name} scalar is not in the core as smi64-26")
            self.assertIn(js_bytes(v), self.data, f"the {name} scalar is not in the core as smi64-8")
            self.assertNotIn(forms["be"], self.data, name)
            self.assertNotIn(forms["le"], self.data, name)

    def test_every_copy_of_each_scalar_is_a_verified_finding(self):
        self.assertEqual(self.scan_code, 1, self.scan_err)
        verified = [f for f in self.report["findings"] if f["verified"]]
        missed = []
        for form_name, form in self.forms():
            left, _ = uncovered(verified, self.data, form)
            missed += [f"{form_name} at {at:#x}" for at in left]
        self.assertEqual(missed, [], f"{len(missed)} copies outside every verified finding")
        # No hunt stopped at a budget: redact would refuse the core.
        self.assertEqual([l for l in self.report["searched"]["limits"] if l["detector"] == "ec-scalar"], [])

    def test_each_key_is_proven_by_its_point_in_v8s_arrays(self):
        origins = {t: [k["origin"] for k in self.report["public_keys"] if k["type"] == t and k.get("derived")]
                   for t in ("ec-secp256k1", "ec-p256")}
        self.assertTrue([o for o in origins["ec-secp256k1"] if "x of d·G laid out as smi64-26" in o], origins)
        self.assertTrue([o for o in origins["ec-p256"]
                         if "of d·G in Montgomery form" in o and "laid out as smi64-26" in o], origins)

    def test_nothing_is_left_after_redact_and_the_rescan_is_clean(self):
        self.assertEqual(self.redact_code, 0, self.redact_err)
        self.assertEqual(len(self.out_data), len(self.data))
        self.assertEqual([name for name, form in self.forms() if form in self.out_data], [])
        self.assertEqual(dgtest.left_after_redaction(self.core, self.data, self.out_data, self.report["findings"]), [])
        self.assertEqual(self.rescan_code, 0, self.rescan_err)

    def test_gdb_opens_the_redacted_core(self):
        self.assertEqual(self.redact_code, 0, self.redact_err)
        self.assertEqual(gdb_threads(self.program, self.redacted), gdb_threads(self.program, self.core))

    def test_no_output_carries_a_scalar(self):
        secrets = {name: v.to_bytes((v.bit_length() + 7) // 8, "big") for name, v in self.scalars.items()}
        dgtest.assert_no_secret({"scan report": self.out, "scan stderr": self.scan_err,
                                 "redact stdout": self.redact_out, "redact stderr": self.redact_err,
                                 "rescan stderr": self.rescan_err}, secrets)


if __name__ == "__main__":
    unittest.main()
