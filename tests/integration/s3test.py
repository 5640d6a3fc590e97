"""A real S3-compatible server for the cluster's tests: @20minutes/s3rver (Node.js, from the npm
registry), pinned by tests/tools/s3/package-lock.json and installed with `npm ci` into the build
tree the first time a test needs it. It checks AWS Signature Version 4, so a request signed with
the wrong secret is refused. It runs on a free 127.0.0.1 port over TLS (a CA and a certificate
made here with openssl), with a key pair generated here and a temporary directory, and is
stopped by its PID on every exit path. Debian 12 packages no S3 server; when the install fails,
the test fails: it is never skipped."""
import fcntl
import hashlib
import json
import os
import secrets
import select
import shutil
import subprocess

import dgtest
import natstest

TOOLS = os.path.join(os.environ.get("DG_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")),
                     "tests", "tools", "s3")
FILES = ("package.json", "package-lock.json", "server.js")


def install():
    """The server's packages in BUILD/tests/tools/s3, installed once per build tree (again when
    the pinned files change), under a lock: returns the directory that holds server.js."""
    build = os.environ.get("DG_BUILD_DIR")
    assert build, "DG_BUILD_DIR is not set (run the test through ctest)"
    dest = os.path.join(build, "tests", "tools", "s3")
    os.makedirs(dest, exist_ok=True)
    digest = hashlib.sha256()
    for name in FILES:
        with open(os.path.join(TOOLS, name), "rb") as f:
            digest.update(f.read())
    stamp = os.path.join(dest, "installed.stamp")
    with open(dest + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(stamp) as f:
                if f.read() == digest.hexdigest() and os.path.isdir(os.path.join(dest, "node_modules")):
                    return dest
        except OSError:
            pass
        for name in FILES:
            shutil.copy(os.path.join(TOOLS, name), os.path.join(dest, name))
        proc = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=dest,
                              capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise AssertionError(f"npm ci of the test S3 server in {dest} failed ({proc.returncode}): "
                                 f"{proc.stderr.decode(errors='replace')[-2000:]}")
        with open(stamp, "w") as f:
            f.write(digest.hexdigest())
    return dest


class S3Server:
    """One bucket on a private port. `objects()` lists the keys the server holds, read from its
    directory, and `object_path(key)` is the file that holds an object's bytes."""

    def __init__(self, root, bucket="dumps"):
        self.root = root
        self.bucket = bucket
        self.directory = os.path.join(root, "s3-data")
        self.port = dgtest.free_port()
        self.access_key_id = "DG" + secrets.token_hex(8).upper()
        self.secret = secrets.token_urlsafe(30)
        self.ca = natstest.make_ca(root, "s3-test-ca")
        self.cert, self.key = natstest.make_server_cert(root, self.ca, "IP:127.0.0.1")
        self.log = os.path.join(root, "s3-server.log")
        self.config = os.path.join(root, "s3-server.json")
        with open(os.open(self.config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            json.dump({"port": self.port, "directory": self.directory, "bucket": bucket,
                       "accessKeyId": self.access_key_id, "secretAccessKey": self.secret,
                       "key": self.key, "cert": self.cert}, f)
        self.proc = None

    @property
    def endpoint(self):
        return f"https://127.0.0.1:{self.port}"

    def credentials_file(self, name, secret=None):
        """An AWS shared-credentials file (mode 0600) for the server's key pair, or with another
        secret."""
        path = os.path.join(self.root, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(f"[default]\naws_access_key_id = {self.access_key_id}\n"
                    f"aws_secret_access_key = {secret or self.secret}\n")
        return path

    def start(self):
        where = install()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(["node", os.path.join(where, "server.js"), self.config],
                                         stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        line = self.proc.stdout.readline().decode(errors="replace") if ready else ""
        if not line.startswith("listening") or not dgtest.wait_for_port(self.port, timeout=10):
            self.stop()
            raise AssertionError(f"the S3 server did not start: {line!r} {self.log_text()[-2000:]}")

    def stop(self):
        """By its PID: SIGTERM, then SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        dgtest.stop_by_pid(self.proc)
        self.proc.stdout.close()

    def log_text(self):
        return dgtest.text_of(self.log)

    def objects(self):
        """The keys of the objects in the bucket."""
        base = os.path.join(self.directory, self.bucket)
        keys = []
        for dirpath, _, names in os.walk(base):
            for name in names:
                if name.endswith("._S3rver_object"):
                    rel = os.path.relpath(os.path.join(dirpath, name[:-len("._S3rver_object")]), base)
                    keys.append(rel.replace(os.sep, "/"))
        return sorted(keys)

    def object_path(self, key):
        return os.path.join(self.directory, self.bucket, *key.split("/")) + "._S3rver_object"
