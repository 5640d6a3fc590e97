"""Registered secrets: a Python service holds a password and an API key (both made here) in
the forms services keep them. `dumpguard fingerprint` registers them; a scan with the
fingerprints must report both present and cover every copy of every form the test itself
finds in the core. A core of the same program holding nothing reports both absent, saying
what was searched. Neither the fingerprint file nor any output carries a secret; a fingerprint
file made with another key is refused rather than answered "absent"."""
import base64
import json
import os
import secrets
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

HOLDER = os.path.join(os.path.dirname(os.path.dirname(__file__)), "programs", "secret_holder.py")


def write_secret(path, data):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
        f.write(data)


class RegisteredSecrets(dgtest.DumpTestCase):
    def setUp(self):
        super().setUp()
        self.password = "db-" + secrets.token_urlsafe(15)
        self.api_key = secrets.token_bytes(32)
        self.pw_file = os.path.join(self.tmp, "db-password")
        self.key_file = os.path.join(self.tmp, "api-key")
        write_secret(self.pw_file, (self.password + "\n").encode())  # as `echo` writes it
        write_secret(self.key_file, self.api_key)
        self.fp_key = os.path.join(self.tmp, "fingerprint.key")
        self.fingerprints = os.path.join(self.tmp, "fingerprints.json")
        dgtest.run_dumpguard("fingerprint", "--fingerprint-key", self.fp_key, self.pw_file, self.key_file,
                             "-o", self.fingerprints, check_exit=0)

    def forms(self):
        """Every encoding the service keeps, and the ones the registration promises to find."""
        pw, key = self.password.encode(), self.api_key
        return [pw, self.password.encode("utf-16-le"), key, key.hex().encode(),
                base64.b64encode(key).rstrip(b"=")]

    def dump(self, *argv):
        holder = dgtest.LiveProcess(["/usr/bin/python3", HOLDER, *argv])
        try:
            return dgtest.gcore(holder.pid, self.tmp)
        finally:
            holder.stop()

    def scan(self, core):
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", self.fp_key,
                                              "--fingerprints", self.fingerprints, core)
        return code, json.loads(out), out + err

    def test_present_with_every_copy_covered(self):
        core = self.dump(self.pw_file, self.key_file)
        code, report, output = self.scan(core)
        self.assertEqual(code, 1)
        statuses = {r["name"]: r for r in report["registered"]}
        self.assertEqual(statuses["db-password"]["status"], "present")
        self.assertEqual(statuses["api-key"]["status"], "present")
        found = [f for f in report["findings"] if f["kind"] == "registered-secret"]
        self.assertTrue(all(f["verified"] and f["severity"] == "critical" for f in found))
        with open(core, "rb") as f:
            data = f.read()
        seen_forms = 0
        for form in self.forms():
            hits = dgtest.occurrences(data, form)
            seen_forms += bool(hits)
            for offset in hits:
                self.assertTrue(dgtest.covered(found, offset, len(form)), f"{len(form)}-byte form at {offset:#x}")
        self.assertEqual(seen_forms, len(self.forms()), "the service keeps every form; the core must hold each")
        _, text, text_err = dgtest.run_dumpguard("scan", "--fingerprint-key", self.fp_key,
                                                 "--fingerprints", self.fingerprints, core)
        with open(self.fingerprints, "rb") as f:
            fingerprint_file = f.read()
        dgtest.assert_no_secret({"scan --json": output, "scan": text + text_err, "fingerprint file": fingerprint_file},
                                {"password": self.password, "API key": self.api_key})

    def test_absent_says_what_was_searched(self):
        core = self.dump()
        code, report, _ = self.scan(core)
        statuses = [r["status"] for r in report["registered"]]
        self.assertEqual(statuses, ["absent", "absent"])
        statement = report["registered"][0]["statement"]
        self.assertIn(f"{report['searched']['bytes']} bytes", statement)
        self.assertIn("raw/utf16le", statement)
        self.assertFalse([f for f in report["findings"] if f["kind"] == "registered-secret"])

    def test_another_key_is_refused_not_answered_absent(self):
        core = self.dump()
        code, out, err = dgtest.run_dumpguard("scan", "--fingerprint-key", os.path.join(self.tmp, "other.key"),
                                              "--fingerprints", self.fingerprints, core)
        self.assertEqual(code, 2)
        self.assertEqual(out, b"")
        self.assertIn(b"another fingerprint key", err)
        self.assertEqual(len(err.strip().splitlines()), 1)


if __name__ == "__main__":
    unittest.main()
