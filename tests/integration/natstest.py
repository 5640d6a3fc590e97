"""A real nats-server with JetStream for the cluster's tests: a free 127.0.0.1 port, a temporary
store directory, and a configuration file with one account and three users written here:
admin (everything: it makes the streams), worker (publish rights on the work and audit subjects
and the JetStream API calls a worker makes, nothing else) and submitter (the work subject only).
The server is stopped by its PID on every exit path. Also a raw NATS protocol client, for the
requests dumpguard never makes (purging or deleting the audit stream).

OperatorNatsServer runs the same accounts in operator mode, as a deployment with credentials
files does: an operator, an account and its users as JWTs signed here with NKeys made here
(nats-server's MEMORY resolver preloads the account), each user a .creds file, and TLS only,
with a CA and a server certificate that openssl makes here."""
import base64
import json
import os
import secrets
import socket
import subprocess
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

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
        os.makedirs(self.store, exist_ok=True)
        self.write_config()
        self.proc = None

    def write_config(self):
        self.passwords = {u: secrets.token_hex(12) for u in ("admin", "worker", "submitter")}
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

    def url(self, user):
        return f"nats://{user}:{self.passwords[user]}@127.0.0.1:{self.port}"

    def client_args(self, user):
        """What a dumpguard command needs to connect as this user."""
        return ["--nats", self.url(user)]

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
        dgtest.stop_by_pid(self.proc)

    def restart(self):
        self.stop()
        self.start()

    def log_text(self):
        return dgtest.text_of(self.log)


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


# NKeys (https://github.com/nats-io/nkeys): a prefix byte naming the role, the Ed25519 public key
# or seed, CRC-16/XMODEM of both (little-endian), in base32 without padding.
NKEY_OPERATOR, NKEY_ACCOUNT, NKEY_USER, NKEY_SEED = 14 << 3, 0, 20 << 3, 18 << 3


def crc16(data):
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def nkey_text(prefix, raw):
    body = bytes(prefix) + raw
    return base64.b32encode(body + crc16(body).to_bytes(2, "little")).decode().rstrip("=")


class NKey:
    def __init__(self, role):
        self.key = ed25519.Ed25519PrivateKey.generate()
        raw = serialization.Encoding.Raw
        public = self.key.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
        seed = self.key.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
        self.public = nkey_text([role], public)
        # The seed's two prefix bytes carry the seed marker and the role, five bits apart.
        self.seed = nkey_text([NKEY_SEED | (role >> 5), (role & 31) << 3], seed)


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def nats_jwt(issuer, subject, name, nats):
    """A JWT as nats-io/jwt v2 encodes one: header, claims (jti the base32 SHA-512/256 of the
    claims without it), and the issuer's Ed25519 signature of both ("ed25519-nkey")."""
    claims = {"jti": "", "iat": int(time.time()), "iss": issuer.public, "name": name, "sub": subject, "nats": nats}
    digest = hashes.Hash(hashes.SHA512_256())
    digest.update(json.dumps(claims, separators=(",", ":")).encode())
    claims["jti"] = base64.b32encode(digest.finalize()).decode().rstrip("=")
    signed = b64url(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode()) + "." + \
        b64url(json.dumps(claims, separators=(",", ":")).encode())
    return signed + "." + b64url(issuer.key.sign(signed.encode()))


def creds_text(jwt, seed):
    """A credentials file as `nsc` writes one."""
    return (f"-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n"
            "************************* IMPORTANT *************************\n"
            "NKEY Seed printed below can be used to sign and prove identity.\n"
            "NKEYs are sensitive and should be treated as secrets.\n\n"
            f"-----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n\n"
            "*************************************************************\n")


def make_ca(directory, name):
    """A CA certificate and key made by openssl; returns the certificate's path."""
    key, cert = os.path.join(directory, f"{name}.key"), os.path.join(directory, f"{name}.crt")
    dgtest.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                   "-out", cert, "-days", "2", "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
                   "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return cert


def make_server_cert(directory, ca_cert, san):
    """A server certificate for `san` signed by the CA at ca_cert; returns (cert, key) paths."""
    key, csr, cert = (os.path.join(directory, f"server.{e}") for e in ("key", "csr", "crt"))
    ext = os.path.join(directory, "server.ext")
    with open(ext, "w") as f:
        f.write(f"subjectAltName={san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    dgtest.openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
                   "-subj", "/CN=nats-test-server")
    dgtest.openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_cert[:-4] + ".key", "-CAcreateserial",
                   "-out", cert, "-days", "2", "-extfile", ext)
    return cert, key


class OperatorNatsServer(NatsServer):
    """The same users in operator mode and over TLS only: a .creds file each, and a CA to trust.
    The server's certificate names 127.0.0.1 only (an IP SAN): a client that asks for
    `localhost` must refuse it."""

    def write_config(self):
        self.ca = make_ca(self.root, "nats-test-ca")
        cert, key = make_server_cert(self.root, self.ca, "IP:127.0.0.1")
        operator, account, system = NKey(NKEY_OPERATOR), NKey(NKEY_ACCOUNT), NKey(NKEY_ACCOUNT)
        unlimited = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1, "wildcards": True,
                     "conn": -1, "leaf": -1}
        operator_jwt = nats_jwt(operator, operator.public, "dumpguard-test",
                                {"type": "operator", "version": 2, "system_account": system.public})
        system_jwt = nats_jwt(operator, system.public, "SYS", {"limits": unlimited, "type": "account", "version": 2})
        account_jwt = nats_jwt(operator, account.public, "DUMPGUARD",
                               {"limits": {**unlimited, "mem_storage": -1, "disk_storage": -1, "streams": -1,
                                           "consumer": -1},
                                "type": "account", "version": 2})
        permissions = {
            "admin": {},
            "worker": {"pub": {"allow": WORKER_PUBLISH}, "sub": {"allow": ["_INBOX.>"]}},
            "submitter": {"pub": {"allow": ["dumpguard.work"]}, "sub": {"allow": ["_INBOX.>"]}},
        }
        self.creds, self.seeds, self.account = {}, {}, account
        for user, allowed in permissions.items():
            self.creds[user] = self.write_creds(user, account, allowed)
        operator_file = os.path.join(self.root, "operator.jwt")
        with open(operator_file, "w") as f:
            f.write(operator_jwt)
        with open(self.conf, "w") as f:
            f.write(f"""listen: 127.0.0.1:{self.port}
operator: {json.dumps(operator_file)}
system_account: {system.public}
resolver: MEMORY
resolver_preload: {{
  {system.public}: {json.dumps(system_jwt)}
  {account.public}: {json.dumps(account_jwt)}
}}
jetstream {{ store_dir: {json.dumps(self.store)} }}
tls {{ cert_file: {json.dumps(cert)}, key_file: {json.dumps(key)} }}
""")

    def write_creds(self, user, account, allowed, name=None, seed=None):
        """A credentials file for a new user of `account`; `seed` in it instead of the user's own
        makes a file whose seed does not match its JWT."""
        key = NKey(NKEY_USER)
        jwt = nats_jwt(account, key.public, user, {**allowed, "subs": -1, "data": -1, "payload": -1,
                                                   "type": "user", "version": 2})
        path = os.path.join(self.root, f"{name or user}.creds")
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(creds_text(jwt, seed or key.seed))
        self.seeds[name or user] = seed or key.seed
        return path

    def url(self, user=None):
        return f"tls://127.0.0.1:{self.port}"

    def client_args(self, user):
        return ["--nats", self.url(), "--nats-creds", self.creds[user], "--nats-ca", self.ca]
