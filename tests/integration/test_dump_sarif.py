"""`scan --sarif` validated against the OASIS SARIF 2.1.0 JSON schema (tests/schemas, with
python3-jsonschema and its format checks), on real dumps: a gcore core of key_holder (an
RSA-2048 key and AES-256 schedules, generated at run time), a core of a process holding no
secret, the test corpus minidumps (one only partly parsed), a compressed copy, and dumps whose
paths are not URIs as they stand. Beyond the schema, each log is held to what docs/reports.md promises:
the dump is the run's one artifact; one result per key of the JSON report, under its
fingerprint; each location's region is the byteOffset/byteLength of one finding's span; and the
key's components, found by the test itself in the core, lie inside the regions of that key."""
import json
import os
import shutil
import subprocess
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402

SCHEMA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "schemas", "sarif-schema-2.1.0.json")
CORPUS = dgtest.MINIDUMPS


def validator():
    import jsonschema
    with open(SCHEMA) as f:
        schema = json.load(f)
    jsonschema.Draft4Validator.check_schema(schema)
    # FormatChecker() checks "uri" and "uri-reference" too when rfc3987 is installed (deps.sh).
    checker = jsonschema.FormatChecker()
    if "uri-reference" not in checker.checkers:
        raise AssertionError("jsonschema cannot check uri-reference: python3-rfc3987 is missing (make deps)")
    return jsonschema.Draft4Validator(schema, format_checker=checker)


def rsa_components(key_path):
    with open(key_path, "rb") as f:
        n = serialization.load_pem_private_key(f.read(), password=None).private_numbers()
    return {"p": n.p, "q": n.q, "d": n.d, "dp": n.dmp1, "dq": n.dmq1, "qinv": n.iqmp}


class SarifSchema(dgtest.DumpTestCase):
    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-sarif-")
        d = cls.d = cls._dir.name
        cls.validator = validator()
        cls.fp_key = os.path.join(d, "fingerprint.key")
        cls.key_path = os.path.join(d, "key.pem")
        holder = dgtest.LiveProcess([os.path.join(dgtest.PROGRAMS, "key_holder"), "2048", "wait", cls.key_path])
        try:
            cls.key_core = dgtest.gcore(holder.pid, d)
        finally:
            holder.stop()
        os.makedirs(os.path.join(d, "clean"))
        quiet = dgtest.LiveProcess(["/usr/bin/env", "-i", "/usr/bin/python3", "-c",
                                    "import sys; print('ready', flush=True); sys.stdin.read()"])
        try:
            cls.clean_core = dgtest.gcore(quiet.pid, os.path.join(d, "clean"))
        finally:
            quiet.stop()
        cls.key_sarif = subprocess.run([dgtest.DUMPGUARD, "scan", "--sarif", "--fingerprint-key", cls.fp_key,
                                        cls.key_core], capture_output=True, timeout=600)
        cls.key_report = json.loads(dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", cls.fp_key,
                                                         cls.key_core)[1])

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def scan(self, *dumps, expect=None, cwd=None):
        proc = subprocess.run([dgtest.DUMPGUARD, "scan", "--sarif", "--fingerprint-key", self.fp_key, *dumps],
                              capture_output=True, timeout=600, cwd=cwd)
        if expect is not None:
            self.assertEqual(proc.returncode, expect, proc.stderr.decode(errors="replace"))
        return json.loads(proc.stdout), proc

    def json_report(self, dump):
        _, out, _ = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", self.fp_key, dump)
        return json.loads(out)

    def check_valid(self, log):
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in self.validator.iter_errors(log)]
        self.assertEqual(errors, [], "the log does not validate against the SARIF 2.1.0 schema")

    def check_run(self, run, dump, report, plain_size=None):
        """One run against the dump it describes and the JSON report of the same scan."""
        # The dump is the artifact, named by a URI reference that decodes to its path.
        self.assertEqual(len(run["artifacts"]), 1)
        artifact = run["artifacts"][0]
        uri = artifact["location"]["uri"]
        self.assertEqual(urllib.parse.unquote(uri), dump)
        self.assertIn("analysisTarget", artifact["roles"])
        self.assertEqual(artifact["length"], plain_size if plain_size is not None else os.path.getsize(dump))
        self.assertEqual(run["tool"]["driver"]["name"], "dumpguard")
        self.assertEqual(run["properties"]["verdict"], report["verdict"])
        self.assertEqual(run["properties"]["complete"], report["complete"])
        rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
        # One result per key, in the report's order, under the key's fingerprint.
        self.assertEqual(len(run["results"]), len(report["keys"]))
        all_spans = []
        for result, key in zip(run["results"], report["keys"]):
            self.assertEqual(result["partialFingerprints"]["dumpguardKey/v1"], key["fingerprint"])
            self.assertEqual(result["properties"]["severity"], key["severity"])
            level = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}[key["severity"]]
            self.assertEqual(result["level"], level)
            self.assertEqual(rules[result["ruleIndex"]], result["ruleId"])
            expected = sorted((report["findings"][i]["file_offset"], report["findings"][i]["length"])
                              for i in key["findings"])
            spans = []
            for location in result["locations"]:
                physical = location["physicalLocation"]
                self.assertEqual(physical["artifactLocation"], {"uri": uri, "index": 0})
                spans.append((physical["region"]["byteOffset"], physical["region"]["byteLength"]))
            self.assertEqual(sorted(spans), expected, f"the regions of key {key['fingerprint']}")
            all_spans += spans
        self.assertEqual(sorted(all_spans), sorted((f["file_offset"], f["length"]) for f in report["findings"]))
        return run

    def test_core_with_keys(self):
        proc = self.key_sarif
        self.assertEqual(proc.returncode, 1, proc.stderr)
        log = json.loads(proc.stdout)
        self.check_valid(log)
        self.assertEqual(log["version"], "2.1.0")
        self.assertEqual(len(log["runs"]), 1)
        run = self.check_run(log["runs"][0], self.key_core, self.key_report)
        self.assertGreaterEqual(len(run["results"]), 2, "the RSA key and the AES schedules")
        # Independently of dumpguard's JSON: every copy of every RSA component in the core lies
        # inside a region of one result, the same one for all of them.
        with open(self.key_core, "rb") as f:
            core = f.read()
        regions = [(i, loc["physicalLocation"]["region"]) for i, r in enumerate(run["results"]) for loc in r["locations"]]
        holders, seen = set(), 0
        components = rsa_components(self.key_path)
        for name, value in components.items():
            for encoding in dgtest.le_be_encodings(value):
                for at in dgtest.occurrences(core, encoding):
                    seen += 1
                    inside = [i for i, reg in regions if reg["byteOffset"] <= at and
                              at + len(encoding) <= reg["byteOffset"] + reg["byteLength"]]
                    self.assertTrue(inside, f"{name} at {at:#x} is in no SARIF region")
                    holders.update(inside)
        self.assertGreater(seen, 0, "the core holds no component: the check would prove nothing")
        self.assertEqual(len(holders), 1, "all components of one key belong to one result")
        dgtest.assert_no_secret({"SARIF": proc.stdout, "stderr": proc.stderr},
                                {f"{n} ({e})": v for n, value in components.items()
                                 for e, v in zip(("be", "le"), dgtest.le_be_encodings(value))})

    def test_clean_core_and_two_dumps_in_one_log(self):
        log, _ = self.scan(self.clean_core, expect=0)
        self.check_valid(log)
        self.assertEqual(log["runs"][0]["results"], [])
        self.check_run(log["runs"][0], self.clean_core, self.json_report(self.clean_core))
        log, _ = self.scan(self.clean_core, self.key_core, expect=1)
        self.check_valid(log)
        self.assertEqual([urllib.parse.unquote(r["artifacts"][0]["location"]["uri"]) for r in log["runs"]],
                         [self.clean_core, self.key_core])

    def test_corpus_minidumps(self):
        for name in ("fullmem-normal.dmp", "linux-mini.dmp", "test.dmp", "invalid-range.dmp"):
            with self.subTest(name):
                dump = os.path.join(CORPUS, name)
                log, _ = self.scan(dump, expect=0)
                self.check_valid(log)
                report = self.json_report(dump)
                run = self.check_run(log["runs"][0], dump, report)
                self.assertEqual(run["properties"]["complete"], name != "invalid-range.dmp")

    def test_compressed_core(self):
        packed = os.path.join(self.d, "core.zst")
        subprocess.run(["zstd", "-q", "-1", "-f", "-o", packed, self.key_core], check=True, timeout=300)
        log, _ = self.scan(packed, expect=1)
        self.check_valid(log)
        run = self.check_run(log["runs"][0], packed, self.json_report(packed),
                             plain_size=os.path.getsize(self.key_core))
        self.assertEqual(run["properties"]["offsets"], "decompressed")

    def test_paths_that_are_not_uris_as_they_stand(self):
        # A space, '#', '%' and a non-ASCII name are not allowed in a URI; a ':' in the first
        # segment of a relative reference would read as a scheme.
        source = os.path.join(CORPUS, "test.dmp")
        for name in ("crash dump #1 100%.dmp", "caf\u00e9.dmp", "a:b.dmp"):
            with self.subTest(name):
                dump = os.path.join(self.d, name)
                shutil.copyfile(source, dump)
                log, _ = self.scan(dump, expect=0)
                self.check_valid(log)
                self.check_run(log["runs"][0], dump, self.json_report(dump))
                log, _ = self.scan(name, expect=0, cwd=self.d)
                self.check_valid(log)
                self.assertEqual(urllib.parse.unquote(log["runs"][0]["artifacts"][0]["location"]["uri"]), name)

    def test_the_validator_rejects_what_sarif_forbids(self):
        # The check can fail: a log with a bad level, a missing message and a path that is not
        # a URI reference each fail validation.
        log = json.loads(self.key_sarif.stdout)
        self.check_valid(log)
        for breakage in ("level", "message", "uri"):
            broken = json.loads(json.dumps(log))
            result = broken["runs"][0]["results"][0]
            if breakage == "level":
                result["level"] = "critical"
            elif breakage == "message":
                del result["message"]
            else:
                broken["runs"][0]["artifacts"][0]["location"]["uri"] = "/tmp/crash dump #1.dmp"
            self.assertTrue(list(self.validator.iter_errors(broken)), breakage)


if __name__ == "__main__":
    unittest.main()
