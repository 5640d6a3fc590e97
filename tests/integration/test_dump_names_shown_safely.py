"""Paths read from a real dump are shown masked and escaped: a process (started here) maps two
files whose directory names hold a GitHub token the test made up and a right-to-left override
(U+202E); gcore dumps it, and the ELF core's NT_FILE note carries both paths. `info` (text and
JSON) and `scan`'s text report must show neither the token nor the raw override, while the paths
are there (the test's own look into the core, with eu-readelf-free bytes search)."""
import json
import os
import secrets
import string
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

HOLDER = r"""
import mmap, sys
maps = []
for path in sys.argv[1:]:
    with open(path, "wb") as f:
        f.write(b"\0" * 4096)
    f = open(path, "rb")
    m = mmap.mmap(f.fileno(), 4096, access=mmap.ACCESS_COPY)
    m[0] = 1  # a private, written page: gcore dumps it, with the file's path in NT_FILE
    maps.append(m)
print("ready", flush=True)
sys.stdin.read()
"""


class NamesShownSafely(dgtest.DumpTestCase):
    def test_info_and_scan_mask_tokens_and_escape_overrides_in_paths(self):
        alphabet = string.ascii_letters + string.digits
        token = "ghp_" + "".join(secrets.choice(alphabet) for _ in range(36))
        token_dir = os.path.join(self.tmp, f"build-{token}")
        bidi_dir = os.path.join(self.tmp, "evil\u202egpj.so")
        os.makedirs(token_dir)
        os.makedirs(bidi_dir)
        mapped = [os.path.join(token_dir, "libdata.so"), os.path.join(bidi_dir, "libother.so")]
        holder = dgtest.LiveProcess(["/usr/bin/python3", "-c", HOLDER, *mapped])
        try:
            core = dgtest.gcore(holder.pid, self.tmp)
        finally:
            holder.stop()
        with open(core, "rb") as f:
            raw = f.read()
        self.assertIn(token.encode(), raw, "the core holds the token: the test proves something")
        self.assertIn("\u202e".encode(), raw)
        fp_key = os.path.join(self.tmp, "fp.key")
        outputs = {}
        for name, args in {"info": ["info", core], "info --json": ["info", "--json", core],
                           "scan": ["scan", "--no-progress", "--fingerprint-key", fp_key, core]}.items():
            code, out, err = dgtest.run_dumpguard(*args)
            self.assertIn(code, (0, 1), err)
            outputs[name] = out + err
        for name, out in outputs.items():
            self.assertNotIn(token.encode(), out, f"{name} shows the token")
            self.assertNotIn(token[4:20].encode(), out, f"{name} shows part of the token")
        for name in ("info", "info --json", "scan"):
            self.assertNotIn("\u202e".encode(), outputs[name], f"{name} shows the override raw")
        self.assertIn(b"build-[masked github-pat]/libdata.so", outputs["info"])
        self.assertIn(b"evil\\xe2\\x80\\xaegpj.so/libother.so", outputs["info"])
        model = json.loads(outputs["info --json"].decode())
        paths = {r["owner"].get("path") for r in model["regions"] if r["owner"].get("path")}
        self.assertIn(os.path.join(self.tmp, "build-[masked github-pat]", "libdata.so"), paths)
        self.assertIn(mapped[1], paths, "JSON carries the path, escaped as \\u202e")


if __name__ == "__main__":
    unittest.main()
