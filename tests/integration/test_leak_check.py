"""Self-test of dgtest.assert_no_secret, the check every integration test uses to prove that no
output carries a secret: a secret planted in a fake output, in each encoding a report could
carry it in, must make it fail, and outputs without the secret must pass. Without this, a
broken check would pass every test that relies on it."""
import base64
import json
import os
import secrets
import string
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402


def noise(n=300):
    return os.urandom(n)


class LeakCheck(unittest.TestCase):
    def setUp(self):
        self.binary = secrets.token_bytes(64)
        self.text = "ghp_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(36))

    def assertLeak(self, output, secret, why):
        with self.assertRaises(AssertionError, msg=why) as caught:
            dgtest.assert_no_secret({"fake report": output}, {"test secret": secret})
        message = str(caught.exception)
        self.assertIn("fake report", message)
        raw = secret.encode() if isinstance(secret, str) else secret
        for form in (raw, raw.hex().encode(), base64.b64encode(raw)):
            self.assertNotIn(form.decode("latin-1"), message, "the failure message must not carry the secret")

    def test_every_form_of_the_whole_secret_is_caught(self):
        for secret in (self.binary, self.text.encode()):
            forms = dgtest.leak_forms(secret)
            names = {name for name, _ in forms}
            for expected in ("raw", "hex", "HEX", "base64/0", "base64url/0", "utf16le(raw)", "utf16le(hex)",
                             "utf16le(base64/0)"):
                self.assertIn(expected, names)
            for name, form in forms:
                self.assertLeak(noise() + form + noise(), secret, name)

    def test_forms_as_a_writer_would_produce_them(self):
        raw = self.binary
        writers = {
            "bytes.hex()": raw.hex(),
            "printf %02X": "".join(f"{b:02X}" for b in raw),
            "base64 with padding": base64.b64encode(raw).decode(),
            "base64url": base64.urlsafe_b64encode(raw).decode(),
            "UTF-16LE hex": raw.hex().encode("utf-16-le"),
            "JSON of the bytes as text": json.dumps({"value": raw.decode("latin-1")}, ensure_ascii=False),
        }
        # Inside a longer base64 stream, at each alignment, the secret's characters differ.
        for pad in range(3):
            stream = base64.b64encode(os.urandom(pad) + raw + os.urandom(5)).decode()
            writers[f"base64 of a longer buffer (offset {pad})"] = stream
            writers[f"UTF-16LE base64 of a longer buffer (offset {pad})"] = stream.encode("utf-16-le")
        for why, output in writers.items():
            self.assertLeak(output, raw, why)
        text = self.text
        for why, output in {"as is": f"token={text}\n", "UTF-16LE": text.encode("utf-16-le"),
                            "base64": base64.b64encode(text.encode()).decode()}.items():
            self.assertLeak(output, text, why)

    def test_part_of_a_long_secret_is_caught(self):
        key = secrets.token_bytes(256)
        for start in (0, 1, 37, 200, 232):
            part = key[start:start + 24]
            self.assertLeak(b"first bytes: " + part.hex().encode(), key, f"24 bytes from {start}, hex")
            self.assertLeak(part, key, f"24 bytes from {start}, raw")

    def test_outputs_without_the_secret_pass(self):
        other = secrets.token_bytes(64)
        outputs = {"report": json.dumps({"sha256": other.hex(), "b64": base64.b64encode(other).decode()}),
                   "stderr": noise(4096), "utf16": other.hex().encode("utf-16-le")}
        dgtest.assert_no_secret(outputs, {"binary": self.binary, "text": self.text})
        dgtest.assert_no_secret([b"", "clean"], [self.binary])

    def test_a_secret_too_short_to_search_is_refused(self):
        with self.assertRaises(AssertionError):
            dgtest.assert_no_secret([b"x"], [b"abc"])


if __name__ == "__main__":
    unittest.main()
