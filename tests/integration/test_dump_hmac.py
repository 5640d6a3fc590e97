"""HMAC keys proven by the tokens they signed: a Python service holds an HS256 secret (made
here) and a JWT it signed. With no flag the scan must find the JWT in the dump, find the key
whose HMAC verifies it, and cover every copy of the secret (ASCII and UTF-16LE) the test
itself finds in the core. A supplied token signed by a key the process never held finds
nothing; no output carries the secret."""
import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

SIGNER = os.path.join(os.path.dirname(os.path.dirname(__file__)), "programs", "jwt_signer.py")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class HmacKeys(dgtest.DumpTestCase):
    def test_secret_of_a_jwt_in_the_dump_is_found_and_proven(self):
        secret = "svc-" + secrets.token_urlsafe(24)
        secret_file = os.path.join(self.tmp, "secret")
        with open(os.open(secret_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(secret)
        signer = dgtest.LiveProcess(["/usr/bin/python3", SIGNER, secret_file])
        try:
            core = dgtest.gcore(signer.pid, self.tmp)
        finally:
            signer.stop()
        header = b64url(json.dumps({"alg": "HS256"}).encode())
        payload = b64url(b'{"sub":"x"}')
        other = f"{header}.{payload}." + b64url(hmac.new(b"a key nobody holds", f"{header}.{payload}".encode(),
                                                          hashlib.sha256).digest())
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", os.path.join(self.tmp, "fp"),
                                              "--token", other, core)
        self.assertEqual(code, 1, err)
        report = dgtest.json.loads(out)
        keys = [f for f in report["findings"] if f["kind"] == "hmac-key"]
        self.assertTrue(keys)
        self.assertTrue(all(f["verified"] and f["severity"] == "critical" for f in keys))
        self.assertEqual(len({f["key"] for f in keys}), 1, "one secret, one key")
        data = open(core, "rb").read()
        checked = 0
        for form in (secret.encode(), secret.encode("utf-16-le")):
            for offset in dgtest.occurrences(data, form):
                checked += 1
                self.assertTrue(dgtest.covered(report["findings"], offset, len(form)), f"secret at {offset:#x}")
        self.assertGreater(checked, 0)
        # The supplied token's key was never in the process: absent, saying what was searched.
        self.assertEqual([t["status"] for t in report["supplied_tokens"]], ["absent"])
        self.assertIn("printable run", report["supplied_tokens"][0]["statement"])
        # A token signed with the process's secret, supplied from a file: its key is present.
        mine = f"{header}.{payload}." + b64url(hmac.new(secret.encode(), f"{header}.{payload}".encode(),
                                                         hashlib.sha256).digest())
        token_file = os.path.join(self.tmp, "tokens")
        with open(token_file, "w") as f:
            f.write(other + "\n" + mine + "\n")
        _, out2, _ = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", os.path.join(self.tmp, "fp"),
                                          "--token", "@" + token_file, core)
        statuses = [t["status"] for t in dgtest.json.loads(out2)["supplied_tokens"]]
        self.assertEqual(statuses, ["absent", "present"])
        out += out2
        _, text, text_err = dgtest.run_dumpguard("scan", "--fingerprint-key", os.path.join(self.tmp, "fp"), core)
        dgtest.assert_no_secret({"scan --json": out + err, "scan": text + text_err}, {"HMAC key": secret})


if __name__ == "__main__":
    unittest.main()
