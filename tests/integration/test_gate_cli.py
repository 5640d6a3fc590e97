"""`dumpguard gate` without a live process, so it runs in the sanitizer build too. The one real
dump here is the test corpus minidump that holds no key (released as is); the rest is hostile
or broken input the test makes: a symlink and a hard link to a file outside the inbox, a FIFO, a
device node, a socket, a directory; garbage, an empty file and a truncated minidump. The checks
are the test's own: what sits where, with which mode, and what the audit log (parsed here) says.
The gate on real gcore dumps with keys (several gates, the kill -9 loop, policy) is in
test_dump_gate.py."""
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
import gatetest  # noqa: E402

CORPUS = dgtest.MINIDUMPS
CLEAN_DUMP = os.path.join(CORPUS, "fullmem-normal.dmp")


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


class GateCli(dgtest.DumpTestCase):
    def setUp(self):
        super().setUp()
        # The built-in text rules only in the test that releases a dump with the defaults.
        defaults = self._testMethodName == "test_hostile_entries_are_refused_unopened"
        self.g = gatetest.GateDirs(os.path.join(self.tmp, "gate"), text_rules=defaults)

    def events(self, event, dump=None):
        return [r for r in self.g.records() if r["event"] == event and (dump is None or r["data"].get("dump") == dump)]

    def test_hostile_entries_are_refused_unopened(self):
        outside = os.path.join(self.tmp, "outside")
        os.makedirs(outside)
        secret = os.path.join(outside, "secret.pem")
        content = b"-----BEGIN PRIVATE KEY-----\n" + os.urandom(48).hex().encode() + b"\n-----END PRIVATE KEY-----\n"
        with open(secret, "wb") as f:
            f.write(content)
        os.chmod(secret, 0o640)
        before = os.stat(secret)
        inbox = self.g.inbox
        os.symlink(secret, os.path.join(inbox, "symlink.core"))
        os.symlink(outside, os.path.join(inbox, "symlink-dir"))
        os.link(secret, os.path.join(inbox, "hardlink.core"))
        os.mkfifo(os.path.join(inbox, "fifo.core"))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(os.path.join(inbox, "socket.core"))
        self.addCleanup(sock.close)
        os.makedirs(os.path.join(inbox, "directory", "inner"))
        hostile = {"symlink.core": "a symbolic link", "symlink-dir": "a symbolic link", "hardlink.core": "2 hard links",
                   "fifo.core": "a FIFO", "socket.core": "a socket", "directory": "a directory"}
        if os.geteuid() == 0:
            os.mknod(os.path.join(inbox, "device.core"), 0o600 | stat.S_IFCHR, os.makedev(1, 3))
            hostile["device.core"] = "a character device"
        bad_name = os.path.join(inbox.encode(), b"bad\x01name\xff")
        with open(bad_name, "wb") as f:
            f.write(b"x")
        self.g.deliver(CLEAN_DUMP, "good.dmp")

        code, err = self.g.run_once(timeout=120)  # a FIFO opened for reading would hang it
        self.assertEqual(code, 0, err)
        self.assertEqual(self.g.released(), ["good.dmp"])
        self.assertEqual(self.g.quarantined(), [])
        self.assertEqual(self.g.inbox_entries(), [], "every entry was taken or set aside")
        refused = self.events("refused")
        why = {r["data"]["dump"]: r["data"]["why"] for r in refused}
        for name, expected in hostile.items():
            self.assertIn(name, why, err)
            self.assertTrue(why[name].startswith(expected), why[name])
            moved = os.path.join(self.g.work, "refused", name)
            self.assertTrue(os.path.lexists(moved), f"{name} was not set aside")
        self.assertIn("bad\\x01name\\xff", why, "an unprintable name is recorded escaped")
        # Set aside as they were: nothing was opened or followed.
        refused_dir = os.path.join(self.g.work, "refused")
        self.assertEqual(os.readlink(os.path.join(refused_dir, "symlink.core")), secret)
        self.assertTrue(stat.S_ISFIFO(os.lstat(os.path.join(refused_dir, "fifo.core")).st_mode))
        self.assertEqual(os.lstat(os.path.join(refused_dir, "hardlink.core")).st_ino, before.st_ino)
        # Nothing outside the inbox was read or changed.
        after = os.stat(secret)
        with open(secret, "rb") as f:
            self.assertEqual(f.read(), content)
        self.assertEqual((after.st_mode, after.st_size, after.st_mtime_ns, after.st_uid),
                         (before.st_mode, before.st_size, before.st_mtime_ns, before.st_uid))
        self.assertEqual(os.listdir(outside), ["secret.pem"])
        with open(self.g.audit, "rb") as f:
            log = f.read()
        self.assertNotIn(gatetest.sha256_of(secret).encode(), log, "the outside file was hashed: it was read")
        self.assertNotIn(content[28:60], log)
        for name in self.g.released():
            with open(os.path.join(self.g.release, name), "rb") as f:
                self.assertNotIn(content[28:60], f.read())
        self.assertEqual(len(self.events("received")), 1, "only the good dump was received")
        code, out, err2 = self.g.verify()
        self.assertEqual(code, 0, out + err2)

    def test_broken_dumps_go_to_quarantine_with_the_reason(self):
        with open(os.path.join(self.g.inbox, "garbage.core"), "wb") as f:
            f.write(os.urandom(65536))
        open(os.path.join(self.g.inbox, "empty.core"), "wb").close()
        with open(CLEAN_DUMP, "rb") as f:
            whole = f.read()
        with open(os.path.join(self.g.inbox, "truncated.dmp"), "wb") as f:
            f.write(whole[:100000])
        os.chmod(os.path.join(self.g.inbox, "truncated.dmp"), 0o644)
        originals = {n: gatetest.sha256_of(os.path.join(self.g.inbox, n)) for n in self.g.inbox_entries()}
        code, err = self.g.run_once()
        self.assertEqual(code, 0, err)
        self.assertEqual(self.g.released(), [])
        self.assertEqual(self.g.quarantined(), sorted(originals))
        expected = {"garbage.core": "parse-error", "empty.core": "parse-error", "truncated.dmp": "partial-parse"}
        for name, reason in expected.items():
            package = os.path.join(self.g.quarantine, name)
            self.assertEqual(sorted(os.listdir(package)), [name, name + ".reason.json"])
            kept = os.path.join(package, name)
            self.assertEqual(gatetest.sha256_of(kept), originals[name], "the original is kept as it was")
            self.assertEqual(mode(kept), 0o600)
            r = self.g.reason(name)
            self.assertEqual(r["schema"], "dumpguard-quarantine/1")
            self.assertEqual(r["reason"], reason, r)
            self.assertEqual(r["input"]["sha256"], originals[name])
            self.assertTrue(r["message"])
            self.assertIsInstance(r["offsets"], list)
            [q] = self.events("quarantined", name)
            self.assertEqual(q["data"]["reason"], reason)
            self.assertEqual(q["data"]["target"], package)
        r = self.g.reason("truncated.dmp")
        self.assertIn("outside the file", r["message"])
        self.assertGreater(len(r["offsets"]), 0, "each problem's offset is given")
        self.assertIn("unknown format", self.g.reason("garbage.core")["message"])
        code, out, err = self.g.verify()
        self.assertEqual(code, 0, out + err)

    def test_modes_are_0700_and_0600_whatever_the_umask(self):
        self.g.deliver(CLEAN_DUMP, "good.dmp")
        with open(os.path.join(self.g.inbox, "garbage.core"), "wb") as f:
            f.write(os.urandom(4096))
        proc = subprocess.run([dgtest.DUMPGUARD, *self.g.args("--once")], capture_output=True, timeout=300,
                              preexec_fn=lambda: os.umask(0))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        dirs = [self.g.release, self.g.quarantine, self.g.work, os.path.join(self.g.quarantine, "garbage.core")]
        files = [os.path.join(self.g.release, "good.dmp"), self.g.audit, self.g.audit + ".checkpoint",
                 os.path.join(self.g.quarantine, "garbage.core", "garbage.core"),
                 os.path.join(self.g.quarantine, "garbage.core", "garbage.core.reason.json")]
        for root, subdirs, names in os.walk(self.g.work):
            dirs += [os.path.join(root, d) for d in subdirs]
            files += [os.path.join(root, n) for n in names]
        self.assertGreater(len(files), 6)
        for d in dirs:
            self.assertEqual(mode(d), 0o700, d)
        for f in files:
            self.assertEqual(mode(f), 0o600, f)
        # An existing release directory open to others is made private.
        self.g.deliver(CLEAN_DUMP, "second.dmp")
        os.chmod(self.g.release, 0o755)
        code, err = self.g.run_once()
        self.assertEqual(code, 0, err)
        self.assertEqual(mode(self.g.release), 0o700)

    def test_release_on_another_file_system_is_copied_then_renamed(self):
        shm = "/dev/shm"
        if not os.path.isdir(shm) or os.stat(shm).st_dev == os.stat(self.tmp).st_dev:
            self.skipTest("no second file system at /dev/shm")
        release = os.path.join(shm, os.path.basename(self.tmp) + "-release")
        self.addCleanup(shutil.rmtree, release, True)
        g = gatetest.GateDirs(os.path.join(self.tmp, "other"), release=release, text_rules=False)
        g.deliver(CLEAN_DUMP, "good.dmp")
        code, err = g.run_once()
        self.assertEqual(code, 0, err)
        self.assertEqual(os.listdir(release), ["good.dmp"], "no temporary file is left")
        self.assertEqual(mode(os.path.join(release, "good.dmp")), 0o600)
        [r] = [x for x in g.records() if x["event"] == "released"]
        self.assertEqual(r["data"]["output"]["sha256"], gatetest.sha256_of(os.path.join(release, "good.dmp")))

    def test_policy_on_size_and_format(self):
        config = os.path.join(self.tmp, "gate.toml")
        with open(config, "w") as f:
            f.write('[gate]\nformats = ["elf-core"]\n')
        self.g.deliver(CLEAN_DUMP, "minidump.dmp")
        code, err = self.g.run_once("--config", config)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.g.reason("minidump.dmp")["reason"], "format")
        with open(config, "w") as f:
            f.write('[gate]\nmax-size = 1024\n')
        self.g.deliver(CLEAN_DUMP, "big.dmp")
        code, err = self.g.run_once("--config", config)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.g.reason("big.dmp")["reason"], "too-large")
        self.assertEqual(self.g.released(), [])

    def test_a_bad_config_stops_the_gate_before_it_takes_anything(self):
        self.g.deliver(CLEAN_DUMP, "good.dmp")
        config = os.path.join(self.tmp, "gate.toml")
        for text in ('[gate]\nformats = ["raw"]\n', '[gate]\ndrop = ["nonsense"]\n',
                     '[gate.actions]\n"rsa-prime" = "shred"\n', '[gate]\ninbox = "/x"\n'):
            with open(config, "w") as f:
                f.write(text)
            code, err = self.g.run_once("--config", config)
            self.assertEqual(code, 2, text)
            self.assertIn("gate.toml", err)
            self.assertEqual(self.g.inbox_entries(), ["good.dmp"])
            self.assertFalse(os.path.exists(self.g.audit), "nothing was recorded: nothing happened")

    def test_an_audit_log_that_cannot_be_written_stops_the_gate(self):
        gate = self.g.start()
        self.addCleanup(gatetest.kill9, gate)
        self.g.deliver(CLEAN_DUMP, "first.dmp")
        self.assertTrue(gatetest.wait_until(lambda: self.g.released() == ["first.dmp"], timeout=120))
        if subprocess.run(["chattr", "+i", self.g.audit], capture_output=True).returncode != 0:
            self.skipTest("chattr +i is not available here")
        self.addCleanup(subprocess.run, ["chattr", "-i", self.g.audit], capture_output=True)
        self.g.deliver(CLEAN_DUMP, "second.dmp")
        try:
            gate.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.fail("the gate went on without its audit log")
        err = gate.stderr.read().decode(errors="replace")
        self.assertEqual(gate.returncode, 2, err)
        self.assertIn("audit log", err)
        self.assertEqual(self.g.released(), ["first.dmp"], "nothing is released unaudited")
        self.assertEqual(self.g.claims(), ["second.dmp"], "the dump waits in the claim for the restart")
        subprocess.run(["chattr", "-i", self.g.audit], check=True)
        code, err = self.g.run_once()
        self.assertEqual(code, 0, err)
        self.assertEqual(self.g.released(), ["first.dmp", "second.dmp"])
        code, out, err = self.g.verify()
        self.assertEqual(code, 0, out + err)

    def test_a_log_cut_short_since_its_checkpoint_is_not_continued(self):
        self.g.deliver(CLEAN_DUMP, "good.dmp")
        code, err = self.g.run_once()
        self.assertEqual(code, 0, err)
        with open(self.g.audit, "rb") as f:
            lines = f.read().splitlines(keepends=True)
        with open(self.g.audit, "wb") as f:
            f.write(b"".join(lines[:-2]))  # two records cut from the end
        self.g.deliver(CLEAN_DUMP, "next.dmp")
        code, err = self.g.run_once()
        self.assertEqual(code, 2, err)
        self.assertIn("checkpoint", err)
        self.assertEqual(self.g.inbox_entries(), ["next.dmp"])

    def test_one_instance_number_runs_once(self):
        gate = self.g.start("--instance", "7")
        self.addCleanup(gatetest.kill9, gate)
        lease = os.path.join(self.g.work, f"{os.uname().nodename}-7", "lease")
        self.assertTrue(gatetest.wait_until(lambda: os.path.exists(lease), timeout=60))
        code, err = self.g.run_once("--instance", "7")
        self.assertEqual(code, 2)
        self.assertIn("running already", err)
        code, err = self.g.run_once("--instance", "8")
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main()
