"""The build keeps the library's layers in order: a file in one layer of src/ can include
headers of its own layer and of the layers below it (DG_LAYERS in CMakeLists.txt), and an
include that points up the stack does not compile.

Two checks: every quoted include in src/ names a layer at or below the includer's; and the
compiler itself, given the very command the build uses for a file of each layer, refuses a
probe that includes a header of the next layer up while it accepts one of the layer's own."""
import json
import os
import re
import shlex
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("DG_SOURCE_DIR", "")
BUILD = os.environ.get("DG_BUILD_DIR", "")


def layers():
    with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
        text = f.read()
    m = re.search(r"^set\(DG_LAYERS ([a-z_ ]+)\)", text, re.M)
    assert m, "CMakeLists.txt no longer sets DG_LAYERS"
    return m.group(1).split()


def headers_of(layer):
    folder = os.path.join(SOURCE, "src", layer)
    return sorted(n for n in os.listdir(folder) if n.endswith(".hpp"))


class LayerOrder(unittest.TestCase):
    def test_every_include_points_down(self):
        order = layers()
        rank = {name: i for i, name in enumerate(order)}
        include = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/', re.M)
        upward = []
        for layer in order:
            folder = os.path.join(SOURCE, "src", layer)
            for name in sorted(os.listdir(folder)):
                with open(os.path.join(folder, name), errors="replace") as f:
                    text = f.read()
                for target in include.findall(text):
                    if target == "dumpguard":
                        continue  # the installed headers: every layer may use them
                    if target not in rank:
                        upward.append(f"src/{layer}/{name} includes {target}/, which is no layer")
                    elif rank[target] > rank[layer]:
                        upward.append(f"src/{layer}/{name} includes {target}/, a layer above it")
        self.assertEqual(upward, [])

    def test_compiler_refuses_an_upward_include(self):
        with open(os.path.join(BUILD, "compile_commands.json")) as f:
            commands = json.load(f)
        # A layer's compile commands are known by its include root (-I<build>/layers/<layer>),
        # whether they compile one source or a unity file of several.
        by_layer = {}
        for entry in commands:
            args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
            roots = [a.rsplit("/layers/", 1)[1] for a in args if a.startswith("-I") and "/layers/" in a]
            if len(roots) == 1:
                by_layer.setdefault(roots[0], entry)
        order = layers()
        checked = 0
        with tempfile.TemporaryDirectory() as tmp:
            for i, layer in enumerate(order[:-1]):
                entry = by_layer.get(layer)
                own = headers_of(layer)
                if entry is None or not own:
                    continue  # a header-only layer has no compile command of its own
                upper = next((u for u in order[i + 1:] if headers_of(u)), None)
                self.assertIsNotNone(upper)
                own_ok = self.compile(entry, tmp, f"{layer}/{own[0]}")
                self.assertEqual(own_ok.returncode, 0, f"{layer}: its own header does not compile:\n{own_ok.stderr}")
                up = self.compile(entry, tmp, f"{upper}/{headers_of(upper)[0]}")
                self.assertNotEqual(up.returncode, 0, f"{layer} can include {upper}/, a layer above it")
                # GCC says "No such file or directory", clang "file not found".
                self.assertRegex(up.stderr, "No such file|file not found")
                checked += 1
        # io, format, crypto, audit, rules, user_files, detect, scan, redact, report, gate, handler
        self.assertGreaterEqual(checked, 10)

    @staticmethod
    def compile(entry, tmp, header):
        probe = os.path.join(tmp, "probe.cpp")
        with open(probe, "w") as f:
            f.write(f'#include "{header}"\n')
        args = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
        out, skip = [], False
        for a in args:
            if skip:
                skip = False
                continue
            if a in ("-o", "-c", "-MF", "-MT", "-MQ"):
                skip = True
                continue
            if a in ("-MD", "-MMD") or a == entry["file"]:
                continue
            out.append(a)
        if out and os.path.basename(out[0]) == "ccache":
            out = out[1:]
        return subprocess.run(out + ["-fsyntax-only", probe], cwd=entry["directory"],
                              capture_output=True, text=True)


if __name__ == "__main__":
    unittest.main()
