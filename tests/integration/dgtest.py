"""Shared pieces of the integration tests: run the CLI, start and dump real processes.

Every dump is taken with gcore under a file-size limit, of processes built without
sanitizers (tests/programs), and every started process is killed in cleanup.
"""
import json
import os
import subprocess
import tempfile
import time
import unittest

DUMPGUARD = os.environ.get("DUMPGUARD", "")
PROGRAMS = os.environ.get("DG_PROGRAMS_DIR", "")
# The real minidumps the tests read (their source and licence: tests/corpus/minidumps/SOURCE.md).
MINIDUMPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "corpus", "minidumps")
# gcore's file-size limit in 1 KiB blocks (4 GB): a runaway core fails instead of filling the disk.
CORE_LIMIT_BLOCKS = 4_000_000


def run_dumpguard(*args, stdin=None, check_exit=None):
    """Run the CLI; return (exit code, stdout, stderr)."""
    proc = subprocess.run([DUMPGUARD, *args], input=stdin, capture_output=True, timeout=600)
    if check_exit is not None and proc.returncode != check_exit:
        raise AssertionError(f"dumpguard {' '.join(args)} exited {proc.returncode}, "
                             f"expected {check_exit}; stderr: {proc.stderr.decode(errors='replace')}")
    return proc.returncode, proc.stdout, proc.stderr


def info_json(path, *extra):
    code, out, err = run_dumpguard("info", "--json", *extra, path, check_exit=0)
    return json.loads(out)


class LiveProcess:
    """A test program started with a pipe on stdin; it runs until the pipe closes."""

    def __init__(self, argv, ready_word="ready", timeout=60, env=None):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=env)
        self.lines = []
        self._wait_for(ready_word, timeout, f"{argv[0]} did not become ready")

    def _wait_for(self, word, timeout, failure):
        """Reads output lines until one holds `word`, and returns it; stops the process and
        raises when output ends or `timeout` seconds pass first."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if word in line:
                return self.lines[-1]
        self.stop()
        raise RuntimeError(f"{failure}: {self.lines}")

    def tell(self, line, answer_word, timeout=60):
        """Writes one line to the program's stdin and returns the first output line after it
        that holds `answer_word`."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self._wait_for(answer_word, timeout, f"no answer to {line!r}")

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


def gcore(pid, directory, kernel_filter=False, self_check=True):
    """Dump a live process with gdb's gcore under a file-size limit; return the core's path.
    With kernel_filter, the process's coredump_filter is set to the kernel's default (0x33:
    anonymous and ELF-header pages, no file-backed mappings), which gcore honours: a JVM maps
    its 120 MB class image shared, and a kernel core leaves it out too. With self_check (the
    default), the core is redacted once and must keep nothing its own scan found (a test whose
    core is not meant to be redactable turns it off)."""
    if kernel_filter:
        with open(f"/proc/{pid}/coredump_filter", "w") as f:
            f.write("0x33")
    prefix = os.path.join(directory, "core")
    subprocess.run(["bash", "-c", f"ulimit -f {CORE_LIMIT_BLOCKS}; exec gcore -o {prefix} {pid}"],
                   check=True, capture_output=True, timeout=300)
    path = f"{prefix}.{pid}"
    if not os.path.exists(path):
        raise RuntimeError("gcore wrote no core")
    if self_check:
        left = redaction_leaves(path)
        if left:
            raise AssertionError(f"redact left what its own scan found in {path}: {left}")
    return path


def redaction_leaves(core_path):
    """Redacts the core into a temporary file and returns what left_after_redaction() finds
    there: every real dump the suite makes passes through this once (gcore calls it), so no
    test's process holds a secret that the scan finds and redact leaves behind."""
    with tempfile.TemporaryDirectory(prefix="dg-self-") as d:
        out, report = os.path.join(d, "redacted"), os.path.join(d, "redact.json")
        code, _, err = run_dumpguard("redact", "--no-progress", "--fingerprint-key", os.path.join(d, "fp.key"),
                                     core_path, "-o", out, "--report", report)
        if code != 0:
            return [f"redact exited {code}: {err.decode(errors='replace').strip()[-300:]}"]
        with open(report) as f:
            spans = json.load(f)["spans"]
        with open(core_path, "rb") as f:
            data = f.read()
        with open(out, "rb") as f:
            return left_after_redaction(core_path, data, f.read(), spans)


def dump_process(argv, directory, env=None, self_check=True):
    """Start a program that prints "ready" when it holds what it should, gcore it, stop it; the core's path."""
    holder = LiveProcess(argv, env=env)
    try:
        return gcore(holder.pid, directory, self_check=self_check)
    finally:
        holder.stop()


class DumpTestCase(unittest.TestCase):
    """A test case with a private temporary directory."""

    def setUp(self):
        if not DUMPGUARD or not os.path.exists(DUMPGUARD):
            self.fail("DUMPGUARD is not set to the built CLI")
        self._tmp = tempfile.TemporaryDirectory(prefix="dg-test-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()


def openssl(*args, cwd=None):
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=cwd, timeout=300)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_s_server(directory, key_path, cert_path):
    """openssl s_server on loopback holding the key; returns a LiveProcess-like handle."""
    port = free_port()
    proc = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-key", key_path,
                             "-cert", cert_path, "-www", "-quiet"], cwd=directory, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_for_port(port, timeout=60):
        proc.kill()
        raise RuntimeError("s_server did not start listening")
    proc.port = port
    return proc


def tls_get(port):
    """One TLS handshake and HTTP GET to a local server (certificate not checked); returns the
    response, so the server has used its key and holds session keys."""
    import socket
    import ssl
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        with context.wrap_socket(raw) as tls:
            tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
            response = b""
            while chunk := tls.recv(4096):
                response += chunk
    return response


def le_be_encodings(value):
    """Minimal big-endian and little-endian bytes of a positive integer."""
    be = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return be, be[::-1]


def occurrences(data, needle):
    out, i = [], data.find(needle)
    while i >= 0:
        out.append(i)
        i = data.find(needle, i + 1)
    return out


class Haystack:
    """A dump's bytes, for many searches: only the stretches near pages that are not all zeros
    are searched. A needle of at most REACH bytes that is not all zeros has a non-zero byte on a
    non-zero page, so it lies within REACH bytes of one. gcore writes reserved address space as
    zeros, so a runtime's core is mostly skipped (a JVM's: 27 of 177 MB are not zeros)."""
    PAGE = 4096
    REACH = 4096

    def __init__(self, data):
        self.data = data
        zero = bytes(self.PAGE)
        self.spans = []
        for at in range(0, len(data), self.PAGE):
            page = data[at:at + self.PAGE]
            if page == zero[:len(page)]:
                continue
            start, end = max(0, at - self.REACH), min(len(data), at + self.PAGE + self.REACH)
            if self.spans and start <= self.spans[-1][1]:
                self.spans[-1][1] = end
            else:
                self.spans.append([start, end])

    def _spans_for(self, needle):
        """Where `needle` can be: near the non-zero pages, or anywhere for a needle the skip
        does not hold for (longer than REACH, or all zeros)."""
        if len(needle) > self.REACH or not needle.strip(b"\0"):
            return [(0, len(self.data))]
        return self.spans

    def occurrences(self, needle):
        out = []
        for start, end in self._spans_for(needle):
            i = self.data.find(needle, start, end)
            while i >= 0:
                out.append(i)
                i = self.data.find(needle, i + 1, end)
        return out

    def __contains__(self, needle):
        return any(self.data.find(needle, start, end) >= 0 for start, end in self._spans_for(needle))


def covered(findings, offset, length):
    """True when one finding's span contains [offset, offset + length)."""
    return any(f["file_offset"] <= offset and offset + length <= f["file_offset"] + f["length"] for f in findings)


# --- No output carries a secret -------------------------------------------------------------
# A leak is sought in every form an output could carry it in, and also for pieces of a long
# secret, so that a report printing part of a key ("first 16 bytes: ...") is caught too.
LEAK_PIECE = 16  # bytes; pieces start every LEAK_PIECE // 2 bytes, so any leaked run of 24 bytes holds one
MIN_FORM = 8     # shorter forms would match by chance


def _base64_runs(data, alphabet):
    """The base64 (or base64url) characters fixed by `data` alone, whatever bytes come before
    and after it in a longer encoded stream: one run for each alignment of data modulo 3."""
    import base64
    encode = base64.urlsafe_b64encode if alphabet == "url" else base64.b64encode
    runs = []
    for pad in range(3):
        text = encode(bytes(pad) + data).rstrip(b"=")
        first = 4 if pad else 0               # the group holding the padding bytes is not data's alone
        last = (pad + len(data)) // 3 * 4      # whole groups; a partial last group depends on what follows
        runs.append(text[first:last] if last > first else b"")
    return runs


def leak_forms(secret):
    """(form name, bytes) for every encoding of `secret` a report could carry: raw; hex in lower
    and upper case; base64 and base64url at each alignment in a longer stream; UTF-16LE of the
    raw text, of the hex and of the base64 forms; and the bytes read as Latin-1 and written as
    UTF-8 or as a JSON string (what a JSON writer given the bytes would print)."""
    import json
    as_text = secret.decode("latin-1")
    forms = [("raw", secret), ("hex", secret.hex().encode()), ("HEX", secret.hex().upper().encode())]
    for alphabet in ("std", "url"):
        for i, run in enumerate(_base64_runs(secret, alphabet)):
            forms.append((f"base64{'url' if alphabet == 'url' else ''}/{i}", run))
    forms += [(f"utf16le({name})", form.decode("latin-1").encode("utf-16-le")) for name, form in list(forms)]
    forms += [("latin1-as-utf8", as_text.encode("utf-8")),
              ("json-string", json.dumps(as_text, ensure_ascii=False)[1:-1].encode("utf-8")),
              ("json-string-ascii", json.dumps(as_text)[1:-1].encode())]
    return [(name, form) for name, form in forms if len(form) >= MIN_FORM]


def _named(items, prefix):
    if isinstance(items, dict):
        return list(items.items())
    return [(f"{prefix} {i}", item) for i, item in enumerate(items)]


def _as_bytes(value):
    return value.encode() if isinstance(value, str) else bytes(value)


def search_forms(secret, piece_forms=True):
    """[(form name, bytes)]: leak_forms() of the whole secret and of each LEAK_PIECE-byte piece
    of it (starting every LEAK_PIECE // 2 bytes), so that part of a secret is found too. With
    piece_forms False, the pieces are taken raw only (what a partly overwritten copy in a dump
    would leave), which costs twenty times fewer searches."""
    secret = _as_bytes(secret)
    if len(secret) < MIN_FORM:
        raise AssertionError(f"a {len(secret)}-byte secret is too short to search for")
    pieces = [("whole", secret)]
    if len(secret) > LEAK_PIECE:
        pieces += [(f"bytes {at}..{at + LEAK_PIECE}", secret[at:at + LEAK_PIECE])
                   for at in range(0, len(secret) - LEAK_PIECE + 1, LEAK_PIECE // 2)]
    return [(f"{piece_name}, as {form_name}", form) for piece_name, piece in pieces
            for form_name, form in (leak_forms(piece) if piece_forms or piece is secret else [("raw", piece)])]


def find_secrets(data, secrets, windows=None):
    """[(secret name, form name, offset)]: the first place each search_forms() form of each
    secret (whole in every encoding, pieces raw) occurs in data. With windows ([(offset, size)]), only the raw whole secret is
    sought in all of data, and the other forms in the windows (for dumps too large to search
    thousands of times: the caller proves the rest of the data unchanged)."""
    hits = []
    for secret_name, secret in _named(secrets, "secret"):
        for form_name, form in search_forms(secret, piece_forms=False):
            spans = [(0, len(data))]
            if windows is not None and form_name != "whole, as raw":
                spans = windows
            for start, size in spans:
                at = data.find(form, start, start + size)
                if at >= 0:
                    hits.append((secret_name, form_name, at))
                    break
    return hits


def assert_no_secret(outputs, secrets):
    """Fails when any output holds any secret, or any LEAK_PIECE-byte piece of one, in any form
    of leak_forms(). outputs and secrets: dicts of name -> bytes (str is UTF-8 encoded), or
    lists. The failure names the secret, the form and the output, never the bytes."""
    outs = [(name, _as_bytes(data)) for name, data in _named(outputs, "output")]
    for secret_name, secret in _named(secrets, "secret"):
        try:
            forms = search_forms(secret)
        except AssertionError as e:
            raise AssertionError(f"{secret_name}: {e}") from None
        for form_name, form in forms:
            for out_name, data in outs:
                if form in data:
                    raise AssertionError(f"{secret_name} ({form_name}) appears in {out_name}")


NGINX_CONFIG = """
daemon off;
master_process on;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 16; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
  uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
  server {{
    {listen}
    location / {{ return 200 "ok"; }}
  }}
}}
"""


def wait_for_port(port, timeout=30):
    import socket
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def stop_by_pid(proc, timeout=15):
    """Stops a server a test started, by its PID: SIGTERM, then SIGKILL if it lingers."""
    import signal
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)


def text_of(path):
    """A log file's text, or "" when there is none."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def dump_nginx(directory, server_lines, env=None):
    """Starts nginx (master and one worker) in `directory` with `server_lines` ("{port}" is
    replaced by a free port) in its one server block, waits until it listens, dumps master and
    workers with gcore and stops them; returns the cores' paths."""
    import shutil
    os.makedirs(os.path.join(directory, "tmp"), exist_ok=True)
    port = free_port()
    with open(os.path.join(directory, "nginx.conf"), "w") as f:
        f.write(NGINX_CONFIG.format(d=directory, listen=server_lines.format(port=port)))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    master = subprocess.Popen([nginx, "-c", os.path.join(directory, "nginx.conf"), "-p", directory], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        workers = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True).stdout.split()
        return [gcore(int(pid), directory) for pid in [master.pid] + [int(w) for w in workers]]
    finally:
        master.kill()
        master.wait()
        subprocess.run(["pkill", "-KILL", "-P", str(master.pid)], capture_output=True)


# --- The kernel's core_pattern, shared by the whole machine ----------------------------------
# Tests that set core_pattern hold CORE_PATTERN_LOCK exclusively, and tests that let the kernel
# write a core file hold it shared, so that no core of theirs goes to another test's handler.
# The value found is written to CORE_PATTERN_SAVED before anything is changed: a holder killed
# before it could restore (SIGKILL, a ctest timeout) is undone by the next one to take the lock.
CORE_PATTERN_LOCK = "/tmp/dumpguard-tests-core-pattern.lock"
CORE_PATTERN_SAVED = "/tmp/dumpguard-tests-core-pattern.saved"
PROC_KERNEL = "/proc/sys/kernel"


def _read_sysctl(name):
    with open(os.path.join(PROC_KERNEL, name)) as f:
        return f.read().rstrip("\n")


def _write_sysctl(name, value):
    fd = os.open(os.path.join(PROC_KERNEL, name), os.O_WRONLY)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


class CorePatternGuard:
    """Holds the core_pattern lock; with exclusive=True, saves core_pattern and core_pipe_limit
    and restores them on release, at exit and on SIGTERM, SIGINT and SIGHUP."""

    def __init__(self, exclusive=True):
        import fcntl
        self.exclusive = exclusive
        self.saved = None
        self._fd = os.open(CORE_PATTERN_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        self._undo_stale()
        if not exclusive:
            return
        self.saved = {"core_pattern": _read_sysctl("core_pattern"), "core_pipe_limit": _read_sysctl("core_pipe_limit")}
        try:
            # Writable at all? The same value back changes nothing.
            _write_sysctl("core_pattern", self.saved["core_pattern"])
        except OSError as e:
            self.release()
            raise unittest.SkipTest(f"core_pattern cannot be written here ({e.strerror}): the kernel's pipe to "
                                    "the core handler cannot be tested") from None
        with open(CORE_PATTERN_SAVED + ".new", "w") as f:
            json.dump(self.saved, f)
        os.rename(CORE_PATTERN_SAVED + ".new", CORE_PATTERN_SAVED)
        import atexit
        import signal
        atexit.register(self.release)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _undo_stale(self):
        if os.path.exists(CORE_PATTERN_SAVED):
            with open(CORE_PATTERN_SAVED) as f:
                stale = json.load(f)
            _write_sysctl("core_pipe_limit", stale["core_pipe_limit"])
            _write_sysctl("core_pattern", stale["core_pattern"])
            os.unlink(CORE_PATTERN_SAVED)

    def _on_signal(self, sig, frame):
        self.release()
        raise SystemExit(128 + sig)

    def set(self, pattern, pipe_limit=None):
        if pipe_limit is not None:
            _write_sysctl("core_pipe_limit", str(pipe_limit))
        _write_sysctl("core_pattern", pattern)

    def release(self):
        if self._fd is None:
            return
        import fcntl
        if self.saved is not None:
            _write_sysctl("core_pipe_limit", self.saved["core_pipe_limit"])
            _write_sysctl("core_pattern", self.saved["core_pattern"])
            if os.path.exists(CORE_PATTERN_SAVED):
                os.unlink(CORE_PATTERN_SAVED)
            self.saved = None
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def left_after_redaction(core_path, input_bytes, output_bytes, spans):
    """Self-consistency of a redaction: what the scan found in the input is gone from the output.
    `spans` are the input's findings or the redact report's spans ({file_offset, length, kind}):
    the bytes of each (8 bytes or more, 4 distinct or more) may occur nowhere in the output, and
    neither may any AES key that `aeskeyfind -t 0` sees in the input (the raw key a schedule
    expands from, wherever else the process keeps it). Returns what is left, as descriptions."""
    left = set()
    if not isinstance(output_bytes, Haystack):
        output_bytes = Haystack(output_bytes)
    for s in spans:
        piece = input_bytes[s["file_offset"]:s["file_offset"] + s["length"]]
        if len(piece) >= 8 and len(set(piece)) >= 4 and piece in output_bytes:
            left.add(f"{s['kind']} at {s['file_offset']:#x}")
    # The raw keys are sought only when the scan found a schedule: with none, there is no AES
    # key the scan knows of (aeskeyfind's own hits are the AES tests' business).
    if not any(s["kind"].startswith("aes") for s in spans):
        return sorted(left)
    out = subprocess.run(["aeskeyfind", "-q", "-t", "0", core_path], capture_output=True, text=True,
                         timeout=900).stdout
    for key in out.split():
        if bytes.fromhex(key) in output_bytes:
            left.add(f"an AES-{4 * len(key)} key aeskeyfind found in the input")
    return sorted(left)
