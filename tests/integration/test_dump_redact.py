"""`dumpguard redact` on real dumps of real processes.

key_holder makes an RSA-2048 key at run time and holds it with an AES-256 context; aes_evp
holds AES-128/192/256 keys. Each is dumped with gcore and redacted. The test knows the keys and
checks the copy itself: no component of the RSA key (p, q, d, dp, dq, qinv, big- and
little-endian) and no layout of any AES schedule is left, while the input holds them; the input
is unchanged; the copy keeps its size and layout (`info --json` and gdb's threads and
backtraces are the same); aeskeyfind finds nothing; no output carries a secret's bytes.
The tests that need no live process (raw images, the corpus minidump) are in test_redact_cli.py."""
import hashlib
import glob
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
import test_dump_aes  # noqa: E402  (schedules(): FIPS-197 key expansion written in Python)

from cryptography.hazmat.primitives import serialization  # noqa: E402

DEFACED = bytes([0x0D, 0xEF, 0xAC, 0xED])


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def rsa_components(key_path):
    n = serialization.load_pem_private_key(read(key_path), password=None).private_numbers()
    return {"p": n.p, "q": n.q, "d": n.d, "dp": n.dmp1, "dq": n.dmq1, "qinv": n.iqmp}


def gdb_threads(program, core):
    proc = subprocess.run(["gdb", "-nx", "-batch", "-ex", "info threads", "-ex", "thread apply all bt", program, core],
                          capture_output=True, text=True, timeout=300)
    return (proc.stdout + proc.stderr).replace(core, "CORE")


def info_without_file_fields(path):
    model = dgtest.info_json(path)
    model.pop("file", None)
    model.pop("file_size", None)
    return model


def aeskeyfind(path):
    return subprocess.run(["aeskeyfind", "-q", path], capture_output=True, text=True, timeout=600).stdout.split()


class RedactKeyHolder(dgtest.DumpTestCase):
    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-redact-")
        d = cls.d = cls._dir.name
        cls.key_path = os.path.join(d, "key.pem")
        cls.program = os.path.join(dgtest.PROGRAMS, "key_holder")
        holder = dgtest.LiveProcess([cls.program, "2048", "wait", cls.key_path])
        try:
            cls.core = dgtest.gcore(holder.pid, d, self_check=False)  # the class checks its own redaction
        finally:
            holder.stop()
        cls.fp_key = os.path.join(d, "fingerprint.key")
        cls.input_hash = sha256_of(cls.core)
        cls.out = os.path.join(d, "redacted.core")
        cls.report_path = os.path.join(d, "report.json")
        cls.code, cls.stdout, cls.stderr = dgtest.run_dumpguard(
            "redact", "--fingerprint-key", cls.fp_key, cls.core, "-o", cls.out, "--report", cls.report_path)
        cls.input_bytes = read(cls.core)
        cls.out_bytes = read(cls.out) if os.path.exists(cls.out) else b""
        cls.report = json.loads(read(cls.report_path)) if os.path.exists(cls.report_path) else {}
        cls.components = rsa_components(cls.key_path)

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def test_exit_0_mode_0600_same_size(self):
        self.assertEqual(self.code, 0, self.stderr)
        self.assertEqual(os.stat(self.out).st_mode & 0o777, 0o600)
        self.assertEqual(len(self.out_bytes), len(self.input_bytes))
        self.assertNotEqual(self.out_bytes, self.input_bytes)
        self.assertEqual(glob.glob(self.out + ".*"), [], "a temporary file was left behind")

    def test_input_is_unchanged(self):
        self.assertEqual(sha256_of(self.core), self.input_hash)

    def test_no_rsa_component_is_left(self):
        seen = 0
        for name, value in self.components.items():
            for encoding in dgtest.le_be_encodings(value):
                seen += len(dgtest.occurrences(self.input_bytes, encoding))
                self.assertEqual(dgtest.occurrences(self.out_bytes, encoding), [],
                                 f"{name} ({len(encoding)} bytes) is still in the redacted copy")
        self.assertGreater(seen, 0, "the input holds no component: the check would prove nothing")

    def test_what_the_scan_found_is_gone_from_the_output(self):
        self.assertEqual(self.code, 0, self.stderr)
        self.assertEqual(dgtest.left_after_redaction(self.core, self.input_bytes, self.out_bytes, self.report["spans"]),
                         [])

    def test_scan_of_the_copy_is_clean(self):
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", self.fp_key, self.out)
        self.assertEqual(code, 0, err)
        report = json.loads(out)
        self.assertEqual(report["findings"], [])
        self.assertEqual(report["verdict"], "clean")

    def test_info_model_is_the_same(self):
        self.assertEqual(info_without_file_fields(self.out), info_without_file_fields(self.core))

    def test_gdb_prints_the_same_threads_and_backtraces(self):
        original = gdb_threads(self.program, self.core)
        self.assertIn("Thread 1", original)
        self.assertIn("main", original)
        self.assertEqual(gdb_threads(self.program, self.out), original)

    def test_key_finders_find_nothing_in_the_copy(self):
        # aeskeyfind sees the AES-256 schedule key_holder keeps in its EVP context.
        self.assertNotEqual(aeskeyfind(self.core), [], "aeskeyfind found nothing in the input")
        self.assertEqual(aeskeyfind(self.out), [])
        # rsakeyfind looks for DER RSAPrivateKey structures: key_holder keeps its key as BIGNUMs
        # only, so rsakeyfind finds nothing in the input either; the copy must not gain one.
        proc = subprocess.run(["rsakeyfind", self.out], capture_output=True, text=True, timeout=600)
        self.assertNotIn("FOUND PRIVATE KEY", proc.stdout)

    def test_report(self):
        self.assertEqual(self.report["schema"], "dumpguard-redact/1")
        self.assertEqual(self.report["input"]["path"], self.core)
        self.assertEqual(self.report["input"]["sha256"], self.input_hash)
        self.assertEqual(self.report["input"]["size"], len(self.input_bytes))
        self.assertEqual(self.report["output"]["path"], self.out)
        self.assertEqual(self.report["output"]["sha256"], hashlib.sha256(self.out_bytes).hexdigest())
        self.assertEqual(self.report["output"]["size"], len(self.out_bytes))
        self.assertEqual(self.report["fill"], "zero")
        self.assertEqual(self.report["verification"]["verdict"], "clean")
        self.assertEqual(self.report["verification"]["findings"], 0)
        self.assertTrue(self.report["spans"])
        for span in self.report["spans"]:
            self.assertEqual(set(span), {"file_offset", "length", "kind", "detector", "key"})
            start, length = span["file_offset"], span["length"]
            self.assertEqual(self.out_bytes[start:start + length], bytes(length))
        # Outside the spans, the copy is the input byte for byte.
        spans = sorted((s["file_offset"], s["file_offset"] + s["length"]) for s in self.report["spans"])
        pos = 0
        for start, end in spans:
            self.assertEqual(self.out_bytes[pos:start], self.input_bytes[pos:start])
            pos = max(pos, end)
        self.assertEqual(self.out_bytes[pos:], self.input_bytes[pos:])

    def test_no_output_carries_secret_bytes(self):
        dgtest.assert_no_secret({"stdout": self.stdout, "stderr": self.stderr, "report": read(self.report_path)},
                                {f"{name} ({e})": b for name, value in self.components.items()
                                 for e, b in zip(("be", "le"), dgtest.le_be_encodings(value))})

    def test_fill_0defaced(self):
        out = os.path.join(self.d, "defaced.core")
        code, _, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key, "--fill", "0defaced",
                                            self.core, "-o", out)
        self.assertEqual(code, 0, err)
        data = read(out)
        self.assertEqual(len(data), len(self.input_bytes))
        for span in self.report["spans"]:
            start, length = span["file_offset"], span["length"]
            expected = bytes(DEFACED[(start + i) % 4] for i in range(length))
            self.assertEqual(data[start:start + length], expected, f"span at {start:#x}")

    def test_compressed_input_gives_the_same_compression(self):
        # A compressed dump is redacted to the same compression. The copy,
        # decompressed by the codec's own tool, is the redacted core byte for byte.
        for codec, compress, decompress in (("zstd", ["zstd", "-q", "-1", "-c"], ["zstd", "-dc"]),
                                            ("lz4", ["lz4", "-q", "-1", "-c"], ["lz4", "-dc"]),
                                            ("xz", ["xz", "-1", "-c"], ["xz", "-dc"])):
            compressed = os.path.join(self.d, f"core.{codec}")
            with open(compressed, "wb") as f:
                subprocess.run(compress + [self.core], check=True, timeout=300, stdout=f)
            out = os.path.join(self.d, f"from.{codec}")
            report = os.path.join(self.d, f"report.{codec}.json")
            code, _, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key, compressed, "-o", out,
                                                "--report", report)
            self.assertEqual(code, 0, err)
            plain = subprocess.run(decompress + [out], check=True, capture_output=True, timeout=300).stdout
            self.assertEqual(hashlib.sha256(plain).hexdigest(), hashlib.sha256(self.out_bytes).hexdigest(), codec)
            with open(report) as f:
                output = json.load(f)["output"]
            self.assertEqual(output["compression"], codec)
            self.assertEqual(output["sha256"], sha256_of(out))

    def test_a_dump_that_does_not_parse_is_never_written(self):
        truncated = os.path.join(self.d, "truncated.core")
        with open(truncated, "wb") as f:
            f.write(self.input_bytes[:40])  # a cut-off ELF header
        out = os.path.join(self.d, "never.core")
        code, stdout, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key, truncated, "-o", out)
        self.assertEqual(code, 2)
        self.assertEqual(len(err.decode().strip().splitlines()), 1, err)
        self.assertFalse(os.path.exists(out))
        self.assertEqual(glob.glob(out + "*"), [])

    def test_the_output_may_not_be_the_input(self):
        code, _, err = dgtest.run_dumpguard("redact", "--fingerprint-key", self.fp_key, self.core, "-o", self.core)
        self.assertEqual(code, 2)
        self.assertEqual(sha256_of(self.core), self.input_hash)


class RedactAesEvp(dgtest.DumpTestCase):
    def test_no_aes_schedule_is_left(self):
        key_file = os.path.join(self.tmp, "aes.keys")
        proc = dgtest.LiveProcess([os.path.join(dgtest.PROGRAMS, "aes_evp"), key_file])
        try:
            core = dgtest.gcore(proc.pid, self.tmp)
        finally:
            proc.stop()
        raw = read(key_file)
        keys = [raw[:16], raw[16:40], raw[40:]]
        fp_key = os.path.join(self.tmp, "fingerprint.key")
        out = os.path.join(self.tmp, "redacted.core")
        code, stdout, err = dgtest.run_dumpguard("redact", "--fingerprint-key", fp_key, core, "-o", out)
        self.assertEqual(code, 0, err)
        before, after = read(core), read(out)
        seen = 0
        for key in keys:
            for name, schedule in test_dump_aes.schedules(key).items():
                seen += len(dgtest.occurrences(before, schedule))
                self.assertEqual(dgtest.occurrences(after, schedule), [], f"AES-{len(key) * 8} {name} left")
            dgtest.assert_no_secret({"stdout": stdout, "stderr": err}, {f"AES-{len(key) * 8} key": key})
        self.assertGreater(seen, 0, "the input holds no schedule: the check would prove nothing")
        code, out_json, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", fp_key, out)
        self.assertEqual(code, 0, err)
        self.assertEqual([f for f in json.loads(out_json)["findings"] if f["kind"] == "aes-key-schedule"], [])
        self.assertNotEqual(aeskeyfind(core), [])
        self.assertEqual(aeskeyfind(out), [])


if __name__ == "__main__":
    unittest.main()
