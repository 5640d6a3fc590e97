"""What the audit log can and cannot prove without an anchor, and the anchors the gate keeps:
verify and show say "unanchored" when nothing ties the log's end down (an emptied log with its
checkpoint deleted verified as "0 records verified"); a record rewritten in the first writer's
form after records that name their algorithm is caught; a log one record ahead of its
checkpoint (what a crash leaves) is sound with a note; the gate refuses an emptied log whose
checkpoint is gone when its work directory remembers the log; and the head reaches syslog (a
datagram socket the test binds). Logs are written by the gate or by this test from the format
docs/commands/audit.md documents; the checks are the test's own (hashes computed here)."""
import hashlib
import hmac
import json
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
import gatetest  # noqa: E402

CLEAN_DUMP = os.path.join(dgtest.MINIDUMPS, "fullmem-normal.dmp")
GENESIS = "0" * 64


def line_hash(line):
    return hashlib.sha256(line).hexdigest()


class AuditAnchors(dgtest.DumpTestCase):
    def setUp(self):
        super().setUp()
        self.g = gatetest.GateDirs(os.path.join(self.tmp, "gate"), text_rules=False)
        self.sock_path = os.path.join(self.tmp, "log.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.sock.setblocking(False)
        self.addCleanup(self.sock.close)

    def run_gate(self, *extra):
        return self.g.run_once("--audit-syslog", self.sock_path, *extra)

    def lines(self):
        with open(self.g.audit, "rb") as f:
            return f.read().splitlines()

    def datagrams(self):
        out = []
        while True:
            try:
                out.append(self.sock.recv(65536))
            except BlockingIOError:
                return out

    def test_the_head_reaches_syslog(self):
        self.g.deliver(CLEAN_DUMP, "good.dmp")
        code, err = self.run_gate()
        self.assertEqual(code, 0, err)
        lines = self.lines()
        sent = self.datagrams()
        self.assertEqual(len(sent), len(lines), "one datagram per record")
        last = sent[-1].decode()
        self.assertTrue(last.startswith("<37>dumpguard["), last)  # auth.notice
        self.assertIn(f"head {line_hash(lines[-1])} records {len(lines)}", last)
        # The head sent off the host anchors the log: --expect-head.
        code, out, err = dgtest.run_dumpguard("audit", "verify", self.g.audit, "--key", self.g.key, "--expect-head",
                                              line_hash(lines[-1]))
        self.assertEqual(code, 0, out + err)
        self.assertIn(b"sound", out)
        # off: nothing sent.
        self.g.deliver(CLEAN_DUMP, "second.dmp")
        code, err = self.g.run_once("--audit-syslog", "off")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.datagrams(), [])

    def test_a_log_without_an_anchor_is_unanchored_not_sound(self):
        self.g.deliver(CLEAN_DUMP, "good.dmp")
        code, err = self.run_gate()
        self.assertEqual(code, 0, err)
        code, out, err = dgtest.run_dumpguard("audit", "verify", self.g.audit, "--key", self.g.key)
        self.assertEqual(code, 0, out + err)
        self.assertIn(b"UNANCHORED", out)
        self.assertNotIn(b"sound", out)
        self.assertIn(b"unanchored", err)
        # The attack: the log emptied and its checkpoint deleted.
        open(self.g.audit, "wb").close()
        os.unlink(self.g.audit + ".checkpoint")
        for command in (["verify"], ["show"]):
            code, out, err = dgtest.run_dumpguard("audit", *command, self.g.audit, "--key", self.g.key)
            self.assertEqual(code, 0, out + err)
            self.assertIn(b"UNANCHORED", out, command)
            self.assertIn(b"unanchored", err, command)
        code, out, err = dgtest.run_dumpguard("audit", "show", "--json", self.g.audit, "--key", self.g.key)
        self.assertEqual(json.loads(out)["verification"]["verdict"], "unanchored")

    def test_the_gate_refuses_an_emptied_log_whose_checkpoint_is_gone(self):
        self.g.deliver(CLEAN_DUMP, "good.dmp")
        code, err = self.run_gate()
        self.assertEqual(code, 0, err)
        open(self.g.audit, "wb").close()
        os.unlink(self.g.audit + ".checkpoint")
        self.g.deliver(CLEAN_DUMP, "next.dmp")
        code, err = self.run_gate()
        self.assertEqual(code, 2, err)
        self.assertIn("remembers", err)
        self.assertEqual(self.g.inbox_entries(), ["next.dmp"], "nothing taken")
        self.assertEqual(os.path.getsize(self.g.audit), 0, "nothing recorded")

    def test_one_record_ahead_of_the_checkpoint_is_sound_with_a_note(self):
        self.g.deliver(CLEAN_DUMP, "good.dmp")
        code, err = self.run_gate()
        self.assertEqual(code, 0, err)
        lines = self.lines()
        checkpoint = self.g.audit + ".checkpoint"
        # As a crash between the last record and its checkpoint leaves it.
        with open(checkpoint, "w") as f:
            json.dump({"head": line_hash(lines[-2]), "records": len(lines) - 1}, f)
        code, out, err = self.g.verify()
        self.assertEqual(code, 0, out + err)
        self.assertIn(b"sound", out)
        self.assertIn(b"one record ahead of its checkpoint", out)
        # Two behind is records lost, or an old checkpoint: broken.
        with open(checkpoint, "w") as f:
            json.dump({"head": line_hash(lines[-3]), "records": len(lines) - 2}, f)
        code, out, err = self.g.verify()
        self.assertEqual(code, 1, out + err)

    def test_the_first_writers_form_only_before_a_named_record(self):
        with open(self.g.key, "rb") as f:
            key = f.read()

        def legacy(record):
            sig = hmac.new(key, record, hashlib.sha256).hexdigest().encode()
            return b'{"record":' + record + b',"sig":"' + sig + b'"}'

        def record_bytes(line):
            return line[len(b'{"record":'):line.rindex(b',"alg"')] if b',"alg"' in line else \
                line[len(b'{"record":'):line.rindex(b',"sig"')]

        self.g.deliver(CLEAN_DUMP, "good.dmp")
        code, err = self.run_gate()
        self.assertEqual(code, 0, err)
        lines = self.lines()
        # The last record rewritten in the first writer's form, same bytes, valid HMAC.
        rewritten = lines[:-1] + [legacy(record_bytes(lines[-1]))]
        with open(self.g.audit, "wb") as f:
            f.write(b"".join(line + b"\n" for line in rewritten))
        with open(self.g.audit + ".checkpoint", "w") as f:
            json.dump({"head": line_hash(rewritten[-1]), "records": len(rewritten)}, f)
        code, out, err = self.g.verify()
        self.assertEqual(code, 1, out + err)
        self.assertIn(b"first writer's form", out)
        # A log in that form from its first record on is history, and still verifies.
        prev, history = GENESIS, []
        for seq in (1, 2):
            record = json.dumps({"seq": seq, "time": "2026-11-27T00:00:00Z", "host": "h", "version": "0",
                                 "event": "received", "data": {"dump": f"core.{seq}"}, "prev": prev},
                                separators=(",", ":")).encode()
            history.append(legacy(record))
            prev = line_hash(history[-1])
        old = os.path.join(self.tmp, "old.jsonl")
        with open(old, "wb") as f:
            f.write(b"".join(line + b"\n" for line in history))
        code, out, err = dgtest.run_dumpguard("audit", "verify", old, "--key", self.g.key, "--expect-head", prev)
        self.assertEqual(code, 0, out + err)

    def test_gate_help_names_both_key_kinds(self):
        code, out, err = dgtest.run_dumpguard("gate", "--help")
        self.assertEqual(code, 0, err)
        self.assertIn(b"Ed25519", out)
        self.assertIn(b"HMAC", out)
        self.assertIn(b"--audit-syslog", out)


if __name__ == "__main__":
    unittest.main()
