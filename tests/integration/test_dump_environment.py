"""Environment blocks in the model: a process started with an environment the test chooses
(one variable holds a random value made here) is dumped with gcore; `info --json` must locate
its initial environment block, and the bytes there must be exactly the variables the test
passed, NUL-terminated, in order. The Breakpad minidump's linux-environ stream is a block too,
with as many variables as the stream's own NUL-separated entries."""
import json
import os
import secrets
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402


class Environment(dgtest.DumpTestCase):
    def dump_with_environment(self, env):
        """A Python process started with exactly `env`, dumped with gcore."""
        holder = dgtest.LiveProcess(["/usr/bin/env", "-i"] + [f"{k}={v}" for k, v in env.items()] +
                                    ["/usr/bin/python3", "-c", "print('ready', flush=True); import sys; sys.stdin.read()"])
        try:
            return dgtest.gcore(holder.pid, self.tmp)
        finally:
            holder.stop()

    def test_initial_environment_of_a_live_process(self):
        env = {"DG_ENV_TEST": "1", "DG_RANDOM": secrets.token_hex(16), "PATH": "/usr/bin:/bin", "LANG": "C"}
        core = self.dump_with_environment(env)
        model = dgtest.info_json(core)
        self.assertEqual(len(model["environment"]), 1, model["environment"])
        block = model["environment"][0]
        self.assertEqual(block["encoding"], "ascii")
        with open(core, "rb") as f:
            f.seek(block["file_offset"])
            data = f.read(block["size"])
        expected = b"".join(f"{k}={v}".encode() + b"\0" for k, v in env.items())
        self.assertEqual(data, expected)
        self.assertEqual(block["variables"], len(env))

    def test_secret_bearing_variables_are_findings_named_by_the_variable(self):
        token, password = secrets.token_urlsafe(24), "changeme-" + secrets.token_hex(4)
        env = {"LANG": "C", "SERVICE_API_TOKEN": token, "DB_PASSWORD": password,
               "DB_PASSWORD_FILE": "/run/secrets/db", "PATH": "/usr/bin:/bin"}
        core = self.dump_with_environment(env)
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", os.path.join(self.tmp, "fp"), core)
        report = json.loads(out)
        block = report and dgtest.info_json(core)["environment"][0]
        with open(core, "rb") as f:
            f.seek(block["file_offset"])
            data = f.read(block["size"])
        in_block = [f for f in report["findings"]
                    if block["file_offset"] <= f["file_offset"] < block["file_offset"] + block["size"]]
        for name, value in (("SERVICE_API_TOKEN", token), ("DB_PASSWORD", password)):
            at = block["file_offset"] + data.index(f"{name}={value}\0".encode()) + len(name) + 1
            hits = [f for f in in_block if f["file_offset"] == at and f["length"] == len(value)]
            self.assertEqual(len(hits), 1, f"{name}: {in_block}")
            self.assertIn(name, hits[0]["proof"])
        self.assertEqual(len(in_block), 2, "LANG, PATH and a *_FILE path are not secrets")
        self.assertEqual(code, 1, err)
        dgtest.assert_no_secret({"stdout": out, "stderr": err}, {"token": token, "password": password})

    def test_baseline_leaves_out_accepted_keys_only(self):
        token, password = secrets.token_urlsafe(24), "changeme-" + secrets.token_hex(4)
        env = {"SERVICE_API_TOKEN": token, "DB_PASSWORD": password}
        core = self.dump_with_environment(env)
        fp = os.path.join(self.tmp, "fp")
        _, out, _ = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", fp, core)
        first = json.loads(out)
        by_proof = {}
        for f in first["findings"]:
            for name in env:
                if name in f["proof"]:
                    by_proof[name] = f["key"]
        self.assertEqual(set(by_proof), set(env))
        # Accept the password only: a baseline that is the first report with that key alone.
        accepted = dict(first, keys=[k for k in first["keys"] if k["fingerprint"] == by_proof["DB_PASSWORD"]])
        baseline = os.path.join(self.tmp, "baseline.json")
        with open(baseline, "w") as f:
            json.dump(accepted, f)
        code, out2, err2 = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", fp, "--baseline", baseline, core)
        second = json.loads(out2)
        keys = {f["key"] for f in second["findings"]}
        self.assertNotIn(by_proof["DB_PASSWORD"], keys)
        self.assertIn(by_proof["SERVICE_API_TOKEN"], keys)
        self.assertEqual(second["suppressed"]["keys"], [by_proof["DB_PASSWORD"]])
        self.assertEqual(second["suppressed"]["findings"],
                         sum(1 for f in first["findings"] if f["key"] == by_proof["DB_PASSWORD"]))
        self.assertEqual(code, 1, err2)
        # The whole first report as the baseline: nothing is left, and the exit code says so.
        with open(baseline, "w") as f:
            json.dump(first, f)
        code, out3, _ = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", fp, "--baseline", baseline, core)
        self.assertEqual(json.loads(out3)["findings"], [])
        self.assertEqual(code, 0)
        # Not a report: an error, exit 2.
        with open(baseline, "w") as f:
            f.write("{}")
        code, _, err4 = dgtest.run_dumpguard("scan", "--fingerprint-key", fp, "--baseline", baseline, core)
        self.assertEqual(code, 2)
        self.assertIn(b"not a dumpguard scan report", err4)

    def test_windows_full_memory_minidump(self):
        """dbghelp's full-memory dump (Wine): the UTF-16LE environment, through TEB and PEB."""
        packed = os.path.join(dgtest.MINIDUMPS, "fullmem-full.dmp.zst")
        model = dgtest.info_json(packed)
        self.assertEqual(len(model["environment"]), 1, model["environment"])
        block = model["environment"][0]
        self.assertEqual(block["encoding"], "utf16le")
        raw = subprocess.run(["zstd", "-dc", packed], check=True, capture_output=True).stdout
        text = raw[block["file_offset"]:block["file_offset"] + block["size"]].decode("utf-16-le")
        entries = text.split("\0")
        self.assertEqual(entries[-2:], ["", ""], "the block ends with an empty string")
        variables = entries[:-2]
        self.assertEqual(len(variables), block["variables"])
        self.assertTrue(all("=" in v[1:] for v in variables), variables[:3])
        self.assertTrue(any(v.upper().startswith("PATH=") for v in variables))

    def test_redact_drop_env_and_heap(self):
        """redact --drop env fills the environment block; --drop heap every region but stacks,
        module images and metadata. Everything else is the input's, byte for byte."""
        env = {"LANG": "C", "DG_MARKER": "visible-" + secrets.token_hex(8)}
        core = self.dump_with_environment(env)
        model = dgtest.info_json(core)
        fp = os.path.join(self.tmp, "fp")
        with open(core, "rb") as f:
            original = f.read()
        for policy in ("env", "heap"):
            out = os.path.join(self.tmp, f"drop-{policy}.core")
            code, stdout, err = dgtest.run_dumpguard("redact", "--drop", policy, "--fingerprint-key", fp, core, "-o", out)
            self.assertEqual(code, 0, err)
            with open(out, "rb") as f:
                copy = f.read()
            self.assertEqual(len(copy), len(original))
            if policy == "env":
                ranges = [(b["file_offset"], b["size"]) for b in model["environment"]]
            else:
                ranges = [(r["file_offset"], r["size"]) for r in model["regions"]
                          if r["kind"] not in ("stack", "module", "metadata")]
            self.assertTrue(ranges)
            for start, size in ranges:
                self.assertEqual(copy[start:start + size], bytes(size), f"{policy}: {start:#x}+{size:#x} not filled")
            kept = [r for r in model["regions"] if r["kind"] in ("stack", "module")]
            for r in kept:
                inside_env = any(b["file_offset"] >= r["file_offset"] and
                                 b["file_offset"] < r["file_offset"] + r["size"] for b in model["environment"])
                if policy == "heap" or not inside_env:
                    self.assertEqual(copy[r["file_offset"]:r["file_offset"] + r["size"]],
                                     original[r["file_offset"]:r["file_offset"] + r["size"]], f"{policy}: {r['kind']}")
            self.assertEqual(dgtest.info_json(out)["regions"], model["regions"])
        code, _, err = dgtest.run_dumpguard("redact", "--drop", "everything", "--fingerprint-key", fp, core,
                                            "-o", os.path.join(self.tmp, "never.core"))
        self.assertEqual(code, 2)
        self.assertIn(b"not a policy", err)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "never.core")))

    def test_breakpad_environ_stream(self):
        path = os.path.join(dgtest.MINIDUMPS, "linux-mini.dmp")
        model = dgtest.info_json(path)
        streams = [r for r in model["regions"] if r["owner"].get("name") == "linux-environ"]
        self.assertEqual(len(streams), 1)
        with open(path, "rb") as f:
            f.seek(streams[0]["file_offset"])
            raw = f.read(streams[0]["size"])
        entries = [e for e in raw.split(b"\0") if e]
        self.assertEqual([b["variables"] for b in model["environment"]], [len(entries)])
        self.assertTrue(all(b"=" in e for e in entries))


if __name__ == "__main__":
    unittest.main()
