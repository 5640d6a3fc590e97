"""The man page, docs/man/dumpguard.1, is written by hand and kept in step with the CLI: every
option that a command's --help lists is in it, every command has its section, and no option in
it is one that no command has (a removed or renamed option would otherwise stay documented).
groff renders it without a warning. The option names come from running the real binary."""
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

SOURCE = os.environ.get("DG_SOURCE_DIR", "")
MAN_PAGE = os.path.join(SOURCE, "docs", "man", "dumpguard.1")

# Every command that takes options; a group (`rules`, `audit`) is listed by its subcommands.
COMMANDS = [
    ("info",), ("scan",), ("redact",), ("gate",), ("relay",), ("core-handler",), ("fingerprint",), ("rules", "check"),
    ("rules", "list"),
    ("audit", "keygen"), ("audit", "verify"), ("audit", "show"), ("audit", "rotate"), ("selftest",),
    ("audit", "export"), ("submit",), ("cluster", "init"), ("cluster", "status"),
    ("serve",), ("users", "add"), ("users", "list"), ("users", "remove"),
]
# Options every command has, documented once in the page's synopsis.
COMMON = {"--help", "-h", "--version"}


def help_options(command):
    """The option names (long and short) that `dumpguard COMMAND --help` lists."""
    out = subprocess.run([dgtest.DUMPGUARD, *command, "--help"], capture_output=True, text=True, check=True).stdout
    options = set()
    for line in out.splitlines():
        m = re.match(r"^\s{2}(-[A-Za-z0-9],)?(--[a-z0-9-]+)", line)
        if m:
            options.add(m.group(2))
            if m.group(1):
                options.add(m.group(1).rstrip(","))
    return options - COMMON


def man_text():
    """The page's source with roff's escaped hyphens made plain."""
    with open(MAN_PAGE) as f:
        return f.read().replace("\\-", "-")


class ManPage(unittest.TestCase):
    def test_every_help_option_is_in_the_man_page(self):
        text = man_text()
        for command in COMMANDS:
            for option in sorted(help_options(command)):
                with self.subTest(command=" ".join(command), option=option):
                    found = re.search(r"(?<![A-Za-z0-9-])" + re.escape(option) + r"(?![a-z0-9-])", text)
                    self.assertTrue(found, f"`dumpguard {' '.join(command)} {option}` is not in docs/man/dumpguard.1")

    def test_every_command_has_its_section(self):
        sections = re.findall(r'^\.SS "dumpguard ([a-z -]+)"', man_text(), re.M)
        self.assertEqual(sorted(sections), sorted(" ".join(c) for c in COMMANDS))

    def test_no_option_in_the_man_page_that_no_command_has(self):
        known = set(COMMON)
        for command in COMMANDS:
            known |= help_options(command)
        documented = set()
        for line in man_text().splitlines():
            if line.startswith((".B ", ".BI ", ".BR ")) or line.startswith(".TP"):
                documented |= set(re.findall(r"(?<![A-Za-z0-9-])(--[a-z0-9][a-z0-9-]*)", line))
        self.assertEqual(sorted(documented - known), [], "options documented in the man page that no --help lists")

    @unittest.skipIf(shutil.which("groff") is None, "groff (groff-base) is not installed")
    def test_renders_without_warnings(self):
        proc = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", MAN_PAGE], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stderr, "")


if __name__ == "__main__":
    unittest.main()
