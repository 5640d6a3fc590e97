"""`cmake --install` gives a usable package: a separate project finds it with
find_package(dumpguard) as README's example says, links it, and reads a dump through the
public headers; the protection library links alone by the name README gives it; and
`man dumpguard` finds the installed man page."""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

BUILD_DIR = os.environ.get("DG_BUILD_DIR", "")
SOURCE = os.environ.get("DG_SOURCE_DIR", "")


def readme_cmake_example():
    """The lines of README's ```cmake block that calls find_package(dumpguard)."""
    with open(os.path.join(SOURCE, "README.md")) as f:
        text = f.read()
    for block in re.findall(r"^```cmake\n(.*?)^```", text, re.S | re.M):
        if "find_package(dumpguard" in block:
            return [line for line in block.splitlines() if line.strip()]
    raise AssertionError("README has no ```cmake block with find_package(dumpguard)")


class ReadmeExample(unittest.TestCase):
    def test_readme_example_is_the_one_built(self):
        example = readme_cmake_example()
        with open(os.path.join(SOURCE, "tests", "install_consumer", "CMakeLists.txt")) as f:
            consumer = f.read()
        self.assertIn("\n".join(example) + "\n", consumer, "README's example, word for word and in order")


@unittest.skipIf(os.environ.get("DG_SANITIZE") == "ON",
                 "the sanitizer build's library needs -fsanitize in its consumers; the Release build tests installation")
class Install(dgtest.DumpTestCase):
    def test_installed_package_is_usable_from_another_project(self):
        prefix = os.path.join(self.tmp, "prefix")
        subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", prefix], check=True, capture_output=True)
        self.assertTrue(os.path.exists(os.path.join(prefix, "bin", "dumpguard")))
        self.assertTrue(os.path.exists(os.path.join(prefix, "include", "dumpguard", "dump.hpp")))
        self.assertTrue(os.path.exists(os.path.join(prefix, "share", "man", "man1", "dumpguard.1")))
        page = subprocess.run(["man", "-M", os.path.join(prefix, "share", "man"), "dumpguard"], check=True,
                              capture_output=True, text=True, env={**os.environ, "MANPAGER": "cat", "MANWIDTH": "100"})
        self.assertIn("dumpguard - find secret keys in crash dumps", page.stdout)
        consumer = os.path.join(self.tmp, "consumer")
        subprocess.run(["cmake", "-S", os.path.join(SOURCE, "tests", "install_consumer"), "-B", consumer,
                        "-G", "Ninja", f"-DCMAKE_PREFIX_PATH={prefix}"], check=True, capture_output=True)
        subprocess.run(["ninja", "-C", consumer], check=True, capture_output=True)
        image = os.path.join(self.tmp, "image.raw")
        with open(image, "wb") as f:
            f.write(os.urandom(4096))
        out = subprocess.run([os.path.join(consumer, "your_program"), image], check=True, capture_output=True,
                             text=True)
        self.assertEqual(out.stdout.strip(), "raw 1")
        out = subprocess.run([os.path.join(consumer, "protect_consumer")], check=True, capture_output=True, text=True)
        self.assertEqual(out.stdout.strip(), "protected")
        # Text rules of the caller's own, given through the installed headers alone.
        secret = "acme_" + os.urandom(16).hex()
        with open(image, "wb") as f:
            f.write(os.urandom(2048) + b" ACME=" + secret.encode() + b" " + os.urandom(2048))
        rules = os.path.join(self.tmp, "rules.toml")
        with open(rules, "w") as f:
            f.write('[[rule]]\nid = "acme-key"\ndescription = "ACME internal API key"\nkeywords = ["acme_"]\n'
                    "pattern = '''\\b(acme_[a-z0-9]{32})\\b'''\nmax_length = 37\n")
        out = subprocess.run([os.path.join(consumer, "scan_consumer"), image, rules], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.split(), ["acme-key", "progress", "yes"])
        self.assertNotIn(secret, out.stdout + out.stderr)


if __name__ == "__main__":
    unittest.main()
