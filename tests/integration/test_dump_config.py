"""The config file: a gate is configured once. A Python service holds a password and an API key
(both made here); a config file names, by paths relative to itself, the fingerprints of both
secrets (made with `dumpguard fingerprint`), an RSA public key made here that the process never
held, a token signed with the password, and a file with a token signed by a key nobody holds.
The scan with `--config` alone must answer every registered secret, supplied key and supplied
token as the same scan given by flags does, and as the test knows it must: present, absent,
present, absent. Options on the command line join or override the file's. A config with an
unknown key is refused with one line naming the file and the line. No output carries a secret."""
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
from keyforms import spki_fingerprint  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402

HOLDER = os.path.join(os.path.dirname(os.path.dirname(__file__)), "programs", "secret_holder.py")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(key):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"sub": "gate", "iat": 1764000000}).encode())
    signing_input = f"{header}.{payload}"
    return signing_input + "." + b64url(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


def write(path, data, mode=0o600):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as f:
        f.write(data)


class ConfigFile(dgtest.DumpTestCase):
    @classmethod
    def setUpClass(cls):
        directory = dgtest.tempfile.TemporaryDirectory(prefix="dg-config-")
        cls.addClassCleanup(directory.cleanup)  # also when setUpClass fails half way
        d = directory.name
        cls.password = "db-" + secrets.token_urlsafe(15)
        cls.api_key = secrets.token_bytes(32)
        pw_file, key_file = os.path.join(d, "db-password"), os.path.join(d, "api-key")
        write(pw_file, (cls.password + "\n").encode())
        write(key_file, cls.api_key)
        # The gate's directory: its config and everything the config names, by relative paths.
        cls.gate = os.path.join(d, "gate")
        os.makedirs(os.path.join(cls.gate, "keys"))
        cls.fp_key = os.path.join(cls.gate, "fingerprint.key")
        cls.fingerprints = os.path.join(cls.gate, "fingerprints.json")
        dgtest.run_dumpguard("fingerprint", "--fingerprint-key", cls.fp_key, pw_file, key_file,
                             "-o", cls.fingerprints, check_exit=0)
        cls.pubkey = os.path.join(cls.gate, "keys", "release.pub.pem")
        cls.extra_pubkey = os.path.join(d, "extra.pub.pem")
        for name, public in (("release", cls.pubkey), ("extra", cls.extra_pubkey)):
            private = os.path.join(d, f"{name}.key")
            dgtest.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", private)
            dgtest.openssl("pkey", "-in", private, "-pubout", "-out", public)
        cls.held_token = hs256(cls.password.encode())  # its key is the password the process holds
        cls.tokens_file = os.path.join(cls.gate, "tokens.txt")
        write(cls.tokens_file, (hs256(b"a key no process here holds") + "\n").encode())
        cls.config = os.path.join(cls.gate, "dumpguard.toml")
        cls.config_text = (
            "# the gate's scan, configured once\n"
            "[scan]\n"
            'fingerprint-key = "fingerprint.key"\n'
            'fingerprints = ["fingerprints.json"]\n'
            'pubkey = ["keys/release.pub.pem"]\n'
            f'token = ["{cls.held_token}", "@tokens.txt"]\n'
            'fail-on = "critical"\n')
        write(cls.config, cls.config_text.encode())

        holder = dgtest.LiveProcess(["/usr/bin/python3", HOLDER, pw_file, key_file])
        try:
            cls.core = dgtest.gcore(holder.pid, d)
        finally:
            holder.stop()

    def assert_no_secret(self, output):
        dgtest.assert_no_secret([output], {"password": self.password, "API key": self.api_key})

    def scan(self, *args):
        code, out, err = dgtest.run_dumpguard("scan", "--json", *args, self.core)
        self.assert_no_secret(out + err)
        self.assertIn(code, (0, 1), err.decode(errors="replace"))
        return json.loads(out)

    @staticmethod
    def statuses(report):
        return {"registered": [(r["name"], r["status"]) for r in report["registered"]],
                "supplied": [(s["fingerprint"], s["status"]) for s in report["supplied"]],
                "supplied_tokens": [(t["alg"], t["status"]) for t in report["supplied_tokens"]]}

    def test_the_config_alone_answers_as_the_flags_do(self):
        by_flags = self.scan("--fingerprint-key", self.fp_key, "--fingerprints", self.fingerprints,
                             "--pubkey", self.pubkey, "--token", self.held_token, "--token", "@" + self.tokens_file,
                             "--fail-on", "critical")
        # The ctest working directory is not the gate's: the relative paths resolve against the file.
        self.assertNotEqual(os.path.realpath(os.getcwd()), os.path.realpath(self.gate))
        by_config = self.scan("--config", self.config)
        self.assertEqual(self.statuses(by_config), self.statuses(by_flags))
        # What the test knows independently: both secrets are held, the RSA key never was, the
        # first token was signed with the held password and the second with a key nobody holds.
        answers = {what: [status for _, status in pairs] for what, pairs in self.statuses(by_config).items()}
        self.assertEqual(answers, {"registered": ["present", "present"], "supplied": ["absent"],
                                   "supplied_tokens": ["present", "absent"]})
        # The supplied key is the one the relative path names (its SPKI fingerprint, computed here).
        with open(self.pubkey, "rb") as f:
            release = serialization.load_pem_public_key(f.read())
        self.assertEqual(by_config["supplied"][0]["fingerprint"], spki_fingerprint(release))
        spans = [sorted((f["kind"], f["file_offset"], f["length"]) for f in r["findings"])
                 for r in (by_config, by_flags)]
        self.assertEqual(spans[0], spans[1])
        self.assertEqual(by_config["fail_on"], "critical")

    def test_the_command_line_joins_lists_and_overrides_scalars(self):
        report = self.scan("--config", self.config, "--pubkey", self.extra_pubkey, "--fail-on", "low")
        self.assertEqual(report["fail_on"], "low", "a scalar on the command line wins")
        only_file = self.scan("--config", self.config)
        file_keys = [s["fingerprint"] for s in only_file["supplied"]]
        joined = [s["fingerprint"] for s in report["supplied"]]
        self.assertEqual(len(file_keys), 1)
        self.assertEqual(len(joined), 2)
        self.assertEqual(joined[0], file_keys[0], "the file's list comes first")
        self.assertEqual([s["status"] for s in report["supplied"]], ["absent", "absent"])
        self.assertEqual(len(report["supplied_tokens"]), 2, "the file's tokens are still there")

    def test_an_unknown_key_is_refused_naming_the_file_and_line(self):
        bad = os.path.join(self.gate, "typo.toml")
        lines = self.config_text.splitlines()
        lines.insert(4, 'pubkeys = ["keys/release.pub.pem"]')  # the fifth line: a typo for "pubkey"
        write(bad, ("\n".join(lines) + "\n").encode(), 0o644)
        code, out, err = dgtest.run_dumpguard("scan", "--config", bad, self.core)
        self.assert_no_secret(out + err)
        self.assertEqual(code, 2)
        self.assertEqual(out, b"")
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn(f"{bad}:5:".encode(), err)
        self.assertIn(b'"pubkeys"', err)


if __name__ == "__main__":
    unittest.main()
