"""False positives, measured on real cores of processes that hold no secrets: an
idle bash, a Python interpreter that has imported much of its standard library, and nginx
serving plain HTTP (master and worker). Each is started here with a minimal environment and
dumped with gcore. The budget is under one finding of medium or higher severity per GiB
scanned; these cores are a few MiB each, so any medium+ finding breaks it, and the test fails
naming the rule (never the bytes). The counts per severity are printed for docs/detectors.md."""
import json
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

CLEAN_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/nonexistent"}

STDLIB = ("import " + ", ".join([
    "asyncio", "email", "email.mime.text", "http.client", "http.server", "json", "logging", "smtplib",
    "sqlite3", "ssl", "urllib.request", "xml.etree.ElementTree", "csv", "decimal", "hashlib", "hmac",
    "secrets", "base64", "argparse", "unittest", "pathlib", "subprocess", "tarfile", "zipfile", "ftplib",
    "imaplib", "poplib", "configparser", "shelve", "pickle", "uuid", "socketserver", "wsgiref.simple_server",
    "xmlrpc.client", "multiprocessing", "concurrent.futures", "ipaddress", "getpass", "netrc",
]) + "; print('ready', flush=True); import sys; sys.stdin.read()")



class FalsePositives(dgtest.DumpTestCase):
    def measure(self, cores):
        """Scans each core; returns (bytes searched, {severity: count}, [(rule, severity)] of medium+)."""
        total, counts, serious = 0, {}, []
        for core in cores:
            code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key",
                                                  os.path.join(self.tmp, "fp"), core)
            self.assertIn(code, (0, 1), err)
            report = json.loads(out)
            total += report["searched"]["bytes"]
            for f in report["findings"]:
                counts[f["severity"]] = counts.get(f["severity"], 0) + 1
                if f["severity"] in ("medium", "high", "critical"):
                    serious.append((f["kind"], f["severity"]))
        return total, counts, serious

    def check(self, name, cores):
        total, counts, serious = self.measure(cores)
        gib = total / 2**30
        print(f"{name}: {total} bytes, findings by severity {counts}, medium+ per GiB "
              f"{len(serious) / gib:.1f}", file=sys.stderr)
        self.assertEqual(serious, [], f"{name}: findings of medium or higher severity in a process holding no secret")

    def live(self, argv):
        holder = dgtest.LiveProcess(["/usr/bin/env", "-i"] + [f"{k}={v}" for k, v in CLEAN_ENV.items()] + argv)
        try:
            return dgtest.gcore(holder.pid, self.tmp)
        finally:
            holder.stop()

    def test_bash(self):
        self.check("bash", [self.live(["/bin/bash", "-c", "echo ready; read -r line"])])

    def test_python_with_its_standard_library(self):
        self.check("python3 + stdlib", [self.live(["/usr/bin/python3", "-c", STDLIB])])

    @unittest.skipIf(shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"), "no nginx")
    def test_nginx_without_tls(self):
        cores = dgtest.dump_nginx(self.tmp, "listen 127.0.0.1:{port};", env=CLEAN_ENV)
        self.check("nginx (plain HTTP)", cores)


if __name__ == "__main__":
    unittest.main()
