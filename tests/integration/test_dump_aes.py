"""AES schedules in a real process: tests/programs/aes_evp holds AES-128, -192 and -256 keys it
made at run time in EVP encryption and decryption contexts, and hands the keys to this test in a
0600 file. The test dumps it with gcore, expands each key itself (FIPS-197 5.2 and 5.3.5, written
here in Python), finds every copy of every schedule in the core, and checks that dumpguard covers
each one under the key's keyed fingerprint, finds every key `aeskeyfind -t 0` prints (and every
key `aeskeyfind -t 10` prints at --aes-tolerance 10), and never prints a key."""
import hashlib
import hmac
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402


def _gf_mul(a, b):
    p = 0
    while b:
        if b & 1:
            p ^= a
        a = ((a << 1) ^ (0x11B if a & 0x80 else 0)) & 0xFF
        b >>= 1
    return p


def _sbox():
    """FIPS-197 5.1.1: the multiplicative inverse in GF(2^8), then the affine transformation."""
    inverse = [0] * 256
    for a in range(1, 256):
        for b in range(1, 256):
            if _gf_mul(a, b) == 1:
                inverse[a] = b
                break
    box = []
    for a in range(256):
        x = inverse[a]
        s = x
        for i in range(1, 5):
            s ^= ((x << i) | (x >> (8 - i))) & 0xFF
        box.append(s ^ 0x63)
    return box


SBOX = _sbox()


def _sub_word(w):
    return int.from_bytes(bytes(SBOX[b] for b in w.to_bytes(4, "big")), "big")


def expand(key):
    """FIPS-197 5.2 key expansion: 4 * (Nr + 1) words, each a big-endian int."""
    nk = len(key) // 4
    nr = nk + 6
    w = [int.from_bytes(key[4 * i:4 * i + 4], "big") for i in range(nk)]
    rcon = 1
    for i in range(nk, 4 * (nr + 1)):
        t = w[i - 1]
        if i % nk == 0:
            t = _sub_word(((t << 8) | (t >> 24)) & 0xFFFFFFFF) ^ (rcon << 24)
            rcon = _gf_mul(rcon, 2)
        elif nk > 6 and i % nk == 4:
            t = _sub_word(t)
        w.append(w[i - nk] ^ t)
    return w


def _inv_mix_column(w):
    """FIPS-197 5.3.3 on one column."""
    a = w.to_bytes(4, "big")
    m = (14, 11, 13, 9)
    return int.from_bytes(bytes(
        _gf_mul(m[(0 - r) % 4], a[0]) ^ _gf_mul(m[(1 - r) % 4], a[1]) ^ _gf_mul(m[(2 - r) % 4], a[2]) ^
        _gf_mul(m[(3 - r) % 4], a[3]) for r in range(4)), "big")


def schedules(key):
    """Every byte string the schedule of `key` may be in memory: the encryption schedule and the
    equivalent inverse cipher's (FIPS-197 5.3.5) in reversed and forward round order, each in FIPS
    byte order and as little-endian 32-bit words. Returns {name: bytes}."""
    w = expand(key)
    nr = len(key) // 4 + 6
    rounds = [w[4 * r:4 * r + 4] for r in range(nr + 1)]
    dec = [[_inv_mix_column(x) for x in rk] if 0 < r < nr else rk for r, rk in enumerate(rounds)]
    layouts = {"enc": rounds, "dec": dec[::-1], "dec-fwd": dec}
    out = {}
    for name, rks in layouts.items():
        words = [x for rk in rks for x in rk]
        out[name] = b"".join(x.to_bytes(4, "big") for x in words)
        out[name + "-le32"] = b"".join(x.to_bytes(4, "little") for x in words)
    return out


def keyed_fingerprint(fp_key, secret):
    return "hmac-sha256:" + hmac.new(fp_key, secret, hashlib.sha256).hexdigest()


class AesEvpDump(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-aes-")
        d = cls._dir.name
        key_file = os.path.join(d, "aes.keys")
        proc = dgtest.LiveProcess([os.path.join(dgtest.PROGRAMS, "aes_evp"), key_file])
        try:
            cls.core = dgtest.gcore(proc.pid, d)
        finally:
            proc.stop()
        with open(key_file, "rb") as f:
            raw = f.read()
        assert len(raw) == 16 + 24 + 32, "aes_evp wrote an incomplete key file"
        cls.keys = {128: raw[:16], 192: raw[16:40], 256: raw[40:]}
        # The program printed each key's SHA-256: the file holds the keys it set.
        printed = " ".join(proc.lines)
        for bits, key in cls.keys.items():
            assert f"aes-{bits} sha256={hashlib.sha256(key).hexdigest()}" in printed
        cls.fp_key_path = os.path.join(d, "fingerprint.key")
        fd = os.open(cls.fp_key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, os.urandom(32))
        os.close(fd)
        with open(cls.fp_key_path, "rb") as f:
            cls.fp_key = f.read()
        with open(cls.core, "rb") as f:
            cls.core_bytes = f.read()
        cls.runs = {}
        for name, extra in (("json", ["--json"]), ("text", []), ("json-t10", ["--json", "--aes-tolerance", "10"])):
            cls.runs[name] = dgtest.run_dumpguard("scan", *extra, "--fingerprint-key", cls.fp_key_path, cls.core)
        cls.report = json.loads(cls.runs["json"][1])
        cls.report_t10 = json.loads(cls.runs["json-t10"][1])
        # aeskeyfind's keys stay in memory; the test prints only their fingerprints.
        cls.aeskeyfind = {}
        for t in (0, 10):
            out = subprocess.run(["aeskeyfind", "-q", "-t", str(t), cls.core], capture_output=True, text=True,
                                 timeout=600, check=True).stdout
            cls.aeskeyfind[t] = {bytes.fromhex(line.strip()) for line in out.splitlines() if line.strip()}

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def aes_findings(self, report):
        return [f for f in report["findings"] if f["kind"] == "aes-key-schedule"]

    def occurrences(self, key):
        """(layout, offset, length) of every copy of the key's schedule in the core."""
        out = []
        for name, blob in schedules(key).items():
            for offset in dgtest.occurrences(self.core_bytes, blob):
                out.append((name, offset, len(blob)))
        return out

    def test_exit_code_is_1_for_findings(self):
        self.assertEqual(self.runs["json"][0], 1, self.runs["json"][2].decode(errors="replace"))

    def test_independent_check_sees_encryption_and_decryption_schedules(self):
        # Without this the coverage test below could pass by finding nothing.
        for bits, key in self.keys.items():
            layouts = {name.replace("-le32", "") for name, _, _ in self.occurrences(key)}
            self.assertIn("enc", layouts, f"AES-{bits}: no encryption schedule in the core")
            self.assertIn("dec", layouts, f"AES-{bits}: no decryption schedule in the core")

    def test_every_copy_of_every_schedule_is_covered_under_its_fingerprint(self):
        for bits, key in self.keys.items():
            fp = keyed_fingerprint(self.fp_key, key)
            mine = [f for f in self.aes_findings(self.report) if f["key"] == fp]
            for name, offset, length in self.occurrences(key):
                self.assertTrue(dgtest.covered(mine, offset, length),
                                f"AES-{bits} {name} schedule at core offset {offset:#x} is not covered by a finding of {fp}")
                exact = [f for f in mine if f["file_offset"] == offset and f["length"] == length]
                self.assertEqual(len(exact), 1, f"AES-{bits} {name} at {offset:#x}")
                self.assertTrue(exact[0]["verified"])
                self.assertEqual(exact[0]["severity"], "critical")
                self.assertTrue(exact[0]["encoding"].startswith(f"aes{bits}-"), exact[0]["encoding"])

    def test_each_key_is_one_group(self):
        groups = {k["fingerprint"]: k for k in self.report["keys"]}
        for bits, key in self.keys.items():
            fp = keyed_fingerprint(self.fp_key, key)
            self.assertIn(fp, groups, f"AES-{bits}")
            self.assertGreaterEqual(groups[fp]["count"], 2, f"AES-{bits}: encryption and decryption schedules")
            self.assertTrue(groups[fp]["verified"])

    def test_every_key_aeskeyfind_finds_is_found(self):
        found = {f["key"] for f in self.aes_findings(self.report)}
        self.assertIn(self.keys[256], self.aeskeyfind[0], "aeskeyfind -t 0 missed the AES-256 key")
        for key in self.aeskeyfind[0]:
            fp = keyed_fingerprint(self.fp_key, key)
            self.assertIn(fp, found, f"aeskeyfind -t 0 found the {len(key) * 8}-bit key {fp}; dumpguard did not")
        print(f"\naeskeyfind -t 0: {len(self.aeskeyfind[0])} keys, dumpguard: {len(found)} AES keys "
              f"({len(self.aes_findings(self.report))} schedules)", file=sys.stderr)

    def test_every_key_aeskeyfind_finds_at_tolerance_10_is_found_at_tolerance_10(self):
        found = {f["key"] for f in self.aes_findings(self.report_t10)}
        for key in self.aeskeyfind[10]:
            fp = keyed_fingerprint(self.fp_key, key)
            self.assertIn(fp, found, f"aeskeyfind -t 10 found the {len(key) * 8}-bit key {fp}; dumpguard did not")
        # Tolerance adds findings; it never loses the exact ones.
        exact = {(f["file_offset"], f["key"]) for f in self.aes_findings(self.report)}
        tolerant = {(f["file_offset"], f["key"]) for f in self.aes_findings(self.report_t10)}
        self.assertLessEqual(exact, tolerant)

    def test_no_output_carries_a_key(self):
        secrets = list(self.keys.values()) + list(self.aeskeyfind[0]) + list(self.aeskeyfind[10])
        outputs = {}
        for name, (_, out, err) in self.runs.items():
            outputs[f"{name} stdout"], outputs[f"{name} stderr"] = out, err
        dgtest.assert_no_secret(outputs, {f"AES-{len(s) * 8} key #{i}": s for i, s in enumerate(secrets)})


if __name__ == "__main__":
    unittest.main()
