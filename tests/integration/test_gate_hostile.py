"""`dumpguard gate` against an attacker who can write the inbox, and against faults of its own
machinery, without a live process (so it runs in the sanitizer build too). The attacker is a real
unprivileged user (`nobody`, through setpriv) acting against a gate run as root; decision files
in the work directory are forged by the test as whoever could write there would forge them. The
checks are the test's own: what sits where, and what the audit log (parsed here) says."""
import json
import os
import shutil
import stat
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
import gatetest  # noqa: E402

CORPUS = dgtest.MINIDUMPS
CLEAN_DUMP = os.path.join(CORPUS, "fullmem-normal.dmp")
NOBODY = 65534


def needs_root(test):
    """The attacker is another user (setpriv needs root to become one), and the gate runs as root."""
    return unittest.skipUnless(os.geteuid() == 0, "needs root: an unprivileged attacker against a root gate")(test)


def as_nobody(*argv):
    """Runs argv as the unprivileged user, as an inbox writer would."""
    return subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv],
                          capture_output=True, timeout=60)


class GateHostile(dgtest.DumpTestCase):
    def setUp(self):
        super().setUp()
        self.g = gatetest.GateDirs(os.path.join(self.tmp, "gate"), text_rules=False)
        self.instance = f"{os.uname().nodename}-0"

    def records(self, event=None):
        return [r for r in self.g.records() if event is None or r["event"] == event]

    def assert_refused_at_start(self, args, expected, directory_made=None, release=None, quarantine=None):
        saved = (self.g.release, self.g.quarantine)
        self.g.release, self.g.quarantine = release or saved[0], quarantine or saved[1]
        try:
            code, err = self.g.run_once(*args)
        finally:
            self.g.release, self.g.quarantine = saved
        self.assertEqual(code, 2, err)
        self.assertIn(expected, err)
        lines = [line for line in err.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, f"one line: {err}")
        self.assertFalse(os.path.exists(self.g.audit), "nothing was recorded: nothing happened")
        if directory_made:
            self.assertFalse(os.path.exists(directory_made), "made before the refusal")

    # --- release or quarantine in the inbox --------------------------------------------------

    def test_release_or_quarantine_in_the_inbox_is_refused_at_start(self):
        self.g.deliver(CLEAN_DUMP, "good.dmp")
        inbox_link = os.path.join(self.tmp, "inbox-link")
        os.symlink(self.g.inbox, inbox_link)
        cases = [
            ({"release": self.g.inbox}, "--release", None),
            ({"release": os.path.join(self.g.inbox, "released")}, "--release", os.path.join(self.g.inbox, "released")),
            ({"release": os.path.join(inbox_link, "released")}, "--release", os.path.join(self.g.inbox, "released")),
            ({"quarantine": os.path.join(self.g.inbox, "q")}, "--quarantine", os.path.join(self.g.inbox, "q")),
            ({"quarantine": self.g.release}, "overlap", None),
        ]
        for dirs, expected, made in cases:
            self.assert_refused_at_start([], expected, made, **dirs)
            self.assertEqual(self.g.inbox_entries(), ["good.dmp"], dirs)
        # Alongside the inbox, as before, all is well.
        code, err = self.g.run_once()
        self.assertEqual(code, 0, err)
        self.assertEqual(self.g.released(), ["good.dmp"])

    # --- the work directory -----------------------------------------------------------------

    @needs_root
    def test_the_work_directory_in_an_inbox_others_can_write_is_refused(self):
        os.chmod(self.tmp, 0o755)
        os.chmod(os.path.dirname(self.g.inbox), 0o755)
        os.chmod(self.g.inbox, 0o777)  # an upload directory other users write into
        self.g.deliver(CLEAN_DUMP, "good.dmp")
        # The attacker plants a work directory of their own before the gate ever runs: an
        # instance tree with a decision to publish a file of theirs, and a claim.
        planted = os.path.join(self.g.inbox, ".dumpguard-work", self.instance)
        script = (
            "import os,json,sys\n"
            "d=sys.argv[1]\n"
            "for s in ('claims','out/evil.dmp','decided'): os.makedirs(os.path.join(d,s),exist_ok=True)\n"
            "open(os.path.join(d,'out/evil.dmp/evil.dmp'),'wb').write(b'UNREDACTED')\n"
            "open(os.path.join(d,'claims/evil.dmp'),'wb').write(b'UNREDACTED')\n"
            "json.dump({'dump':'evil.dmp','outcome':'release','target':'evil.dmp','audited':True,'event':'released',"
            "'record':{}},open(os.path.join(d,'decided/evil.dmp'),'w'))\n")
        made = as_nobody("/usr/bin/python3", "-c", script, planted)
        self.assertEqual(made.returncode, 0, made.stderr)
        code, err = self.g.run_once()
        self.assertEqual(code, 2, err)
        self.assertIn("--work", err)
        self.assertEqual(self.g.released(), [], "nothing published")
        self.assertEqual(self.g.inbox_entries(), ["good.dmp"], "nothing taken")
        # With the inbox closed to others again, the planted directory is still not the gate's.
        os.chmod(self.g.inbox, 0o755)
        code, err = self.g.run_once()
        self.assertEqual(code, 2, err)
        self.assertIn(f"uid {NOBODY}", err)
        self.assertEqual(self.g.released(), [])
        # An explicit work directory that only root can write: the gate runs, and the attacker,
        # who can still write the inbox, cannot reach it.
        os.chmod(self.g.inbox, 0o777)
        work = os.path.join(self.tmp, "work")
        code, err = self.g.run_once("--work", work)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.g.released(), ["good.dmp"])
        self.assertEqual(stat.S_IMODE(os.stat(work).st_mode), 0o700)
        attempt = as_nobody("/bin/ls", os.path.join(work, self.instance))
        self.assertNotEqual(attempt.returncode, 0, "the work directory is open to others")

    def test_an_inbox_opened_to_others_while_the_gate_runs_stops_it(self):
        gate = self.g.start("--lease", "2")  # the work directory is checked again every second
        self.addCleanup(gatetest.kill9, gate)
        self.g.deliver(CLEAN_DUMP, "first.dmp")
        self.assertTrue(gatetest.wait_until(lambda: self.g.released() == ["first.dmp"], timeout=120))
        os.chmod(self.g.inbox, 0o777)
        try:
            gate.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.fail("the gate went on in a work directory others can now replace")
        err = gate.stderr.read().decode(errors="replace")
        self.assertEqual(gate.returncode, 2, err)
        self.assertIn("no longer the gate's alone", err)

    @needs_root
    def test_a_work_directory_someone_else_made_or_reached_by_a_symlink_is_refused(self):
        os.chmod(self.tmp, 0o755)
        public = os.path.join(self.tmp, "public")
        os.makedirs(public)
        os.chmod(public, 0o1777)  # sticky, as /tmp: others cannot rename what is not theirs
        self.g.deliver(CLEAN_DUMP, "good.dmp")
        # Theirs, made first in the sticky directory.
        theirs = os.path.join(public, "work")
        self.assertEqual(as_nobody("/bin/mkdir", "-m", "0700", theirs).returncode, 0)
        self.assert_refused_at_start(["--work", theirs], f"uid {NOBODY}")
        # In a directory others may write without the sticky bit.
        open_dir = os.path.join(self.tmp, "open")
        os.makedirs(open_dir)
        os.chmod(open_dir, 0o777)
        self.assert_refused_at_start(["--work", os.path.join(open_dir, "work")], "can be written by others",
                                     os.path.join(open_dir, "work"))
        # A symbolic link on the way.
        real = os.path.join(self.tmp, "real")
        os.makedirs(real)
        os.symlink(real, os.path.join(self.tmp, "link"))
        self.assert_refused_at_start(["--work", os.path.join(self.tmp, "link", "work")], "symbolic link",
                                     os.path.join(real, "work"))
        # Made by the gate itself in the sticky directory: accepted, and 0700.
        mine = os.path.join(public, "mine")
        code, err = self.g.run_once("--work", mine)
        self.assertEqual(code, 0, err)
        self.assertEqual(os.stat(mine).st_uid, 0)
        self.assertEqual(self.g.released(), ["good.dmp"])

    # --- decisions found on restart ---------------------------------------------------------

    def forge_decision(self, name, target, out_bytes, record_extra=None, output_sha=None, audited=False):
        """A decision as the gate writes it (gate/pipeline.hpp), forged: the copy to publish is
        `out_bytes`, whose hash it names."""
        base = os.path.join(self.g.work, self.instance)
        os.makedirs(os.path.join(base, "out", name), exist_ok=True)
        copy = os.path.join(base, "out", name, name)
        with open(copy, "wb") as f:
            f.write(out_bytes)
        sha = output_sha or gatetest.sha256_of(copy)
        record = {"dump": name, "instance": self.instance, "target": os.path.join(self.g.release, target),
                  "input": {"size": len(out_bytes), "sha256": sha}, "output": {"size": len(out_bytes), "sha256": sha}}
        record.update(record_extra or {})
        decision = {"dump": name, "outcome": "release", "target": target, "audited": audited, "event": "released",
                    "summary": "0 findings in 0 keys overwritten, verified clean", "record": record}
        with open(os.path.join(base, "decided", name), "w") as f:
            json.dump(decision, f)

    def test_forged_decisions_are_not_carried_out_on_restart(self):
        # A first run makes the work directory, the instance and a sound log.
        self.g.deliver(CLEAN_DUMP, "first.dmp")
        code, err = self.g.run_once()
        self.assertEqual(code, 0, err)
        secret = b"-----BEGIN PRIVATE KEY-----\n" + os.urandom(48).hex().encode() + b"\n-----END PRIVATE KEY-----\n"
        unredacted = secret * 100
        # A target that leaves release; a copy the log never saw redacted (with its own claim,
        # which is then judged from the start); a record with fields the gate does not write.
        self.forge_decision("escape.dmp", "../escaped.dmp", unredacted)
        self.forge_decision("unredacted.dmp", "unredacted.dmp", unredacted)
        claims = os.path.join(self.g.work, self.instance, "claims")
        with open(os.path.join(claims, "unredacted.dmp"), "wb") as f:
            f.write(unredacted)
        with open(CLEAN_DUMP, "rb") as f:
            clean = f.read()
        self.forge_decision("invented.dmp", "invented.dmp", clean, record_extra={"approved_by": "invented"})
        # A copy the log did see, but whose decision names another file's hash.
        self.forge_decision("swapped.dmp", "swapped.dmp", unredacted,
                            output_sha=self.records("redacted")[0]["data"]["output"]["sha256"])
        code, err = self.g.run_once()
        self.assertEqual(code, 0, err)
        self.assertFalse(os.path.exists(os.path.join(self.g.root, "escaped.dmp")), "published outside release")
        self.assertEqual(self.g.released(), ["first.dmp"], err)
        for name in self.g.released():
            with open(os.path.join(self.g.release, name), "rb") as f:
                self.assertNotIn(secret[28:60], f.read())
        rejected = {r["data"]["dump"] for r in self.records("rejected")}
        self.assertEqual(rejected, {"escape.dmp", "unredacted.dmp", "invented.dmp", "swapped.dmp"}, err)
        with open(self.g.audit, "rb") as f:
            self.assertNotIn(b"approved_by", f.read(), "invented data was signed into the log")
        self.assertEqual(len(self.records("released")), 1)
        # The real claim was judged again: not a dump, so quarantined, never released.
        self.assertEqual(self.g.reason("unredacted.dmp")["reason"], "parse-error")
        code, out, err = self.g.verify()
        self.assertEqual(code, 0, out + err)

    # --- faults of the gate's own machinery -------------------------------------------------

    @needs_root
    def test_a_full_work_disk_leaves_the_dump_in_the_inbox(self):
        mnt = os.path.join(self.tmp, "small")
        os.makedirs(mnt)
        size = os.path.getsize(CLEAN_DUMP)
        # Room for the dump and the gate's directories, not for its redacted copy too.
        if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size + 96 * 1024},mode=0700", "tmpfs", mnt],
                          capture_output=True).returncode != 0:
            self.skipTest("cannot mount a tmpfs here")
        try:
            self.full_work_disk(mnt, size)
        finally:
            subprocess.run(["umount", "-l", mnt], capture_output=True)

    def full_work_disk(self, mnt, size):
        g = gatetest.GateDirs(os.path.join(self.tmp, "g2"), text_rules=False)
        inbox = os.path.join(mnt, "inbox")
        os.makedirs(inbox)
        g.inbox = inbox
        g.work = os.path.join(inbox, ".dumpguard-work")
        g.deliver(CLEAN_DUMP, "good.dmp")
        code, err = g.run_once()
        self.assertEqual(code, 2, err)
        self.assertIn("back in the inbox", err)
        self.assertEqual(g.inbox_entries(), ["good.dmp"])
        self.assertEqual(gatetest.sha256_of(os.path.join(inbox, "good.dmp")), gatetest.sha256_of(CLEAN_DUMP))
        self.assertEqual(g.quarantined(), [], "quarantined for a reason that is not the dump's")
        self.assertEqual(g.released(), [])
        self.assertEqual([r["event"] for r in g.records()][-1], "returned")
        # With room again, the same dump goes through.
        subprocess.run(["mount", "-o", f"remount,size={4 * size + (1 << 20)}", mnt], check=True)
        code, err = g.run_once()
        self.assertEqual(code, 0, err)
        self.assertEqual(g.released(), ["good.dmp"])
        code, out, err = g.verify()
        self.assertEqual(code, 0, out + err)

    def test_a_stderr_that_cannot_be_written_does_not_stop_the_gate(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        self.g.deliver(CLEAN_DUMP, "good.dmp")
        with open("/dev/full", "wb") as full:
            proc = subprocess.run([dgtest.DUMPGUARD, *self.g.args("--once")], stdout=subprocess.DEVNULL, stderr=full,
                                  timeout=300)
        self.assertEqual(proc.returncode, 0, "negative: killed by a signal")
        self.assertEqual(self.g.released(), ["good.dmp"])
        self.assertEqual([r["event"] for r in self.records()][-1], "stopped")

    def test_a_name_with_bidi_or_control_characters_is_refused_and_shown_escaped(self):
        name = "report\u202egpj.dmp"
        self.g.deliver(CLEAN_DUMP, name)
        code, err = self.g.run_once()
        self.assertEqual(code, 0, err)
        self.assertEqual(self.g.released(), [])
        self.assertNotIn("\u202e", err)
        self.assertIn("report\\xe2\\x80\\xaegpj.dmp", err)
        [refused] = self.records("refused")
        self.assertEqual(refused["data"]["dump"], "report\\xe2\\x80\\xaegpj.dmp")


if __name__ == "__main__":
    unittest.main()
