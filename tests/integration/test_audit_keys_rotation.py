"""`dumpguard audit keygen | rotate | verify | show` through the CLI, checked independently.

Logs are written here from the format docs/commands/audit.md documents, HMAC-SHA256 or Ed25519
(Python's cryptography package), and what dumpguard writes (keys, sealed and opened records) is
read back here from that documentation alone: the key files load in cryptography, the key ids and
signatures are recomputed, and the chain across rotated files is followed by this file's own code.
"""
import hashlib
import hmac
import json
import os
import stat
import sys
import unittest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

GENESIS = "0" * 64


def key_id(key):
    """The record's "key" field: docs/commands/audit.md, "The record"."""
    if isinstance(key, bytes):
        return hmac.new(key, b"dumpguard audit key id", hashlib.sha256).hexdigest()[:32]
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) \
        if isinstance(key, ed25519.Ed25519PrivateKey) else \
        key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def sign_line(key, record):
    body = json.dumps(record, separators=(",", ":"))
    if isinstance(key, bytes):
        alg, sig = "hmac-sha256", hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    else:
        alg, sig = "ed25519", key.sign(body.encode()).hex()
    return '{"record":' + body + ',"alg":"' + alg + '","key":"' + key_id(key) + '","sig":"' + sig + '"}'


def line_hash(line):
    return hashlib.sha256(line.encode()).hexdigest()


def write_records(path, key, events, seq=1, prev=GENESIS, mode="w"):
    """Append records for (event, data) pairs; return the head and the next seq."""
    with open(path, mode) as f:
        for event, data in events:
            line = sign_line(key, {"seq": seq, "time": f"2026-11-27T0{seq % 10}:00:00Z", "host": "test",
                                   "version": "0", "event": event, "data": data, "prev": prev})
            f.write(line + "\n")
            prev, seq = line_hash(line), seq + 1
    return prev, seq


def independent_chain_check(paths, keys):
    """Follow the files as docs/commands/audit.md says: every signature under the file's key (a new key only
    where the seal names it), prev = hash of the line before, sealed last, opened first."""
    prev, seq, current, announced = GENESIS, None, None, None
    for index, path in enumerate(paths):
        with open(path) as f:
            lines = f.read().splitlines()
        for n, line in enumerate(lines):
            frame = json.loads(line)
            body = line[len('{"record":'):line.index(',"alg":"')]
            record = json.loads(body)
            if n == 0 and index > 0:
                assert record["event"] == "opened" and record["data"]["head"] == prev, path
                assert record["data"]["previous"] == os.path.basename(paths[index - 1])
                if announced:
                    current = announced
            if current is None:
                current = frame["key"]
            assert frame["key"] == current, f"{path}:{n + 1} signed by another key"
            key = keys[frame["key"]]
            if frame["alg"] == "hmac-sha256":
                assert hmac.compare_digest(frame["sig"], hmac.new(key, body.encode(), hashlib.sha256).hexdigest())
            else:
                key.verify(bytes.fromhex(frame["sig"]), body.encode())  # raises when it does not verify
            assert record["prev"] == prev, f"{path}:{n + 1} does not continue"
            assert seq is None or record["seq"] == seq + 1
            if record["event"] == "sealed":
                assert n == len(lines) - 1 and record["data"]["head"] == prev
                assert record["data"]["records"] == n
                announced = record["data"].get("next_key")
            prev, seq = line_hash(line), record["seq"]
    return prev, seq


class AuditKeysAndRotation(dgtest.DumpTestCase):
    def path(self, name):
        return os.path.join(self.tmp, name)

    def keygen(self, kind, name):
        code, out, err = dgtest.run_dumpguard("audit", "keygen", kind, "-o", self.path(name))
        self.assertEqual(code, 0, err)
        return out + err

    def test_keygen_makes_private_files_and_never_overwrites(self):
        printed = self.keygen("--hmac", "k.hmac")
        with open(self.path("k.hmac"), "rb") as f:
            secret = f.read()
        self.assertEqual(len(secret), 32)
        self.assertEqual(stat.S_IMODE(os.stat(self.path("k.hmac")).st_mode), 0o600)
        self.assertIn(key_id(secret).encode(), printed)
        printed += self.keygen("--ed25519", "k.ed")
        self.assertEqual(stat.S_IMODE(os.stat(self.path("k.ed")).st_mode), 0o600)
        with open(self.path("k.ed"), "rb") as f:
            private = serialization.load_pem_private_key(f.read(), password=None)
        with open(self.path("k.ed.pub"), "rb") as f:
            public = serialization.load_pem_public_key(f.read())
        self.assertIsInstance(private, ed25519.Ed25519PrivateKey)
        self.assertEqual(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
                         private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
        self.assertIn(key_id(private).encode(), printed)
        seed = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                     serialization.NoEncryption())
        # Use both keys (rotation to the Ed25519 key, verify, show, a refused overwrite), then
        # grep every output, the log files and the checkpoint for either secret in every form.
        log, checkpoint = self.path("audit.jsonl"), self.path("cp")
        write_records(log, secret, [("received", {"dump": "core.1"})])
        outputs = {"keygen": printed}
        for name, args in (("rotate", ("rotate", log, "--key", self.path("k.hmac"), "--new-key", self.path("k.ed"),
                                        "--checkpoint", checkpoint)),
                           ("rotate again", ("rotate", log, "--key", self.path("k.ed"), "--checkpoint", checkpoint)),
                           ("verify", ("verify", "--chain", log, "--key", self.path("k.hmac"), "--key", self.path("k.ed"))),
                           ("show", ("show", "--chain", log, "--key", self.path("k.hmac"), "--key", self.path("k.ed"), "--json")),
                           ("wrong key", ("verify", log, "--key", self.path("k.hmac"))),
                           ("overwrite", ("keygen", "--hmac", "-o", self.path("k.hmac")))):
            code, out, err = dgtest.run_dumpguard("audit", *args)
            outputs[name] = out + err
        self.assertIn(b"3 files", outputs["verify"])
        for name in os.listdir(self.tmp):
            if name.startswith("audit.jsonl") or name == "cp":
                with open(self.path(name), "rb") as f:
                    outputs[name] = f.read()
        dgtest.assert_no_secret(outputs, {"HMAC audit key": secret, "Ed25519 audit key seed": seed})
        for kind, name in (("--hmac", "k.hmac"), ("--ed25519", "k.ed"), ("--ed25519", "k.hmac")):
            code, _, err = dgtest.run_dumpguard("audit", "keygen", kind, "-o", self.path(name))
            self.assertEqual(code, 2)
            self.assertIn(b"refusing to overwrite", err)
        with open(self.path("k.hmac"), "rb") as f:
            self.assertEqual(f.read(), secret)
        code, _, _ = dgtest.run_dumpguard("audit", "keygen", "-o", self.path("k.none"))
        self.assertEqual(code, 2)
        self.assertFalse(os.path.exists(self.path("k.none")))

    def test_an_ed25519_log_verifies_with_the_public_key_only(self):
        private = ed25519.Ed25519PrivateKey.generate()
        with open(self.path("ed.pub"), "wb") as f:
            f.write(private.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo))
        log = self.path("audit.jsonl")
        write_records(log, private, [("received", {"dump": f"core.{i}"}) for i in range(5)])
        code, out, err = dgtest.run_dumpguard("audit", "verify", log, "--key", self.path("ed.pub"))
        self.assertEqual(code, 0, out + err)
        self.assertIn(b"5 records", out)
        # Options first, as the documented synopsis allows: --key takes one value each time.
        code, out, err = dgtest.run_dumpguard("audit", "verify", "--key", self.path("ed.pub"), log)
        self.assertEqual(code, 0, out + err)
        with open(log, "rb") as f:
            data = bytearray(f.read())
        data[data.index(b"core.3") + 5] ^= 1
        with open(log, "wb") as f:
            f.write(data)
        code, out, _ = dgtest.run_dumpguard("audit", "verify", log, "--key", self.path("ed.pub"))
        self.assertEqual(code, 1)
        self.assertIn(b"record 4 is broken", out)
        # A log that switches from HMAC to Ed25519 mid-way, chain intact, both keys given.
        secret = os.urandom(32)
        with open(os.open(self.path("k.hmac"), os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(secret)
        mixed = self.path("mixed.jsonl")
        head, seq = write_records(mixed, secret, [("received", {"dump": "a"}), ("released", {"dump": "a"})])
        write_records(mixed, private, [("received", {"dump": "b"})], seq=seq, prev=head, mode="a")
        code, out, _ = dgtest.run_dumpguard("audit", "verify", mixed, "--key", self.path("k.hmac"),
                                            "--key", self.path("ed.pub"))
        self.assertEqual(code, 1)
        self.assertIn(b"record 3 is broken: signed with ed25519", out)
        self.assertIn(b"mixes signature algorithms", out)

    def test_rotation_chains_files_and_a_missing_one_is_named(self):
        self.keygen("--hmac", "k.hmac")
        with open(self.path("k.hmac"), "rb") as f:
            secret = f.read()
        log, checkpoint = self.path("audit.jsonl"), self.path("audit.checkpoint")
        head, seq = write_records(log, secret, [("received", {"dump": "core.1"})])
        for round_ in range(3):
            code, out, err = dgtest.run_dumpguard("audit", "rotate", log, "--key", self.path("k.hmac"),
                                                  "--checkpoint", checkpoint)
            self.assertEqual(code, 0, err)
            self.assertIn(f"sealed as {log}.{round_ + 1}".encode(), out)
            self.assertEqual(stat.S_IMODE(os.stat(log).st_mode), 0o600)
        paths = [f"{log}.1", f"{log}.2", f"{log}.3", log]
        head, seq = independent_chain_check(paths, {key_id(secret): secret})
        with open(checkpoint) as f:
            self.assertEqual(json.load(f), {"head": head, "records": seq})
        code, out, err = dgtest.run_dumpguard("audit", "verify", "--chain", log, "--key", self.path("k.hmac"),
                                              "--checkpoint", checkpoint)
        self.assertEqual(code, 0, out + err)
        self.assertIn(b"(4 files)", out)
        code, out, _ = dgtest.run_dumpguard("audit", "verify", *paths, "--key", self.path("k.hmac"))
        self.assertEqual(code, 0)
        code, out, _ = dgtest.run_dumpguard("audit", "verify", paths[0], paths[2], log, "--key", self.path("k.hmac"))
        self.assertEqual(code, 1)
        self.assertIn(f"{paths[2]}: record 1 is broken: it does not continue {paths[0]} (it continues "
                      f"audit.jsonl.2): a file is missing".encode(), out)
        code, out, _ = dgtest.run_dumpguard("audit", "verify", log, "--key", self.path("k.hmac"))
        self.assertEqual(code, 1)
        self.assertIn(b"--chain", out)
        os.rename(paths[1], self.path("moved"))
        code, out, _ = dgtest.run_dumpguard("audit", "verify", "--chain", log, "--key", self.path("k.hmac"))
        self.assertEqual(code, 1)
        self.assertIn(f"{paths[1]} is missing".encode(), out)
        # A key others may read is refused for signing.
        os.chmod(self.path("k.hmac"), 0o644)
        code, _, err = dgtest.run_dumpguard("audit", "rotate", log, "--key", self.path("k.hmac"))
        self.assertEqual(code, 2)
        self.assertIn(b"chmod 600", err)

    def test_a_rotation_cut_short_by_a_crash_is_finished_once(self):
        # Steps 1 and 2 done by hand, as a crash would leave them: the seal is appended and the
        # live file linked to LOG.1; then a stale LOG.opening from step 3.
        secret = os.urandom(32)
        with open(os.open(self.path("k"), os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(secret)
        log = self.path("audit.jsonl")
        head, seq = write_records(log, secret, [("received", {"dump": f"core.{i}"}) for i in range(3)])
        head, seq = write_records(log, secret, [("sealed", {"records": 3, "head": head})], seq=seq, prev=head, mode="a")
        os.link(log, f"{log}.1")
        with open(f"{log}.opening", "w") as f:
            f.write('{"record":{"seq":')
        code, out, err = dgtest.run_dumpguard("audit", "rotate", log, "--key", self.path("k"))
        self.assertEqual(code, 0, err)
        self.assertIn(b"finished an interrupted rotation", out)
        self.assertFalse(os.path.exists(f"{log}.2"), "one rotation, not two")
        self.assertFalse(os.path.exists(f"{log}.opening"))
        self.assertNotEqual(os.stat(log).st_ino, os.stat(f"{log}.1").st_ino)
        last_head, last_seq = independent_chain_check([f"{log}.1", log], {key_id(secret): secret})
        self.assertEqual(last_seq, 5)
        code, out, err = dgtest.run_dumpguard("audit", "verify", "--chain", log, "--key", self.path("k"))
        self.assertEqual(code, 0, out + err)
        self.assertIn(last_head.encode(), out)

    def test_rotating_to_a_new_key(self):
        self.keygen("--hmac", "old.key")
        self.keygen("--ed25519", "new.key")
        with open(self.path("old.key"), "rb") as f:
            secret = f.read()
        with open(self.path("new.key"), "rb") as f:
            private = serialization.load_pem_private_key(f.read(), password=None)
        log = self.path("audit.jsonl")
        write_records(log, secret, [("received", {"dump": "core.1"}), ("released", {"dump": "core.1"})])
        code, out, err = dgtest.run_dumpguard("audit", "rotate", log, "--key", self.path("old.key"),
                                              "--new-key", self.path("new.key"))
        self.assertEqual(code, 0, err)
        self.assertIn(b"signed with ed25519", out)
        independent_chain_check([f"{log}.1", log], {key_id(secret): secret, key_id(private): private.public_key()})
        code, out, err = dgtest.run_dumpguard("audit", "verify", "--chain", log, "--key", self.path("old.key"),
                                              "--key", self.path("new.key.pub"))
        self.assertEqual(code, 0, out + err)
        code, out, _ = dgtest.run_dumpguard("audit", "verify", "--chain", log, "--key", self.path("old.key"))
        self.assertEqual(code, 1)
        self.assertIn(f"{log}: record 1 is broken: signed with ed25519 key {key_id(private)}".encode(), out)
        # The old key can no longer sign the live file.
        code, _, err = dgtest.run_dumpguard("audit", "rotate", log, "--key", self.path("old.key"))
        self.assertEqual(code, 2)
        self.assertIn(b"not with this key", err)


class AuditShow(dgtest.DumpTestCase):
    def setUp(self):
        super().setUp()
        self.secret = os.urandom(32)
        self.key = os.path.join(self.tmp, "k.hmac")
        with open(os.open(self.key, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(self.secret)
        self.log = os.path.join(self.tmp, "audit.jsonl")
        a_in, a_out, b_in = (hashlib.sha256(x).hexdigest() for x in (b"a", b"a'", b"b"))
        self.a_in = a_in
        events = [
            ("received", {"dump": "/inbox/core.100", "sha256": a_in, "size": 4096}),
            ("received", {"dump": "/inbox/core.\x1b[2J200", "sha256": b_in, "size": 10}),
            ("findings", {"input_sha256": a_in, "kinds": {"rsa-private-key": 1},
                          "keys": ["sha256:" + "7" * 64]}),
            ("redacted", {"input": {"sha256": a_in}, "output": {"sha256": a_out}}),
            ("released", {"output_sha256": a_out}),
            ("quarantined", {"dump": "/inbox/core.\x1b[2J200", "reason": "parse error"}),
        ]
        write_records(self.log, self.secret, events)

    def show(self, *args):
        return dgtest.run_dumpguard("audit", "show", self.log, "--key", self.key, *args)

    def test_history_lines_filters_and_verdict(self):
        code, out, err = self.show()
        self.assertEqual(code, 0, err)
        lines = out.decode().splitlines()
        self.assertEqual(len(lines), 7)
        self.assertTrue(lines[0].startswith("2026-11-27T01:00:00Z  #1"), lines[0])
        self.assertIn("received", lines[0])
        self.assertIn("/inbox/core.100", lines[0])
        self.assertIn("sha256=" + self.a_in[:12], lines[0])
        self.assertNotIn(self.a_in[:13], lines[0])
        self.assertNotIn(b"\x1b", out, "no terminal escape from a dump's name")
        self.assertIn("core.\\x1b[2J200", lines[1])
        self.assertTrue(lines[-1].startswith("UNANCHORED (verified, but nothing anchors its end): 6 records in 1 file: "
                                             "the chain and every signature"), lines[-1])
        code, out, _ = self.show("--dump", "core.100")
        self.assertEqual([l.split()[1] for l in out.decode().splitlines()[:-1]], ["#1", "#3", "#4", "#5"])
        code, out, _ = self.show("--dump", self.a_in[:10], "--event", "released")
        self.assertEqual([l.split()[1] for l in out.decode().splitlines()[:-1]], ["#5"])
        code, out, _ = self.show("--key-fingerprint", "77777777")
        self.assertEqual([l.split()[1] for l in out.decode().splitlines()[:-1]], ["#3"])
        code, out, _ = self.show("--since", "2026-11-27T03:00:00Z", "--until", "2026-11-27T06:00")
        self.assertEqual([l.split()[1] for l in out.decode().splitlines()[:-1]], ["#3", "#4", "#5"])
        code, out, _ = self.show("--since", "2026-11-27T05:00:00+02:00")  # 03:00 UTC
        self.assertEqual([l.split()[1] for l in out.decode().splitlines()[:-1]], ["#3", "#4", "#5", "#6"])
        code, _, err = self.show("--since", "last tuesday")
        self.assertEqual(code, 2)
        self.assertIn(b"not an ISO 8601 time", err)

    def test_json_and_a_broken_log(self):
        code, out, _ = self.show("--json", "--event", "received")
        self.assertEqual(code, 0)
        doc = json.loads(out)
        self.assertEqual([r["record"]["seq"] for r in doc["records"]], [1, 2])
        self.assertTrue(all(r["sound"] and r["key"] == key_id(self.secret) for r in doc["records"]))
        self.assertEqual(doc["verification"]["verified"], True)
        self.assertEqual(doc["verification"]["records"], 6)
        with open(self.log) as f:
            lines = f.read().splitlines()
        del lines[3]
        with open(self.log, "w") as f:
            f.write("".join(l + "\n" for l in lines))
        code, out, _ = self.show()
        self.assertEqual(code, 1)
        text = out.decode().splitlines()
        self.assertIn("record 4 is broken; what follows is not verified", text[3])
        self.assertTrue(text[4].startswith("UNVERIFIED "), text[4])
        self.assertTrue(text[-1].startswith(f"NOT verified: {self.log} record 4 is broken"), text[-1])
        code, out, _ = self.show("--json")
        doc = json.loads(out)
        self.assertEqual(doc["verification"]["broken"]["line"], 4)
        self.assertEqual([r["sound"] for r in doc["records"]], [True, True, True, False, False])
        # Without a key: the chain is checked, and the verdict says the signatures were not.
        code, out, _ = dgtest.run_dumpguard("audit", "show", self.log)
        self.assertEqual(code, 1)
        code, out, _ = dgtest.run_dumpguard("audit", "show", os.path.join(self.tmp, "audit.jsonl"), "--event", "x")
        self.assertIn(b"NOT verified", out)


if __name__ == "__main__":
    unittest.main()
