"""The repository speaks for itself. README stays a front door (the reference lives in docs/),
and no file points a reader at something a clone does not hold: a tracker's work items by
number or notes kept beside the repository. A comment says why in the
code's own terms instead. Text files only; binary files (dumps, fuzz inputs) are skipped."""
import os
import re
import subprocess
import unittest

SOURCE = os.environ.get("DG_SOURCE_DIR", "")
README_MAX_LINES = 300

FORBIDDEN = [
    (re.compile(r"\b[Ii]ssues? #?[0-9]+"), "a work item by number"),
    (re.compile(r"\(#[0-9]+\)"), "a work item by number"),
    (re.compile(r"\b(?:DECISIONS|STYLE|NOTES)\.md\b"), "a notes file outside the repository"),
    (re.compile(r"\.\./" + "shared" + r"\b"), "a folder beside the repository"),
]
SELF = os.path.relpath(os.path.abspath(__file__), os.path.abspath(SOURCE)) if SOURCE else ""


def repository_files():
    """Tracked files when the source is a git checkout, else every file under it."""
    try:
        out = subprocess.run(["git", "-C", SOURCE, "ls-files", "-z"], capture_output=True, check=True).stdout
        return [p for p in out.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for root, dirs, names in os.walk(SOURCE):
            dirs[:] = [d for d in dirs if not d.startswith(".") and not d.startswith("build")]
            files += [os.path.relpath(os.path.join(root, n), SOURCE) for n in names]
        return files


def text_of(path):
    """The file's text, or None for a binary file."""
    with open(os.path.join(SOURCE, path), "rb") as f:
        data = f.read()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


class RepositoryText(unittest.TestCase):
    def test_readme_is_a_front_door(self):
        with open(os.path.join(SOURCE, "README.md")) as f:
            lines = f.read().count("\n")
        self.assertLessEqual(lines, README_MAX_LINES,
                             "README.md is the front door; move reference material into docs/")

    def test_no_file_cites_work_items_or_files_outside_the_repository(self):
        hits = []
        for path in repository_files():
            if path == SELF or not os.path.isfile(os.path.join(SOURCE, path)):
                continue
            text = text_of(path)
            if text is None:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                for pattern, what in FORBIDDEN:
                    if pattern.search(line):
                        hits.append(f"{path}:{number}: {what}: {line.strip()[:100]}")
        self.assertEqual(hits, [], "\n".join(hits))

    def test_the_check_finds_what_it_forbids(self):
        # Written in pieces, so that this file does not show what it forbids to a plain grep.
        for sample in ("see " + "issue 4", "(" + "issue 8)", "fixed (" + "#12)", "DECISIONS" + ".md, Redaction",
                       "../" + "shared/corpus"):
            with self.subTest(sample=sample):
                self.assertTrue(any(p.search(sample) for p, _ in FORBIDDEN))
        for sample in ("#include <x>", "PKCS#8", "thread #1: tid", "audit show: #3", "issues/190"):
            with self.subTest(sample=sample):
                self.assertFalse(any(p.search(sample) for p, _ in FORBIDDEN))


if __name__ == "__main__":
    unittest.main()
