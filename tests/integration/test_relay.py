"""`dumpguard relay` between crash reporters and their collector, on 127.0.0.1 only.

A small upstream collector written here (Python's http.server, in its own process) records
every request it receives and answers with a report id of its own, as Socorro does. The relay
forwards to it. The uploads are made here from a real minidump of tests/corpus with RSA keys
planted into its memory ranges, as test_redact_minidumps plants them:

- byte for byte as Crashpad's HTTPMultipartBuilder writes them (boundary
  "---MultipartBoundary-" + 32 alphanumerics + "---", the annotations in name order, the dump in
  `upload_file_minidump` with `Content-Type: application/octet-stream`, the body gzipped with
  `Content-Encoding: gzip`, sent chunked with the query string Crashpad appends), with a GitHub
  token in one annotation; and with `curl -F`. The collector must get a minidump that lldb opens
  with the original's threads and modules and in which the test's own search finds no part of
  any key, the token replaced, the other annotations as sent; its answer must reach the client
  unchanged; the audit log verifies and names each key by fingerprint;
- malformed: a truncated gzip stream, a multipart body without its closing delimiter, a
  Content-Length longer or shorter than the body, bodies over --max-upload (declared, asked
  for with Expect: 100-continue, chunked and a gzip bomb), and 48 slow clients at once: each
  ends with its status, the relay stays up within bounded memory, and nothing reaches the
  collector;
- a dump that cannot be verified (cut short, so only partly parsed) is quarantined with its
  reason and answered 422, and not forwarded.
Relay and collector are stopped by their PIDs on every path."""
import asyncio
import gzip
import http.client
import json
import os
import random
import re
import resource
import signal
import socket
import string
import subprocess
import sys
import threading
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
import keyforms  # noqa: E402
from test_minidump_corpus import run_lldb  # noqa: E402
from test_redact_minidumps import Planter, key_secrets, memory_ranges  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

SANITIZED = os.environ.get("DG_SANITIZE", "OFF").upper() not in ("", "OFF", "0", "FALSE", "NO")
DUMP = os.path.join(dgtest.MINIDUMPS, "fullmem-normal.dmp")  # dbghelp, 64-bit, with a MemoryList
MAX_UPLOAD = 1 << 20
PEAK_MIB = 200  # the relay's peak RSS in the Release build (62 MiB measured with a thousand slow clients held)

# The collector: records each request as N.json (method, path, headers) and N.body, answers 200
# with a report id it makes up and records too.
UPSTREAM = r'''
import http.server, json, os, sys, uuid
out = sys.argv[1]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        # fail-next holds how many requests more to answer 503 without keeping them.
        fail = os.path.join(out, "fail-next")
        if os.path.exists(fail):
            with open(fail) as f:
                left = int(f.read())
            if left > 0:
                with open(fail, "w") as f:
                    f.write(str(left - 1))
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        n = len([f for f in os.listdir(out) if f.endswith(".json")]) + 1
        answer = ("CrashID=bp-" + str(uuid.uuid4())).encode()
        with open(os.path.join(out, f"{n}.body"), "wb") as f:
            f.write(body)
        with open(os.path.join(out, f"{n}.json.tmp"), "w") as f:
            json.dump({"path": self.path, "headers": dict(self.headers.items()), "answer": answer.decode()}, f)
        os.rename(os.path.join(out, f"{n}.json.tmp"), os.path.join(out, f"{n}.json"))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
'''


def github_token():
    """A classic GitHub token whose checksum holds (30 base62 characters, then their CRC32 in 6)."""
    alphabet = string.digits + string.ascii_uppercase + string.ascii_lowercase
    body = "".join(random.SystemRandom().choice(alphabet) for _ in range(30))
    n, digits = zlib.crc32(body.encode()), ""
    for _ in range(6):
        digits = alphabet[n % 62] + digits
        n //= 62
    return "ghp_" + body + digits


def crashpad_body(boundary, fields, filename, dump):
    """util/net/http_multipart_builder.cc: the form fields in name order (a std::map), then the
    file attachment, then the closing delimiter; every line ends in CRLF."""
    out = b""
    for name in sorted(fields):
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n').encode()
        out += fields[name].encode() + b"\r\n"
    out += (f'--{boundary}\r\nContent-Disposition: form-data; name="upload_file_minidump"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n').encode()
    out += dump + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out


def split_multipart(body, boundary):
    """{name: (header block, content)}: the test's own reading of a multipart body."""
    parts = {}
    delimiter = b"\r\n--" + boundary.encode()
    chunks = (b"\r\n" + body).split(delimiter)
    assert chunks[-1].startswith(b"--"), "no closing delimiter"
    for chunk in chunks[1:-1]:
        assert chunk.startswith(b"\r\n")
        headers, _, content = chunk[2:].partition(b"\r\n\r\n")
        name = headers.split(b'name="', 1)[1].split(b'"', 1)[0].decode()
        parts[name] = (headers, content)
    return parts


def stop(proc):
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


class Relay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not dgtest.DUMPGUARD or not os.path.exists(dgtest.DUMPGUARD):
            raise AssertionError("DUMPGUARD is not set to the built CLI")
        import tempfile
        cls._tmp = tempfile.TemporaryDirectory(prefix="dg-relay-")
        cls.addClassCleanup(cls._tmp.cleanup)
        cls.tmp = cls._tmp.name
        # Keys made here, planted into the dump's memory: a DER RSAPrivateKey and a CNG blob.
        cls.keys = {form: rsa.generate_private_key(public_exponent=65537, key_size=2048) for form in ("der", "cng")}
        with open(DUMP, "rb") as f:
            cls.original = f.read()
        data = bytearray(cls.original)
        ranges, _ = memory_ranges(cls.original)
        planter = Planter(data, ranges)
        der = cls.keys["der"].private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                            serialization.NoEncryption())
        planter.place(len(der), content=der)
        planter.place(len(cng := keyforms.cng_rsa(cls.keys["cng"], keyforms.RSA3)), content=cng)
        cls.planted = bytes(data)
        cls.planted_path = os.path.join(cls.tmp, "planted.dmp")
        with open(cls.planted_path, "wb") as f:
            f.write(cls.planted)
        cls.secrets = key_secrets(cls.keys)
        cls.token = github_token()
        cls.fp_key = os.path.join(cls.tmp, "fingerprint.key")
        cls.audit_key = os.path.join(cls.tmp, "audit.key")
        dgtest.run_dumpguard("audit", "keygen", "--hmac", "-o", cls.audit_key, check_exit=0)

        cls.received = os.path.join(cls.tmp, "received")
        os.mkdir(cls.received)
        cls.upstream = subprocess.Popen([sys.executable, "-c", UPSTREAM, cls.received], stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        cls.addClassCleanup(stop, cls.upstream)
        cls.upstream_port = int(cls.upstream.stdout.readline())
        cls.relay, cls.port, cls.stderr_path = cls.start_relay(
            "main", "--upstream", f"http://127.0.0.1:{cls.upstream_port}/submit", "--upstream-attempts", "3",
            "--upstream-backoff", "0.05")

    @classmethod
    def start_relay(cls, name, *mode, header_timeout="4", read_timeout="1"):
        stderr_path = os.path.join(cls.tmp, f"relay-{name}.err")
        audit = os.path.join(cls.tmp, f"audit-{name}.log")
        args = [dgtest.DUMPGUARD, "relay", "--listen", "127.0.0.1:0", *mode,
                "--quarantine", os.path.join(cls.tmp, f"quarantine-{name}"), "--audit", audit,
                "--audit-key", cls.audit_key, "--audit-syslog", "off", "--fingerprint-key", cls.fp_key,
                "--max-upload", str(MAX_UPLOAD), "--read-timeout", read_timeout, "--header-timeout", header_timeout,
                "--upload-timeout", "5", "--connections", "8"]
        with open(stderr_path, "wb") as err:
            proc = subprocess.Popen(args, stderr=err, stdout=subprocess.DEVNULL)
        cls.addClassCleanup(stop, proc)
        deadline = time.time() + 60
        while time.time() < deadline:
            with open(stderr_path) as f:
                text = f.read()
            found = re.search(r"listening on https?://127\.0\.0\.1:(\d+),", text)
            if found:
                return proc, int(found.group(1)), stderr_path
            if proc.poll() is not None:
                raise AssertionError(f"the relay exited {proc.returncode}: {text}")
            time.sleep(0.05)
        raise AssertionError("the relay did not start listening")

    def uploads_received(self):
        return sorted(int(f[:-5]) for f in os.listdir(self.received) if f.endswith(".json"))

    def received_upload(self, n):
        with open(os.path.join(self.received, f"{n}.json")) as f:
            meta = json.load(f)
        with open(os.path.join(self.received, f"{n}.body"), "rb") as f:
            return meta, f.read()

    def post(self, path, body, headers, chunked=False, port=None):
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=60)
        try:
            if chunked:
                pieces = [body[i:i + 8192] for i in range(0, len(body), 8192)]
                conn.request("POST", path, body=iter(pieces), headers=headers, encode_chunked=True)
            else:
                conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def post_form(self, marker, port=None):
        """A small upload (one form field, nothing to scan but text): (status, headers, body)."""
        boundary = "dgfield"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="prod"\r\n\r\n{marker}\r\n'
                f'--{boundary}--\r\n').encode()
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=60)
        try:
            conn.request("POST", "/submit", body=body,
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def check_clean_dump(self, dump, label):
        """lldb sees the original's threads and modules; no form of any key part is left."""
        self.assertEqual(len(dump), len(self.planted), label)
        self.assertEqual(run_lldb(self.write(f"{label}.dmp", dump)), run_lldb(DUMP), label)
        self.assertEqual(dgtest.find_secrets(dump, self.secrets), [], f"{label}: a key part reached the collector")

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def audit_records(self, name="main"):
        with open(os.path.join(self.tmp, f"audit-{name}.log")) as f:
            return [json.loads(line)["record"] for line in f if line.strip()]

    def test_a_crashpad_upload(self):
        # The planted keys are in the input, where the test's own search sees them: the check can fail.
        self.assertNotEqual(dgtest.find_secrets(self.planted, self.secrets), [])
        alnum = string.ascii_letters + string.digits
        boundary = "---MultipartBoundary-" + "".join(random.choice(alnum) for _ in range(32)) + "---"
        guid = "8b1c0e6e-7a46-4d1f-9c3a-5f6e2b9d0a71"
        fields = {"prod": "dgtest_app", "ver": "1.2.3", "guid": guid, "list_annotations": "token=" + self.token}
        body = crashpad_body(boundary, fields, "6c2a4e0e-5b4b-4f51-8d0e-2a0d7c1f9e3b.dmp", self.planted)
        before = self.uploads_received()
        status, answer = self.post(f"/submit?product=dgtest_app&version=1.2.3&guid={guid}", gzip.compress(body),
                                   {"Content-Type": f"multipart/form-data; boundary={boundary}",
                                    "Content-Encoding": "gzip", "User-Agent": "Crashpad/0.8.0"}, chunked=True)
        self.assertEqual(status, 200, answer)
        after = self.uploads_received()
        self.assertEqual(len(after), len(before) + 1)
        meta, forwarded = self.received_upload(after[-1])
        # The collector's answer reached the client unchanged.
        self.assertEqual(answer.decode(), meta["answer"])
        self.assertEqual(meta["path"], f"/submit?product=dgtest_app&version=1.2.3&guid={guid}")
        self.assertEqual(meta["headers"]["Content-Type"], f"multipart/form-data; boundary={boundary}")
        self.assertEqual(meta["headers"]["Content-Encoding"], "gzip")
        parts = split_multipart(gzip.decompress(forwarded), boundary)
        self.assertEqual(sorted(parts), sorted(list(fields) + ["upload_file_minidump"]))
        for name in ("prod", "ver", "guid"):
            self.assertEqual(parts[name][1], fields[name].encode())
        self.assertNotIn(self.token.encode(), parts["list_annotations"][1])
        self.assertTrue(parts["list_annotations"][1].startswith(b"token="))
        self.assertIn(b"Content-Type: application/octet-stream", parts["upload_file_minidump"][0])
        self.check_clean_dump(parts["upload_file_minidump"][1], "crashpad")

        record = [r for r in self.audit_records() if r["event"] == "relayed"][-1]["data"]
        self.assertEqual((record["client"], record["product"], record["version"]), ("127.0.0.1", "dgtest_app", "1.2.3"))
        self.assertEqual(record["outcome"], "forwarded")
        self.assertEqual(record["upstream"]["status"], 200)
        self.assertEqual(record["upstream"]["body"], meta["answer"])
        self.assertEqual(record["forwarded_to"], f"http://127.0.0.1:{self.upstream_port}/submit")
        fingerprints = {k["fingerprint"] for p in record["parts"] for k in p["findings"]["key_fingerprints"]}
        for form, key in self.keys.items():
            self.assertIn(keyforms.spki_fingerprint(key.public_key()), fingerprints, form)
        self.assertEqual(record["fields"]["redacted"], 1)

    def test_b_curl_form(self):
        before = self.uploads_received()
        proc = subprocess.run(["curl", "-sS", "--noproxy", "*", "-w", "\n%{http_code}",
                               "-F", f"upload_file_minidump=@{self.planted_path}", "-F", "prod=dgtest_curl",
                               "-F", "ver=2.0", f"http://127.0.0.1:{self.port}/submit"],
                              capture_output=True, timeout=120)
        answer, _, code = proc.stdout.rpartition(b"\n")
        self.assertEqual(code, b"200", proc.stderr)
        after = self.uploads_received()
        self.assertEqual(len(after), len(before) + 1)
        meta, forwarded = self.received_upload(after[-1])
        self.assertEqual(answer.decode(), meta["answer"])
        self.assertNotIn("Content-Encoding", meta["headers"])
        boundary = meta["headers"]["Content-Type"].split("boundary=", 1)[1]
        parts = split_multipart(forwarded, boundary)
        self.assertEqual(parts["prod"][1], b"dgtest_curl")
        self.check_clean_dump(parts["upload_file_minidump"][1], "curl")

    def raw_exchange(self, request, pause=0.0):
        """Sends bytes on a socket of its own and returns the status line's code, or None when
        the relay closed the connection without one."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
            s.sendall(request)
            if pause:
                time.sleep(pause)
            data = b""
            try:
                while b"\r\n" not in data:
                    got = s.recv(4096)
                    if not got:
                        break
                    data += got
            except ConnectionResetError:
                pass
        return int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else None

    def test_c_malformed(self):
        before = self.uploads_received()
        boundary = "dgtestboundary"
        body = crashpad_body(boundary, {"prod": "dgtest_bad"}, "x.dmp", self.planted)
        mp = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        zipped = gzip.compress(body)
        # A gzip stream cut before its end, with an honest Content-Length.
        self.assertEqual(self.post("/submit", zipped[:len(zipped) // 2], dict(mp, **{"Content-Encoding": "gzip"}))[0], 400)
        # A multipart body without its closing delimiter.
        cut = body[:body.rindex(b"--" + boundary.encode() + b"--")]
        self.assertEqual(self.post("/submit", cut, mp)[0], 400)
        # An encoding and a type the relay does not take.
        self.assertEqual(self.post("/submit", body, dict(mp, **{"Content-Encoding": "br"}))[0], 415)
        self.assertEqual(self.post("/submit", body, {"Content-Type": "text/html"})[0], 415)
        # A Content-Length longer than the body: the relay waits --read-timeout, then answers 400.
        head = (f"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {len(body) + 5000}\r\n\r\n").encode()
        self.assertEqual(self.raw_exchange(head + body), 400)
        # Shorter than the body: the body read is cut, so its closing delimiter is missing.
        head = head.replace(f"{len(body) + 5000}".encode(), f"{len(body) - 100}".encode())
        self.assertEqual(self.raw_exchange(head + body), 400)
        # Over --max-upload: declared, sent chunked with no length, and a gzip bomb (a small body
        # that inflates past the limit: its declared length is fine).
        big = os.urandom(MAX_UPLOAD + 4096)
        self.assertEqual(self.post("/submit", big, {"Content-Type": "application/octet-stream"})[0], 413)
        try:
            status = self.post("/submit", big, {"Content-Type": "application/octet-stream"}, chunked=True)[0]
        except (ConnectionResetError, BrokenPipeError):
            status = None  # the relay stopped reading and closed: the client may see only that
        self.assertIn(status, (413, None))
        # A client that asks first (Expect: 100-continue, as curl does for large bodies) is refused
        # before it sends the body.
        ask = (f"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
               f"Content-Length: {MAX_UPLOAD + 1}\r\nExpect: 100-continue\r\n\r\n").encode()
        self.assertEqual(self.raw_exchange(ask), 413)
        bomb = gzip.compress(b"MDMP" + bytes(4 * MAX_UPLOAD))
        self.assertLess(len(bomb), MAX_UPLOAD)
        self.assertEqual(self.post("/submit", bomb, {"Content-Type": "application/octet-stream",
                                                     "Content-Encoding": "gzip"})[0], 413)
        self.assertEqual(self.uploads_received(), before, "a malformed upload reached the collector")
        self.assertIsNone(self.relay.poll(), "the relay died")

    def relay_threads(self, proc):
        with open(f"/proc/{proc.pid}/status") as f:
            return int([line for line in f if line.startswith("Threads:")][0].split()[1])

    def test_d_thousand_slow_clients(self):
        """1000 sockets at once from this one process, each trickling a byte every 0.4 s: 50 never
        finish the request line, 900 never finish the headers, 50 send the head and never finish
        the body. Each must end with its status (408: the head missed --header-timeout, or the
        body --upload-timeout), a good upload sent while they hold their connections must be
        served, nothing but it may reach the collector, and the relay's peak memory stays bounded."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 2048:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
        before = self.uploads_received()
        audited = len(self.audit_records())
        boundary = "dgslow"
        body = crashpad_body(boundary, {"prod": "slow"}, "s.dmp", self.planted)
        head = (f"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        good = (b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                + f"Content-Length: {len(self.planted)}\r\n\r\n".encode() + self.planted)
        kinds = ["line"] * 50 + ["head"] * 900 + ["body"] * 50
        port, relay = self.port, self.relay

        async def status_of(reader):
            line = await reader.readline()
            return int(line.split(b" ")[1]) if line.startswith(b"HTTP/1.1 ") else None

        async def slow(kind, connected):
            first, rest = {"line": (b"PO", b"ST /submit HTTP/1.1\r\n"),
                           "head": (b"POST /submit HTTP/1.1\r\nHost: x\r\n", b"X-Slow: " + b"a" * 100),
                           "body": (head + body[:1000], body[1000:1100])}[kind]
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(first)
            await writer.drain()
            connected.append(1)
            answer = asyncio.ensure_future(status_of(reader))
            try:
                for byte in rest:
                    done, _ = await asyncio.wait([answer], timeout=0.4)
                    if done:
                        break
                    writer.write(bytes([byte]))
                    await writer.drain()
            except ConnectionError:
                pass  # the relay answered and closed while a byte was on its way
            try:
                status = await asyncio.wait_for(answer, 30)
            except (ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                status = None
            writer.close()
            return kind, status, time.monotonic()

        # The relay at rest: its main thread and its signal waiter (a kept-alive connection of an
        # earlier test may still hold a thread for a second).
        deadline = time.monotonic() + 10
        while self.relay_threads(relay) > 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        base = self.relay_threads(relay)

        async def scenario():
            connected = []
            tasks = [asyncio.ensure_future(slow(k, connected)) for k in kinds]
            deadline = time.monotonic() + 30
            # Every slow client is connected and holds a thread of the relay's.
            while (len(connected) < len(kinds) or self.relay_threads(relay) < base + len(kinds)) \
                    and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            held = self.relay_threads(relay)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(good)
            await writer.drain()
            status = await asyncio.wait_for(status_of(reader), 60)
            served = time.monotonic()
            writer.close()
            return held, status, served, await asyncio.gather(*tasks)

        started = time.monotonic()
        held, status, served, results = asyncio.run(scenario())
        self.assertGreaterEqual(held, base + len(kinds), "the slow clients were not all held at once")
        self.assertEqual(status, 200, "the good upload was not served")
        self.assertLess(time.monotonic() - started, 30)
        for kind in ("line", "head", "body"):
            statuses = [r[1] for r in results if r[0] == kind]
            self.assertEqual(statuses, [408] * len(statuses), (kind, statuses))
        if not SANITIZED:
            # Served while they held their connections: before any body ran out of time.
            self.assertLess(served, min(r[2] for r in results if r[0] == "body"))
        after = self.uploads_received()
        self.assertEqual(len(after), len(before) + 1, "only the good upload reaches the collector")
        self.check_clean_dump(self.received_upload(after[-1])[1], "raw")
        # The bodies that ran out of time are audited; the heads that did are only counted.
        late = [r for r in self.audit_records()[audited:] if r["event"] == "relayed" and r["data"]["status"] == 408]
        self.assertEqual(len(late), 50)
        self.assertIsNone(self.relay.poll(), "the relay died")
        with open(f"/proc/{self.relay.pid}/status") as f:
            peak_kb = int([line for line in f if line.startswith("VmHWM:")][0].split()[1])
        print(f"the relay's peak RSS with {len(kinds)} slow clients: {peak_kb // 1024} MiB", file=sys.stderr)
        self.assertLess(peak_kb, (1500 if SANITIZED else PEAK_MIB) * 1024, "the relay's peak memory")

    def test_e_unverifiable_is_quarantined(self):
        before = self.uploads_received()
        cut = self.planted[:len(self.planted) * 2 // 3]  # streams past the end: only partly parsed
        status, answer = self.post("/submit", cut, {"Content-Type": "application/octet-stream"})
        self.assertEqual(status, 422, answer)
        self.assertEqual(self.uploads_received(), before)
        record = [r for r in self.audit_records() if r["event"] == "relayed"][-1]["data"]
        self.assertEqual((record["outcome"], record["reason"]), ("quarantined", "partial-parse"))
        package = record["target"]
        name = os.path.basename(package)
        with open(os.path.join(package, name + ".reason.json")) as f:
            self.assertEqual(json.load(f)["reason"], "partial-parse")
        with open(os.path.join(package, "part-1"), "rb") as f:
            self.assertEqual(f.read(), cut)  # the original, kept for the people allowed to look
        self.assertEqual(os.stat(os.path.join(package, "part-1")).st_mode & 0o777, 0o600)

    def wait_for_threads(self, proc, count):
        deadline = time.monotonic() + 30
        while self.relay_threads(proc) != count and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(self.relay_threads(proc), count)

    def test_f_release_and_audit(self):
        proc, port, stderr_path = self.start_relay("release", "--release", os.path.join(self.tmp, "release"),
                                                   "--max-connections", "3", header_timeout="60", read_timeout="60")
        # Past --max-connections a connection is answered 503 with Retry-After at once.
        idle = self.relay_threads(proc)
        held = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(3)]
        self.wait_for_threads(proc, idle + 3)
        status, retry = None, None
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            answer = s.makefile("rb").read()
            status = int(answer.split(b" ")[1])
            retry = re.search(rb"\r\nRetry-After: (\d+)\r\n", answer)
        self.assertEqual(status, 503)
        self.assertIsNotNone(retry)
        for s in held:
            s.close()
        self.wait_for_threads(proc, idle)
        status, answer = self.post("/", self.planted, {"Content-Type": "application/octet-stream"}, port=port)
        self.assertEqual(status, 200, answer)
        name = answer.decode().strip()
        with open(os.path.join(self.tmp, "release", name + ".dmp"), "rb") as f:
            released = f.read()
        self.assertEqual(len(released), len(self.planted))
        self.assertEqual(dgtest.find_secrets(released, self.secrets), [])
        stop(proc)
        self.assertEqual(proc.returncode, 0)
        for log in ("main", "release"):
            path = os.path.join(self.tmp, f"audit-{log}.log")
            dgtest.run_dumpguard("audit", "verify", path, "--key", self.audit_key, "--checkpoint",
                                 path + ".checkpoint", check_exit=0)

    def test_g_tls(self):
        # A certificate made here; the client trusts it alone.
        key, cert = os.path.join(self.tmp, "tls.key"), os.path.join(self.tmp, "tls.crt")
        dgtest.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                       "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
        # Client certificates: a CA made here signs one; another is signed by a CA of its own.
        for name in ("ca", "other-ca"):
            dgtest.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                           "-keyout", os.path.join(self.tmp, f"{name}.key"), "-out", os.path.join(self.tmp, f"{name}.crt"),
                           "-days", "1", "-subj", f"/CN=dgtest {name}")
        clients = {}
        for name, ca in (("client", "ca"), ("stranger", "other-ca")):
            ckey, csr, crt = (os.path.join(self.tmp, f"{name}.{ext}") for ext in ("key", "csr", "crt"))
            dgtest.openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                           "-keyout", ckey, "-out", csr, "-subj", f"/CN=dgtest {name}")
            dgtest.openssl("x509", "-req", "-in", csr, "-CA", os.path.join(self.tmp, f"{ca}.crt"),
                           "-CAkey", os.path.join(self.tmp, f"{ca}.key"), "-CAcreateserial", "-days", "1", "-out", crt)
            clients[name] = ["--cert", crt, "--key", ckey]
        proc, port, _ = self.start_relay("tls", "--upstream", f"http://127.0.0.1:{self.upstream_port}/submit",
                                         "--tls-cert", cert, "--tls-key", key,
                                         "--tls-client-ca", os.path.join(self.tmp, "ca.crt"))
        with open(self.stderr_path.replace("main", "tls")) as f:
            self.assertIn(f"listening on https://127.0.0.1:{port}", f.read())
        before = self.uploads_received()

        def curl(*identity):
            return subprocess.run(["curl", "-sS", "--noproxy", "*", "--cacert", cert, *identity, "-w", "\n%{http_code}",
                                   "-F", f"upload_file_minidump=@{self.planted_path}", f"https://127.0.0.1:{port}/submit"],
                                  capture_output=True, timeout=120)

        out = curl(*clients["client"])
        answer, _, code = out.stdout.rpartition(b"\n")
        self.assertEqual(code, b"200", out.stderr)
        after = self.uploads_received()
        self.assertEqual(len(after), len(before) + 1)
        self.assertEqual(answer.decode(), self.received_upload(after[-1])[0]["answer"])
        # No certificate, or one the CA did not sign: refused in the handshake, nothing forwarded.
        for identity in ([], clients["stranger"]):
            out = curl(*identity)
            self.assertNotEqual(out.returncode, 0, identity)
            self.assertFalse(out.stdout.endswith(b"\n200"), identity)
        self.assertEqual(self.uploads_received(), after)
        # Plain HTTP to the TLS port gets no upload through.
        with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
            self.post("/submit", b"MDMP", {"Content-Type": "application/octet-stream"}, port=port)
        self.assertEqual(self.uploads_received(), after)
        stop(proc)
        self.assertEqual(proc.returncode, 0)

    def test_h_upstream_retry(self):
        fail_next = os.path.join(self.received, "fail-next")
        self.addCleanup(lambda: os.path.exists(fail_next) and os.unlink(fail_next))

        def failures_left():
            with open(fail_next) as f:
                return int(f.read())

        # The collector fails twice, then takes it: the third attempt gets through.
        before = self.uploads_received()
        with open(fail_next, "w") as f:
            f.write("2")
        status, _, answer = self.post_form("retried")
        self.assertEqual(status, 200, answer)
        self.assertEqual(failures_left(), 0)
        after = self.uploads_received()
        self.assertEqual(len(after), len(before) + 1)
        self.assertEqual(answer.decode(), self.received_upload(after[-1])[0]["answer"])
        record = [r for r in self.audit_records() if r["event"] == "relayed"][-1]["data"]
        self.assertEqual((record["outcome"], record["attempts"], record["status"]), ("forwarded", 3, 200))
        # It fails more often than the relay tries: exactly three attempts, then 502.
        with open(fail_next, "w") as f:
            f.write("5")
        status, _, _ = self.post_form("refused")
        self.assertEqual(status, 502)
        self.assertEqual(failures_left(), 2)
        self.assertEqual(self.uploads_received(), after)
        record = [r for r in self.audit_records() if r["event"] == "relayed"][-1]["data"]
        self.assertEqual((record["outcome"], record["attempts"], record["status"], record["upstream"]["status"]),
                         ("upstream-failed", 3, 502, 503))
        # Nobody listens where the upstream should be: connection errors are retried the same way.
        proc, port, _ = self.start_relay("down", "--upstream", f"http://127.0.0.1:{dgtest.free_port()}/submit",
                                         "--upstream-attempts", "2", "--upstream-backoff", "0.05")
        status, _, _ = self.post_form("nobody", port=port)
        self.assertEqual(status, 502)
        stop(proc)
        record = [r for r in self.audit_records("down") if r["event"] == "relayed"][-1]["data"]
        self.assertEqual((record["outcome"], record["attempts"]), ("upstream-failed", 2))

    def test_i_rate_limit(self):
        config = self.write("relay.toml", b"[relay]\nrate-limit = 3\n")
        proc, port, _ = self.start_relay("rate", "--upstream", f"http://127.0.0.1:{self.upstream_port}/submit",
                                         "--config", config)
        before = self.uploads_received()
        answers = [self.post_form(f"rate-{k}", port=port) for k in range(7)]
        self.assertEqual([a[0] for a in answers], [200] * 3 + [429] * 4)
        for _, headers, _ in answers[3:]:
            self.assertIn(int(headers["Retry-After"]), range(1, 61))
        self.assertEqual(len(self.uploads_received()), len(before) + 3)
        stop(proc)
        self.assertEqual(proc.returncode, 0)
        # One record for the window's four refusals, none for each; the uploads it let through
        # are recorded as ever.
        records = self.audit_records("rate")
        limited = [r["data"] for r in records if r["event"] == "rate-limited"]
        self.assertEqual(len(limited), 1, limited)
        self.assertEqual((limited[0]["rate_limited"], limited[0]["limit"], limited[0]["refused"]), ("127.0.0.1", 3, 4))
        self.assertEqual(len([r for r in records if r["event"] == "relayed"]), 3)
        path = os.path.join(self.tmp, "audit-rate.log")
        dgtest.run_dumpguard("audit", "verify", path, "--key", self.audit_key, "--checkpoint", path + ".checkpoint",
                             check_exit=0)

    @classmethod
    def tearDownClass(cls):
        # Nothing the relay wrote or said holds a key part or the token: its stderr, its audit
        # logs, the quarantine's reasons.
        outputs = {}
        for root, _, files in os.walk(cls.tmp):
            for f in files:
                if f.startswith(("relay-", "audit-")) or f.endswith(".reason.json"):
                    with open(os.path.join(root, f), "rb") as fh:
                        outputs[f] = fh.read()
        secrets = dict(cls.secrets)
        secrets["token"] = cls.token
        try:
            dgtest.assert_no_secret(outputs, secrets)
        finally:
            super().tearDownClass()


if __name__ == "__main__":
    unittest.main()
