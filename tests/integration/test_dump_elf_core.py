"""The ELF core reader on real cores that gcore writes at test time.

Every expected value comes from an independent source: /proc of the live process, gdb on
the core, eu-readelf's program headers and notes, and the core's bytes read here directly.
Marker and key bytes are never printed; failures name offsets and addresses only.
"""
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

# gdb must not reach for debuginfod servers: it would be slow, and the answer is in the core.
TOOL_ENV = {k: v for k, v in os.environ.items() if k != "DEBUGINFOD_URLS"}


def tool(*argv):
    return subprocess.run(argv, capture_output=True, text=True, check=True, timeout=300,
                          env=TOOL_ENV).stdout


def eu_readelf_loads(core):
    """[(offset, filesz, vaddr, memsz)] of every PT_LOAD, from `eu-readelf -l`."""
    loads = []
    for line in tool("eu-readelf", "-l", core).splitlines():
        f = line.split()
        if f and f[0] == "LOAD":
            loads.append((int(f[1], 16), int(f[4], 16), int(f[2], 16), int(f[5], 16)))
    return loads


def eu_readelf_nt_file(core):
    """[(start, end, path)] of the NT_FILE note, from `eu-readelf -n`."""
    out = tool("eu-readelf", "-n", core)
    mappings = []
    pattern = re.compile(r"^\s+([0-9a-f]+)-([0-9a-f]+)\s+[0-9a-f]+\s+\d+\s+(\S.*)$")
    for line in out.splitlines():
        m = pattern.match(line)
        if m:
            mappings.append((int(m.group(1), 16), int(m.group(2), 16), m.group(3)))
    return mappings


def gdb_threads(program, core):
    """{lwp: sp} from gdb on the core (`thread apply all p/x $sp`)."""
    out = tool("gdb", "-batch", "-nx", "-ex", "thread apply all p/x $sp", program, core)
    found = re.findall(r"^Thread \d+ \(.*?LWP (\d+)\)\)?:\s*\n\$\d+ = (0x[0-9a-f]+)", out, re.M)
    return {int(lwp): int(sp, 16) for lwp, sp in found}


def gdb_thread_count(program, core):
    out = tool("gdb", "-batch", "-nx", "-ex", "info threads", program, core)
    return len(set(re.findall(r"^\*?\s+\d+\s+.*?LWP (\d+)", out, re.M)))


def region_end(region):
    return region["vaddr"] + max(region["size"], region["memory_size"] or 0)


def region_holding(info, address):
    for index, r in enumerate(info["regions"]):
        if r["vaddr"] is not None and r["vaddr"] <= address < region_end(r):
            return index, r
    return None, None


def fingerprint(data):
    return hashlib.sha256(data).hexdigest()[:16]


def truncated_copy(core, size, directory, name):
    path = os.path.join(directory, name)
    with open(core, "rb") as src, open(path, "wb") as dst:
        remaining = size
        while remaining > 0:
            chunk = src.read(min(remaining, 1 << 20))
            if not chunk:
                break
            dst.write(chunk)
            remaining -= len(chunk)
    return path


class MarkerThreadsCore(unittest.TestCase):
    """marker_threads (4 threads, a random heap marker), dumped once with gcore."""

    @classmethod
    def setUpClass(cls):
        if not dgtest.DUMPGUARD or not os.path.exists(dgtest.DUMPGUARD):
            raise unittest.SkipTest("DUMPGUARD is not set to the built CLI")
        for needed in ("gcore", "gdb", "eu-readelf"):
            if shutil.which(needed) is None:
                raise unittest.SkipTest(f"{needed} is not installed")
        cls._tmp = tempfile.TemporaryDirectory(prefix="dg-elf-")
        cls.addClassCleanup(cls._tmp.cleanup)
        cls.program = os.path.join(dgtest.PROGRAMS, "marker_threads")
        cls.process = dgtest.LiveProcess([cls.program], ready_word="ready")
        cls.addClassCleanup(cls.process.stop)
        _, pid, address, marker_hex = cls.process.lines[-1].split()
        assert int(pid) == cls.process.pid
        cls.marker_address = int(address, 16)
        cls.marker = bytes.fromhex(marker_hex)
        # Thread ids from the live process, before dumping: an independent source.
        cls.live_tids = {int(t) for t in os.listdir(f"/proc/{cls.process.pid}/task")}
        cls.exe = os.path.realpath(f"/proc/{cls.process.pid}/exe")
        cls.core = dgtest.gcore(cls.process.pid, cls._tmp.name)
        cls.info = dgtest.info_json(cls.core)

    def test_format_and_completeness(self):
        self.assertEqual(self.info["format"], "elf-core")
        self.assertEqual(self.info["arch"], "x86_64")
        self.assertTrue(self.info["complete"])
        self.assertEqual(self.info["warnings"], [])

    def test_threads_match_proc_and_gdb(self):
        tids = {t["tid"] for t in self.info["threads"]}
        self.assertEqual(len(self.info["threads"]), 4)
        self.assertEqual(tids, self.live_tids)
        self.assertEqual(gdb_thread_count(self.program, self.core), 4)
        gdb_sp = gdb_threads(self.program, self.core)
        self.assertEqual(set(gdb_sp), tids)
        for t in self.info["threads"]:
            with self.subTest(tid=t["tid"]):
                self.assertEqual(t["sp"], gdb_sp[t["tid"]])
                self.assertIsNotNone(t["stack_region"])
                stack = self.info["regions"][t["stack_region"]]
                self.assertEqual(stack["kind"], "stack")
                self.assertEqual(stack["owner"].get("tid"), t["tid"])
                self.assertTrue(stack["vaddr"] <= t["sp"] < region_end(stack))
                context = self.info["regions"][t["context_region"]]
                self.assertEqual(context["owner"].get("name"), "NT_PRSTATUS")
                self.assertEqual(context["owner"].get("tid"), t["tid"])
                self.assertIsNone(context["vaddr"])

    def test_loads_match_eu_readelf(self):
        loads = eu_readelf_loads(self.core)
        memory = [r for r in self.info["regions"] if r["vaddr"] is not None]
        self.assertEqual(sum(r["size"] for r in memory), sum(l[1] for l in loads))
        expected = {(off, size, vaddr) for off, size, vaddr, _ in loads if size > 0}
        self.assertEqual({(r["file_offset"], r["size"], r["vaddr"]) for r in memory}, expected)
        for r in memory:
            self.assertIn(r["perms"], {"r--", "rw-", "r-x", "rwx", "---", "-w-", "--x", "-wx"})

    def test_file_mappings_match_eu_readelf_notes(self):
        mappings = eu_readelf_nt_file(self.core)
        self.assertTrue(mappings, "eu-readelf found no NT_FILE entries")
        paths = {p for _, _, p in mappings}
        self.assertIn(self.exe, paths)
        # Each memory region overlapping an NT_FILE mapping carries that path, and only those.
        for r in self.info["regions"]:
            if r["vaddr"] is None:
                continue
            hits = {p for s, e, p in mappings if s < region_end(r) and r["vaddr"] < e}
            with self.subTest(vaddr=hex(r["vaddr"])):
                if hits:
                    self.assertIn(r["kind"], {"module", "file-mapping", "stack"})
                    self.assertIn(r["owner"].get("path"), hits)
                else:
                    self.assertIn(r["kind"], {"heap", "anon", "stack"})
                    self.assertFalse(r["owner"].get("path"))
        # Modules: every path among them is an NT_FILE path, spanning its mappings.
        for module in self.info["modules"]:
            spans = [(s, e) for s, e, p in mappings if p == module["path"]]
            self.assertTrue(spans, module["path"])
            self.assertEqual(module["base"], min(s for s, _ in spans))
            self.assertEqual(module["base"] + module["size"], max(e for _, e in spans))

    def test_modules_include_the_executable_and_libraries(self):
        module_paths = {m["path"] for m in self.info["modules"]}
        self.assertIn(self.exe, module_paths)
        self.assertTrue(any("libcrypto.so" in p for p in module_paths))
        self.assertTrue(any(os.path.basename(p).startswith("libc.so") for p in module_paths))
        # Locale archives and other data files are mappings, not modules.
        self.assertFalse(any("/locale/" in p for p in module_paths))

    def test_marker_bytes_at_the_mapped_offset(self):
        index, region = region_holding(self.info, self.marker_address)
        self.assertIsNotNone(region, f"no region holds {self.marker_address:#x}")
        self.assertEqual(region["kind"], "heap")
        into = self.marker_address - region["vaddr"]
        self.assertLessEqual(into + 32, region["size"])
        offset = region["file_offset"] + into
        # The same offset from eu-readelf's program headers, not from dumpguard.
        loads = [l for l in eu_readelf_loads(self.core) if l[2] <= self.marker_address < l[2] + l[1]]
        self.assertEqual(len(loads), 1)
        self.assertEqual(loads[0][0] + self.marker_address - loads[0][2], offset)
        with open(self.core, "rb") as f:
            f.seek(offset)
            found = f.read(32)
        self.assertTrue(found == self.marker,
                        f"bytes at {offset:#x} (fingerprint {fingerprint(found)}) are not the "
                        f"marker (fingerprint {fingerprint(self.marker)})")

    def test_every_byte_is_a_region_or_unaccounted(self):
        size = os.path.getsize(self.core)
        spans = sorted([(r["file_offset"], r["file_offset"] + r["size"]) for r in self.info["regions"]] +
                       [(g["file_offset"], g["file_offset"] + g["size"]) for g in self.info["unaccounted"]])
        covered = 0
        for begin, end in spans:
            self.assertLessEqual(begin, covered, f"bytes {covered:#x}..{begin:#x} are unaccounted for")
            covered = max(covered, end)
        self.assertEqual(covered, size)
        names = {r["owner"].get("name") for r in self.info["regions"] if r["kind"] == "metadata"}
        for expected in ("ELF header", "program headers", "NT_PRSTATUS", "NT_FPREGSET",
                         "NT_X86_XSTATE", "NT_PRPSINFO", "NT_AUXV", "NT_FILE", "section headers"):
            self.assertIn(expected, names)

    def test_truncated_in_last_load(self):
        loads = [l for l in eu_readelf_loads(self.core) if l[1] > 0]
        last = max(loads, key=lambda l: l[0] + l[1])
        cut = last[0] + last[1] // 2
        path = truncated_copy(self.core, cut, self._tmp.name, "cut-load.core")
        try:
            code, out, err = dgtest.run_dumpguard("info", "--json", path)
            self.assertEqual(code, 0, err.decode(errors="replace"))
            info = json.loads(out)
            self.assertFalse(info["complete"])
            self.assertTrue(info["warnings"])
            self.assertIn(last[0], {w["file_offset"] for w in info["warnings"]})
            for r in info["regions"]:
                self.assertLessEqual(r["file_offset"] + r["size"], cut)
            clipped = [r for r in info["regions"] if r["vaddr"] == last[2]]
            self.assertEqual(len(clipped), 1)
            self.assertEqual(clipped[0]["size"], cut - last[0])
        finally:
            os.unlink(path)

    def test_truncated_in_program_headers_is_fatal(self):
        phoff = 64  # e_phoff of every gcore and kernel core: right after the ELF64 header
        path = truncated_copy(self.core, phoff + 3 * 56 + 7, self._tmp.name, "cut-phdrs.core")
        code, out, err = dgtest.run_dumpguard("info", "--json", path)
        self.assertEqual(code, 2)
        lines = err.decode(errors="replace").strip().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r"^dumpguard: .*cut-phdrs\.core: offset 0x[0-9a-f]+: ")
        self.assertIn("offset 0x40:", lines[0])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OpensslServerCore(dgtest.DumpTestCase):
    """`openssl s_server` holding a key generated here, dumped with gcore."""

    def setUp(self):
        super().setUp()
        for needed in ("gcore", "gdb", "eu-readelf", "openssl"):
            if shutil.which(needed) is None:
                self.skipTest(f"{needed} is not installed")
        key = os.path.join(self.tmp, "key.pem")
        cert = os.path.join(self.tmp, "cert.pem")
        tool("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key)
        tool("openssl", "req", "-x509", "-new", "-key", key, "-subj", "/CN=dumpguard-test",
             "-days", "1", "-out", cert)
        self.port = free_port()
        self.server = subprocess.Popen(
            ["openssl", "s_server", "-accept", f"127.0.0.1:{self.port}", "-key", key, "-cert", cert,
             "-www", "-quiet"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(self.stop_server)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            self.fail("openssl s_server did not start listening")

    def stop_server(self):
        if self.server.poll() is None:
            self.server.kill()
        self.server.wait(timeout=30)
        self.server.stdin.close()

    def test_openssl_server_core(self):
        core = dgtest.gcore(self.server.pid, self.tmp)
        info = dgtest.info_json(core)
        self.assertEqual(info["format"], "elf-core")
        self.assertTrue(info["complete"])
        self.assertEqual(info["warnings"], [])
        program = shutil.which("openssl")
        self.assertEqual(len(info["threads"]), gdb_thread_count(program, core))
        for t in info["threads"]:
            self.assertIsNotNone(t["stack_region"])
        names = [os.path.basename(m["path"]) for m in info["modules"]]
        self.assertTrue(any(n.startswith("libssl.so") for n in names), names)
        self.assertTrue(any(n.startswith("libcrypto.so") for n in names), names)
        self.assertIn(os.path.realpath(program), {m["path"] for m in info["modules"]})
        loads = eu_readelf_loads(core)
        memory = [r for r in info["regions"] if r["vaddr"] is not None]
        self.assertEqual(sum(r["size"] for r in memory), sum(l[1] for l in loads))
        self.assertEqual(len(memory), len([l for l in loads if l[1] > 0]))


AARCH64_PROGRAM = r"""
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
static void* idle(void* arg) { (void)arg; for (;;) pause(); return 0; }
int main(void) {
  pthread_t t;
  pthread_create(&t, 0, idle, 0);
  char* heap = malloc(4096);
  memset(heap, 0x5a, 4096);
  usleep(100000);
  abort();
}
"""


class Aarch64QemuCore(unittest.TestCase):
    """A real aarch64 core: qemu-aarch64 writes one for an aborting guest (gdb cannot gcore a
    foreign architecture here, and the kernel writes none without such a machine)."""

    def setUp(self):
        self.cc = shutil.which("aarch64-linux-gnu-gcc")
        self.qemu = shutil.which("qemu-aarch64") or shutil.which("qemu-aarch64-static")
        if not self.cc or not self.qemu or not dgtest.DUMPGUARD:
            self.skipTest("needs aarch64-linux-gnu-gcc and qemu-aarch64 (packages "
                          "gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, qemu-user)")
        self._tmp = tempfile.TemporaryDirectory(prefix="dg-a64-")
        self.addCleanup(self._tmp.cleanup)
        self.tmp = self._tmp.name

    def test_qemu_aarch64_core(self):
        source = os.path.join(self.tmp, "a64.c")
        with open(source, "w") as f:
            f.write(AARCH64_PROGRAM)
        program = os.path.join(self.tmp, "a64")
        subprocess.run([self.cc, "-static", "-O1", "-pthread", "-o", program, source],
                       check=True, capture_output=True, timeout=300)
        # qemu then aborts itself, and the kernel writes its host core: the core_pattern lock is
        # held shared meanwhile, so that core never reaches the handler another test installed.
        guard = dgtest.CorePatternGuard(exclusive=False)
        try:
            subprocess.run(["bash", "-c", f"ulimit -c unlimited; ulimit -f {dgtest.CORE_LIMIT_BLOCKS}; "
                            f"exec {self.qemu} {program}"],
                           cwd=self.tmp, capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
        finally:
            guard.release()
        # qemu also lets the host dump its own x86-64 `core`: not ours, and large.
        host_core = os.path.join(self.tmp, "core")
        if os.path.exists(host_core):
            os.unlink(host_core)
        cores = [f for f in os.listdir(self.tmp) if f.startswith("qemu_") and f.endswith(".core")]
        if not cores:
            self.skipTest("qemu wrote no guest core")
        core = os.path.join(self.tmp, cores[0])
        info = dgtest.info_json(core)
        self.assertEqual(info["arch"], "aarch64")
        self.assertTrue(info["complete"], info["warnings"])
        loads = eu_readelf_loads(core)
        memory = [r for r in info["regions"] if r["vaddr"] is not None]
        self.assertEqual(sum(r["size"] for r in memory), sum(l[1] for l in loads))
        # Thread ids and stack pointers from eu-readelf's decoding of each NT_PRSTATUS
        # (PRPSINFO's "pid:" follows "uid:" on its line, so it does not match).
        notes = tool("eu-readelf", "-n", core)
        pids = [int(p) for p in re.findall(r"^\s+pid: (\d+),", notes, re.M)]
        sps = [int(s, 16) for s in re.findall(r"\bsp:\s+0x([0-9a-f]+)", notes)]
        self.assertGreaterEqual(len(pids), 2, "the guest has two threads")
        self.assertEqual([t["tid"] for t in info["threads"]], pids)
        self.assertEqual([t["sp"] for t in info["threads"]], sps)
        for t in info["threads"]:
            self.assertIsNotNone(t["stack_region"], f"tid {t['tid']} sp {t['sp']:#x}")
            stack = info["regions"][t["stack_region"]]
            self.assertEqual(stack["kind"], "stack")
            self.assertTrue(stack["vaddr"] <= t["sp"] < region_end(stack))

if __name__ == "__main__":
    unittest.main()
