"""The text-rules CLI contract: `rules list` prints every rule of rules/*.toml (read here with
tomllib) with its provider, severity and whether it is verifiable; `rules check` exits 0 on the built-in set, 1 when a rule fails
its examples (never quoting them), 2 on a file that does not parse (FILE:LINE:COL); `scan
--rules` adds a user's rule to the built-in set and `--rules-only` replaces the set. Runs on a
raw image the test writes, so it runs in the sanitizer build too."""
import json
import os
import secrets
import string
import sys
import tomllib
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

SANITIZED = os.environ.get("DG_SANITIZE", "OFF").upper() in ("ON", "1", "TRUE")

RULE = """[[rule]]
id = "acme-key"
description = "ACME internal API key"
keywords = ["acme_"]
pattern = '''\\b(acme_[a-z0-9]{32})\\b'''
max_length = 37
[rule.examples]
positive = [{ text = "ACME=acme_0123456789abcdef0123456789abcdef", secret = "acme_0123456789abcdef0123456789abcdef" }]
negative = ["%s"]
"""


class RulesCli(dgtest.DumpTestCase):
    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_check_exit_codes(self):
        if not SANITIZED:  # the built-in set alone takes minutes under ASan; rules_check_builtin runs it
            code, out, _ = dgtest.run_dumpguard("rules", "check", check_exit=0)
            self.assertIn(b"0 failed", out)
        good = self.write("good.toml", RULE % "acme_short")
        dgtest.run_dumpguard("rules", "check", "--rules-only", "--rules", good, check_exit=0)
        failing_example = "acme_ffffffffffffffffffffffffffffffff"
        bad = self.write("bad.toml", RULE % failing_example)
        code, out, err = dgtest.run_dumpguard("rules", "check", "--rules-only", "--rules", bad, check_exit=1)
        self.assertIn(b"negative example 1 matches", out)
        self.assertNotIn(failing_example.encode(), out + err)
        broken = self.write("broken.toml", RULE.replace("max_length = 37", "max_lenght = 37") % "x")
        code, out, err = dgtest.run_dumpguard("rules", "check", "--rules", broken, check_exit=2)
        self.assertIn(f"{broken}:6:1:".encode(), err)
        unbounded = self.write("unbounded.toml", RULE.replace("{32}", "+") % "x")
        code, out, _ = dgtest.run_dumpguard("rules", "check", "--rules-only", "--rules", unbounded, check_exit=1)
        self.assertIn(b"unboundedly", out)

    def test_list_names_every_rule_with_provider_severity_and_verifiability(self):
        rules_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "rules")
        expected = {}
        for name in os.listdir(rules_dir):
            if name.endswith(".toml"):
                with open(os.path.join(rules_dir, name), "rb") as f:
                    expected.update({r["id"]: r for r in tomllib.load(f)["rule"]})
        _, out, _ = dgtest.run_dumpguard("rules", "list", "--json", check_exit=0)
        listed = {r["id"]: r for r in json.loads(out)}
        self.assertEqual(set(listed), set(expected))
        for rule_id, r in expected.items():
            self.assertEqual(listed[rule_id]["provider"], r["provider"], rule_id)
            self.assertEqual(listed[rule_id]["severity"], r.get("severity", "high"), rule_id)
            self.assertEqual(listed[rule_id]["verifiable"], "validator" in r, rule_id)
        self.assertTrue(listed["github-pat"]["verifiable"] and listed["npm-token"]["verifiable"])
        _, text, _ = dgtest.run_dumpguard("rules", "list", check_exit=0)
        lines = text.decode().splitlines()
        self.assertEqual(lines[0].split(), ["ID", "PROVIDER", "SEVERITY", "VERIFIABLE"])
        self.assertEqual(lines[-1], f"{len(expected)} rules")
        row = [line for line in lines if line.startswith("github-pat ")][0]
        self.assertEqual(row.split()[1:], ["GitHub", "high", "checksum", "(base62-crc32)"])
        own = self.write("acme.toml", RULE % "acme_short")
        _, text, _ = dgtest.run_dumpguard("rules", "list", "--rules-only", "--rules", own, check_exit=0)
        self.assertEqual(text.decode().splitlines()[1].split(), ["acme-key", "-", "high", "no"])

    def test_scan_adds_or_replaces_rules(self):
        acme = "acme_" + "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(32))
        github = "ghp_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))
        image = os.urandom(4096) + f" ACME_KEY={acme} ".encode() + os.urandom(512) + \
            f" token {github} ".encode("utf-16-le") + os.urandom(512)
        raw = os.path.join(self.tmp, "image.raw")
        with open(raw, "wb") as f:
            f.write(image)
        rules = self.write("acme.toml", RULE % "acme_short")
        key = os.path.join(self.tmp, "fp.key")

        def kinds(*extra):
            code, out, err = dgtest.run_dumpguard("scan", "--json", "--raw", "--fingerprint-key", key, *extra, raw)
            self.assertEqual(code, 1, err)
            dgtest.assert_no_secret({"stdout": out, "stderr": err}, {"acme token": acme, "GitHub token": github})
            return {(f["kind"], f["encoding"], f["file_offset"]) for f in json.loads(out)["findings"]
                    if f["detector"] == "text-rules"}

        acme_at, github_at = image.find(acme.encode()), image.find(github.encode("utf-16-le"))
        both = kinds("--rules", rules)
        self.assertIn(("acme-key", "ascii", acme_at), both)
        self.assertIn(("github-pat", "utf16le", github_at), both)
        only = kinds("--rules-only", "--rules", rules)
        self.assertEqual(only, {("acme-key", "ascii", acme_at)})
        code, out, err = dgtest.run_dumpguard("scan", "--raw", "--fingerprint-key", key, "--rules",
                                              self.write("broken.toml", "[[rule]]\nid = 1\n"), raw)
        self.assertEqual(code, 2)
        self.assertEqual(out, b"")


if __name__ == "__main__":
    unittest.main()
