"""A real nats-server with JetStream for the cluster's tests: a free 127.0.0.1 port, a temporary
store directory, and a configuration file with one account and three users written here:
admin (everything: it makes the streams), worker (publish rights on the work and audit subjects
and the JetStream API calls a worker makes, nothing else) and submitter (the work subject only).
The server is stopped by its PID on every exit path. Also a raw NATS protocol client, for the
requests dumpguard never makes (purging or deleting the audit stream)."""
import json
import os
import secrets
import signal
import socket
import subprocess
import time

import dgtest

NATS_SERVER = "/usr/sbin/nats-server"  # Debian installs it in sbin

WORKER_PUBLISH = [
    "dumpguard.audit",
    "$JS.API.CONSUMER.MSG.NEXT.DUMPGUARD_WORK.workers",
    "$JS.API.CONSUMER.INFO.DUMPGUARD_WORK.workers",
    "$JS.ACK.DUMPGUARD_WORK.workers.>",
    "$JS.API.STREAM.INFO.DUMPGUARD_AUDIT",
    "$JS.API.STREAM.MSG.GET.DUMPGUARD_AUDIT",
    "$KV.dumpguard.>",
    "$JS.API.STREAM.INFO.KV_dumpguard",
    "$JS.API.STREAM.MSG.GET.KV_dumpguard",
    "$JS.API.DIRECT.GET.KV_dumpguard.>",
]


class NatsServer:
    def __init__(self, root):
        self.root = root
        self.port = dgtest.free_port()
        self.store = os.path.join(root, "jetstream")
        self.log = os.path.join(root, "nats-server.log")
        self.conf = os.path.join(root, "nats-server.conf")
        self.passwords = {u: secrets.token_hex(12) for u in ("admin", "worker", "submitter")}
        os.makedirs(self.store, exist_ok=True)
        allow = ", ".join(json.dumps(s) for s in WORKER_PUBLISH)
        with open(self.conf, "w") as f:
            f.write(f"""listen: 127.0.0.1:{self.port}
jetstream {{ store_dir: {json.dumps(self.store)} }}
accounts {{
  DUMPGUARD {{
    jetstream: enabled
    users: [
      {{ user: admin, password: {json.dumps(self.passwords['admin'])} }}
      {{ user: worker, password: {json.dumps(self.passwords['worker'])},
         permissions: {{ publish: {{ allow: [{allow}] }}, subscribe: {{ allow: ["_INBOX.>"] }} }} }}
      {{ user: submitter, password: {json.dumps(self.passwords['submitter'])},
         permissions: {{ publish: {{ allow: ["dumpguard.work"] }}, subscribe: {{ allow: ["_INBOX.>"] }} }} }}
    ]
  }}
}}
""")
        self.proc = None

    def url(self, user):
        return f"nats://{user}:{self.passwords[user]}@127.0.0.1:{self.port}"

    def start(self):
        with open(self.log + ".stderr", "ab") as err:
            self.proc = subprocess.Popen([NATS_SERVER, "-c", self.conf, "-l", self.log],
                                         stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"nats-server exited {self.proc.returncode}: {self.log_text()[-2000:]}"
                                     f"{open(self.log + '.stderr', errors='replace').read()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(4096).startswith(b"INFO"):
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("nats-server did not start listening")

    def stop(self):
        """By its PID: SIGTERM, then SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)

    def restart(self):
        self.stop()
        self.start()

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class RawClient:
    """The NATS client protocol over a socket (https://docs.nats.io/reference/reference-protocols/nats-protocol):
    CONNECT, SUB, PUB, and what the server answers, for requests dumpguard has no command for."""

    def __init__(self, server, user):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        self.buffer = b""
        self._line()  # INFO
        connect = {"user": user, "pass": server.passwords[user], "verbose": False, "pedantic": False,
                   "headers": True, "protocol": 1}
        self.sock.sendall(b"CONNECT " + json.dumps(connect).encode() + b"\r\nSUB _INBOX.raw 1\r\nPING\r\n")
        self._until(b"PONG")

    def _line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("the server closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _until(self, word):
        while True:
            line = self._line()
            if line.startswith(b"-ERR"):
                raise AssertionError(line.decode())
            if line.startswith(word):
                return line

    def request(self, subject, payload=b"", timeout=5):
        """Returns ("reply", body) or ("error", the server's -ERR line) or ("timeout", b"")."""
        self.sock.sendall(f"PUB {subject} _INBOX.raw {len(payload)}\r\n".encode() + payload + b"\r\nPING\r\n")
        self.sock.settimeout(timeout)
        error = None
        try:
            while True:
                line = self._line()
                if line.startswith(b"-ERR"):
                    error = line
                elif line.startswith(b"PONG") and error is not None:
                    return "error", error
                elif line.startswith(b"MSG") or line.startswith(b"HMSG"):
                    size = int(line.split()[-1])
                    while len(self.buffer) < size + 2:
                        self.buffer += self.sock.recv(65536)
                    body, self.buffer = self.buffer[:size], self.buffer[size + 2:]
                    return "reply", body
        except socket.timeout:
            return ("error", error) if error is not None else ("timeout", b"")

    def close(self):
        self.sock.close()
