"""The CLI's contract that needs no dump: exit codes, one-line errors, --help, --version."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402


class Cli(dgtest.DumpTestCase):
    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_version_and_help_exit_0(self):
        code, out, _ = dgtest.run_dumpguard("--version")
        self.assertEqual(code, 0)
        self.assertTrue(out.startswith(b"dumpguard "))
        for args in (["--help"], ["info", "--help"], ["info", "--version"]):
            code, out, _ = dgtest.run_dumpguard(*args)
            self.assertEqual(code, 0, args)

    def test_usage_error_exits_2(self):
        self.assertEqual(dgtest.run_dumpguard("info")[0], 2)
        self.assertEqual(dgtest.run_dumpguard("no-such-command")[0], 2)

    def test_unknown_content_is_an_error_that_suggests_raw(self):
        path = self.write("mystery.bin", os.urandom(4096))
        code, out, err = dgtest.run_dumpguard("info", path)
        self.assertEqual(code, 2)
        lines = err.decode().strip().splitlines()
        self.assertEqual(len(lines), 1)
        self.assertIn(path, lines[0])
        self.assertIn("offset 0x0", lines[0])
        self.assertIn("--format raw", lines[0])

    def test_raw_is_chosen_never_guessed(self):
        data = os.urandom(8192)
        path = self.write("image.raw", data)
        for flag in (["--raw"], ["--format", "raw"]):
            info = dgtest.info_json(path, *flag)
            self.assertEqual(info["format"], "raw")
            self.assertEqual(info["regions"], [{"index": 0, "file_offset": 0, "size": len(data), "vaddr": 0,
                                                "memory_size": None, "perms": None, "kind": "unknown", "owner": {}}])
            self.assertEqual(info["unaccounted"], [])

    def test_missing_file_is_an_error_naming_it(self):
        missing = os.path.join(self.tmp, "absent.core")
        code, _, err = dgtest.run_dumpguard("info", missing)
        self.assertEqual(code, 2)
        self.assertIn(missing.encode(), err)

    def test_several_dumps_one_bad_exits_2_and_reports_the_good_one(self):
        good = self.write("good.raw", b"\0" * 100)
        bad = self.write("bad.bin", b"garbage!" * 10)
        code, out, err = dgtest.run_dumpguard("info", "--json", "--raw", good, os.path.join(self.tmp, "nope"))
        self.assertEqual(code, 2)
        self.assertEqual(len(dgtest.json.loads(out)), 1)
        code, out, err = dgtest.run_dumpguard("info", good, bad)
        self.assertEqual(code, 2)
        self.assertIn(b"bad.bin", err)

    def test_scan_never_calls_a_partly_parsed_dump_clean(self):
        # A minidump whose stream directory points past the end: the header parses, the
        # streams do not, and the scan must say so rather than "clean": a partly parsed dump is
        # not proven clean.
        import struct
        data = b"MDMP" + struct.pack("<IIIIIQ", 0xA793, 1, 32, 0, 0, 0)  # one stream, directory at 32
        data += struct.pack("<III", 4, 0x1000, 0x7FFFFF00)  # a ModuleList far outside the file
        data += os.urandom(256)
        path = self.write("partial.dmp", data)
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key",
                                              os.path.join(self.tmp, "fp.key"), path)
        self.assertEqual(code, 0, err)
        report = dgtest.json.loads(out)
        self.assertFalse(report["complete"])
        self.assertTrue(report["warnings"])
        self.assertEqual(report["verdict"], "no findings; the dump was only partly parsed")
        _, text, _ = dgtest.run_dumpguard("scan", "--fingerprint-key", os.path.join(self.tmp, "fp.key"), path)
        self.assertIn(b"only partly parsed", text)
        self.assertNotIn(b"clean", text)

    def test_stats_name_every_detector_and_the_engines_on_stderr_only(self):
        """`scan --stats`: a line per detector the report lists, the anchor pass's engine and
        where the text rules' database came from, all on stderr; stdout is the report it would
        be without --stats."""
        image = self.write("image.raw", os.urandom(1 << 20))
        fp = os.path.join(self.tmp, "fp")
        base = ["scan", "--raw", "--json", "--fingerprint-key", fp]
        _, plain, _ = dgtest.run_dumpguard(*base, image)
        code, out, err = dgtest.run_dumpguard(*base, "--stats", image)
        self.assertEqual(code, 0, err)
        self.assertEqual(out, plain)
        text = err.decode()
        for detector in dgtest.json.loads(out)["searched"]["detectors"]:
            self.assertRegex(text, rf"stats: {detector} +scan +[0-9.]+ s +finish")
        self.assertRegex(text, r"\(shared anchors\) +scan .*; (vector prefilter \((AVX2|AVX-512BW)\)|Vectorscan)\)")
        self.assertRegex(text, r"text rules: \d+ rules, their Vectorscan database compiled at build time")
        rules = self.write("rules.toml", b"[[rule]]\nid = 'stats-test'\ndescription = 'a rule file makes the engine compile'\n"
                                         b"severity = 'low'\npattern = 'STATS[0-9]{8}'\nmax_length = 13\n")
        code, _, err = dgtest.run_dumpguard(*base, "--stats", "--rules-only", "--rules", rules, image)
        self.assertEqual(code, 0, err)
        self.assertIn(b"text rules: 1 rules, compiled at run time (rule files given)", err)

    def test_fail_on_sets_the_exit_code(self):
        # An encrypted PEM block is a low-severity finding: exit 0 at the default threshold
        # (medium), 1 with --fail-on low.
        key = os.path.join(self.tmp, "k.pem")
        dgtest.openssl("genpkey", "-algorithm", "ED25519", "-out", key)
        enc = os.path.join(self.tmp, "enc.pem")
        dgtest.openssl("pkcs8", "-topk8", "-in", key, "-passout", "pass:x", "-out", enc)
        os.remove(key)
        path = self.write("image.raw", os.urandom(1000) + open(enc, "rb").read() + os.urandom(1000))
        fp = os.path.join(self.tmp, "fp.key")
        code, out, _ = dgtest.run_dumpguard("scan", "--raw", "--json", "--fingerprint-key", fp, path)
        report = dgtest.json.loads(out)
        self.assertEqual([f["kind"] for f in report["findings"]], ["encrypted-private-key"])
        self.assertEqual(code, 0)
        self.assertEqual(dgtest.run_dumpguard("scan", "--raw", "--fail-on", "low", "--fingerprint-key", fp, path)[0], 1)

    def test_fingerprint_key_readable_by_others_is_refused(self):
        fp = self.write("fp.key", os.urandom(32))
        os.chmod(fp, 0o644)
        path = self.write("image.raw", os.urandom(100))
        code, _, err = dgtest.run_dumpguard("scan", "--raw", "--fingerprint-key", fp, path)
        self.assertEqual(code, 2)
        self.assertIn(b"chmod 600", err)

    def test_errors_never_echo_file_bytes(self):
        # The content of an unreadable file could be a secret: no error may quote it.
        secret = b"S3CRET-" + os.urandom(16).hex().encode()
        path = self.write("secret.bin", secret * 50)
        _, out, err = dgtest.run_dumpguard("info", path)
        self.assertNotIn(secret, out + err)
        self.assertNotIn(secret.hex().encode(), out + err)


if __name__ == "__main__":
    unittest.main()
