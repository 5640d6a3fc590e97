"""Text credentials in real processes. A C++ program holds secrets the test makes
at random in the shapes providers use: an AWS secret key, a GitHub token and a database URL in
its environment, one more token as a std::u16string (UTF-16LE), and a bearer token in an HTTP
request it built. A Python program holds an Azure Storage connection string and a JWT. Each is
dumped with gcore; the test finds every copy of every secret in the core itself (ASCII and
UTF-16LE) and requires each to be covered by a text-rules finding of the right rule, the
copies of one secret to be one key, and no output to hold a secret in any encoding."""
import base64
import json
import os
import secrets
import string
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

BASE62 = string.ascii_letters + string.digits


def random_text(n, alphabet=BASE62):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TextCredentials(dgtest.DumpTestCase):
    def scan(self, core):
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key",
                                              os.path.join(self.tmp, "fp.key"), core)
        self.assertEqual(code, 1, err.decode(errors="replace"))
        _, text, text_err = dgtest.run_dumpguard("scan", "--fingerprint-key", os.path.join(self.tmp, "fp.key"), core)
        _, sarif, _ = dgtest.run_dumpguard("scan", "--sarif", "--fingerprint-key", os.path.join(self.tmp, "fp.key"), core)
        return json.loads(out), out + err + text + text_err + sarif

    def check(self, core, report, output, held):
        """held: {secret: rule ids that may find it}. Every copy in the core is covered by a
        finding of one of those rules whose span is the secret alone; all copies are one key;
        no output holds the secret."""
        with open(core, "rb") as f:
            data = f.read()
        findings = [f for f in report["findings"] if f["detector"] == "text-rules"]
        for secret, rules in held.items():
            ours = [f for f in findings if f["kind"] in rules]
            copies, keys = 0, set()
            for form, encoding in ((secret.encode(), "ascii"), (secret.encode("utf-16-le"), "utf16le")):
                for offset in dgtest.occurrences(data, form):
                    copies += 1
                    exact = [f for f in ours if f["encoding"] == encoding and f["file_offset"] == offset
                             and f["length"] == len(form)]
                    self.assertTrue(exact, f"{rules[0]}: {encoding} copy at {offset:#x} not covered by its own span")
                    keys.update(f["key"] for f in exact)
            self.assertGreater(copies, 0, f"the core must hold the {rules[0]} secret")
            self.assertEqual(len(keys), 1, f"{rules[0]}: copies of one secret are one key")
            group = [k for k in report["keys"] if k["fingerprint"] in keys][0]
            # The group holds every whole copy, and may hold more: the closure's copies of the
            # secret in other forms, or of a part of it kept apart (a JWT's signature segment).
            self.assertGreaterEqual(group["count"], copies)
            for f in report["findings"]:
                if f["key"] not in keys:
                    continue
                span = data[f["file_offset"]:f["file_offset"] + f["length"]]
                text = span.decode("utf-16-le", "replace") if f["encoding"].startswith("utf16le") else span.decode(
                    "latin-1")
                self.assertTrue(text in secret or not f["encoding"] in ("ascii", "utf16le"),
                                f"{rules[0]}: a finding of its key at {f['file_offset']:#x} is not a form of it")
            dgtest.assert_no_secret([output], {rules[0]: secret})
        return findings

    def test_cpp_process_environment_utf16_and_headers(self):
        aws = random_text(40, BASE62 + "/+")
        github = "ghp_" + random_text(36)
        db_password = random_text(20)
        slack = "xoxb-" + random_text(12, string.digits) + "-" + random_text(12, string.digits) + "-" + random_text(24)
        bearer = random_text(48, BASE62 + "-._~")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "AWS_SECRET_ACCESS_KEY": aws, "GITHUB_TOKEN": github,
               "DATABASE_URL": f"postgresql://app:{db_password}@db.example.com:5432/app",
               "DG_WIDE_SECRET": slack, "API_TOKEN": bearer}
        holder = dgtest.LiveProcess([os.path.join(dgtest.PROGRAMS, "text_secret_holder")], env=env)
        try:
            core = dgtest.gcore(holder.pid, self.tmp)
        finally:
            holder.stop()
        report, output = self.scan(core)
        # A generic rule may see the same secret (TOKEN=...); the specific rule's finding is kept.
        findings = self.check(core, report, output, {
            aws: ("aws-secret-access-key",), github: ("github-pat",), db_password: ("postgres-url-password",),
            slack: ("slack-bot-token",), bearer: ("http-bearer-token", "generic-secret")})
        self.assertTrue(any(f["encoding"] == "utf16le" and f["kind"] == "slack-bot-token" for f in findings),
                        "the std::u16string copy is found as UTF-16LE")
        proofs = " ".join(f["proof"] for f in findings if f["kind"] == "aws-secret-access-key")
        self.assertIn("in the value of AWS_SECRET_ACCESS_KEY", proofs)
        self.assertTrue(all(f["severity"] == "high" for f in findings if f["kind"] == "github-pat"))

    def test_python_azure_connection_string_and_jwt(self):
        account_key = base64.b64encode(secrets.token_bytes(64)).decode()
        header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = b64url(json.dumps({"sub": "test-" + random_text(8), "exp": 4102444800}).encode())
        jwt = f"{header}.{payload}.{b64url(secrets.token_bytes(32))}"
        program = ("import sys\n"
                   f"conn = 'DefaultEndpointsProtocol=https;AccountName=dgtest;AccountKey={account_key};"
                   "EndpointSuffix=core.windows.net'\n"
                   f"tokens = ['{jwt}']\n"
                   "print('ready', flush=True)\n"
                   "sys.stdin.read()\n")
        script = os.path.join(self.tmp, "holder.py")
        with open(script, "w") as f:
            f.write(program)
        holder = dgtest.LiveProcess(["/usr/bin/python3", script])
        os.unlink(script)  # the secrets live in the process only (and in this test)
        try:
            core = dgtest.gcore(holder.pid, self.tmp)
        finally:
            holder.stop()
        report, output = self.scan(core)
        self.check(core, report, output, {account_key: ("azure-storage-account-key",), jwt: ("jwt",)})


if __name__ == "__main__":
    unittest.main()
