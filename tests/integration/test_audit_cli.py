"""`dumpguard audit verify` against a log written here, independently of dumpguard's writer,
from the format docs/commands/audit.md documents: JSON Lines {"record":{seq,time,host,version,event,data,prev},
"sig":HMAC-SHA256(key, record bytes)}, prev = SHA-256 of the previous line. A sound log and its
checkpoint verify (exit 0); one changed byte, a removed record, two swapped records, and a
record cut from the end (with the checkpoint) each exit 1 naming the first broken record."""
import hashlib
import hmac
import json
import os
import secrets
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

GENESIS = "0" * 64


def write_log(key, events):
    lines, prev = [], GENESIS
    for seq, (event, data) in enumerate(events, start=1):
        record = json.dumps({"seq": seq, "time": "2026-11-27T00:00:00Z", "host": "test", "version": "0",
                             "event": event, "data": data, "prev": prev}, separators=(",", ":"))
        sig = hmac.new(key, record.encode(), hashlib.sha256).hexdigest()
        line = '{"record":' + record + ',"sig":"' + sig + '"}'
        lines.append(line)
        prev = hashlib.sha256(line.encode()).hexdigest()
    return lines, prev


class AuditVerify(dgtest.DumpTestCase):
    def setUp(self):
        super().setUp()
        self.key = secrets.token_bytes(32)
        self.key_file = os.path.join(self.tmp, "audit.key")
        with open(os.open(self.key_file, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(self.key)
        events = [("received", {"dump": f"core.{i}", "sha256": hashlib.sha256(bytes([i])).hexdigest()})
                  for i in range(8)]
        self.lines, self.head = write_log(self.key, events)
        self.checkpoint = os.path.join(self.tmp, "checkpoint")
        with open(self.checkpoint, "w") as f:
            json.dump({"head": self.head, "records": len(self.lines)}, f)

    def verify(self, lines, *extra):
        path = os.path.join(self.tmp, "audit.jsonl")
        with open(path, "w") as f:
            f.write("".join(line + "\n" for line in lines))
        return dgtest.run_dumpguard("audit", "verify", path, "--key", self.key_file, *extra)

    def test_sound_log_verifies(self):
        code, out, err = self.verify(self.lines, "--checkpoint", self.checkpoint)
        self.assertEqual(code, 0, out + err)
        self.assertIn(b"8 records", out)
        self.assertIn(self.head.encode(), out)

    def test_tampering_is_named(self):
        changed = list(self.lines)
        changed[3] = changed[3].replace("core.3", "core.X")
        removed = self.lines[:2] + self.lines[3:]
        swapped = self.lines[:4] + [self.lines[5], self.lines[4]] + self.lines[6:]
        for name, lines, record in (("changed byte", changed, 4), ("removed", removed, 3), ("swapped", swapped, 5)):
            code, out, _ = self.verify(lines)
            self.assertEqual(code, 1, name)
            self.assertIn(f"record {record} is broken".encode(), out, name)
        code, out, _ = self.verify(self.lines[:-1], "--checkpoint", self.checkpoint)
        self.assertEqual(code, 1)
        self.assertIn(b"cut from the end", out)
        code, _, _ = self.verify(self.lines[:-1])
        self.assertEqual(code, 0, "without a checkpoint a shorter chain is still a chain")

    def test_wrong_key_and_unreadable_key(self):
        other = os.path.join(self.tmp, "other.key")
        with open(other, "wb") as f:
            f.write(secrets.token_bytes(32))
        path = os.path.join(self.tmp, "audit.jsonl")
        with open(path, "w") as f:
            f.write("".join(line + "\n" for line in self.lines))
        code, out, _ = dgtest.run_dumpguard("audit", "verify", path, "--key", other)
        self.assertEqual(code, 1)
        self.assertIn(b"record 1 is broken", out)
        with open(other, "wb") as f:
            f.write(b"short")
        code, _, err = dgtest.run_dumpguard("audit", "verify", path, "--key", other)
        self.assertEqual(code, 2)
        self.assertIn(b"not an audit key", err)


if __name__ == "__main__":
    unittest.main()
