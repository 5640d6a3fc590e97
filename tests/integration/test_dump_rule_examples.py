"""Every built-in text rule's examples, planted into a real process and found in its core, in
ASCII and in UTF-16LE alike. The test reads rules/*.toml itself (tomllib), writes each rule's
positive and negative examples to a file (every byte XORed with 0x80, so the file's bytes and
the interpreter's copy of them hold no text), and starts a Python interpreter that decodes each
example into a bytes object of its own, once as ASCII and once as UTF-16LE, and holds them. One
gcore of that process, one scan with the text rules alone; then, from the core's bytes:

- every whole copy of a positive example (a string bounded by non-text bytes, as each bytes
  object is) is covered by a finding of its rule at exactly the secret the example names, in
  each encoding the rule is checked in (`rules check` skips UTF-16LE for examples that hold
  characters the UTF-16LE pass does not narrow, or are shorter than its shortest run);
- the rules found for each example are the same in both encodings;
- no whole copy of a negative example holds a finding of its own rule;
- the report holds no secret, in ASCII or UTF-16LE.

One process and one scan for all rules keep this to a few seconds."""
import json
import os
import struct
import sys
import tomllib
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

RULES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "rules")
MIN_UTF16_RUN = 8  # rules/engine.hpp kMinUtf16Run
SEVERITIES = ["low", "medium", "high", "critical"]
# Rules that match any credential of a shape (a JWT, a URL's password, a bearer header).
CATCH_ALL = {"generic-password", "generic-secret", "jwt", "jwe", "http-bearer-token", "http-basic-auth", "session-cookie",
             "basic-auth-url", "url-password"}

HOLDER = r"""
import struct, sys
data = open(sys.argv[1], "rb").read()
held, at = [], 0
while at < len(data):
    (n,) = struct.unpack_from("<I", data, at)
    at += 4
    plain = bytes(b ^ 0x80 for b in data[at:at + n])
    at += n
    held.append(plain)
    held.append(bytes(x for c in plain for x in (c, 0)))
del data, plain
print("ready", len(held), flush=True)
sys.stdin.read()
"""


def text_char(c):
    return 0x20 <= c < 0x7f or c in (0x09, 0x0a, 0x0d)


def utf16_searchable(text):
    return len(text) >= MIN_UTF16_RUN and all(text_char(ord(c)) for c in text)


def whole_copies(data, form, width):
    """Offsets of `form` in `data` where it is a whole string: no text character right before or after."""
    out, at = [], data.find(form)
    while at >= 0:
        before = data[at - width:at] if at >= width else b""
        after = data[at + len(form):at + len(form) + width]
        def is_text(unit):
            return len(unit) == width and text_char(unit[0]) and (width == 1 or unit[1] == 0)
        if not is_text(before) and not is_text(after):
            out.append(at)
        at = data.find(form, at + 1)
    return out


def builtin_rules():
    rules = []
    for name in sorted(os.listdir(RULES_DIR)):
        if name.endswith(".toml"):
            with open(os.path.join(RULES_DIR, name), "rb") as f:
                rules += tomllib.load(f)["rule"]
    return rules


class RuleExamplesInACore(dgtest.DumpTestCase):
    maxDiff = None

    def test_every_builtin_example_in_both_encodings(self):
        rules = builtin_rules()
        self.assertGreaterEqual(len(rules), 200)
        positives, negatives = [], []  # (rule id, text, secret) and (rule id, text)
        for r in rules:
            for ex in r["examples"]["positive"]:
                text, secret = (ex, None) if isinstance(ex, str) else (ex["text"], ex.get("secret"))
                positives.append((r["id"], text, secret))
            negatives += [(r["id"], text) for text in r["examples"]["negative"]]
        examples = os.path.join(self.tmp, "examples.bin")
        with open(examples, "wb") as f:
            for text in [t for _, t, _ in positives] + [t for _, t in negatives]:
                raw = text.encode("ascii")
                f.write(struct.pack("<I", len(raw)) + bytes(b ^ 0x80 for b in raw))
        script = os.path.join(self.tmp, "holder.py")
        with open(script, "w") as f:
            f.write(HOLDER)
        core = dgtest.dump_process(["/usr/bin/python3", script, examples], self.tmp)
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--detectors", "text-rules", "--fingerprint-key",
                                              os.path.join(self.tmp, "fp.key"), core)
        self.assertEqual(code, 1, err)
        findings = [f for f in json.loads(out)["findings"] if f["detector"] == "text-rules"]
        by_span = {}
        for f in findings:
            by_span.setdefault((f["file_offset"], f["length"]), []).append(f)
        with open(core, "rb") as f:
            data = f.read()

        # A secret that examples of several rules share is one key, and the report keeps one finding
        # per span: it may carry the name of any rule whose examples hold that secret. A span two
        # rules capture is kept under the more severe one (scan/key_groups.cpp), which also counts,
        # and so does a catch-all rule of the same severity (a JWT that is a Kubernetes token).
        named_by = {}
        for rule, text, secret in positives:
            named_by.setdefault(secret if secret is not None else text, set()).add(rule)
        severity = {r["id"]: SEVERITIES.index(r.get("severity", "high")) for r in rules}

        def names_it(f, rule, value):
            more = SEVERITIES.index(f["severity"]) - severity[rule]
            return f["kind"] in named_by[value] or more > 0 or (more == 0 and f["kind"] in CATCH_ALL)

        missing, differ, wrong = [], [], []
        for rule, text, secret in positives:
            found_in = {}
            for encoding, width, codec in (("ascii", 1, "ascii"), ("utf16le", 2, "utf-16-le")):
                if encoding == "utf16le" and not utf16_searchable(text):
                    continue
                copies = whole_copies(data, text.encode(codec), width)
                self.assertTrue(copies, f"the core holds no whole {encoding} copy of an example of {rule}")
                ok = 0
                for at in copies:
                    if secret is not None:
                        span = (at + width * text.index(secret), width * len(secret))
                        hit = any(names_it(f, rule, secret) and f["encoding"] == encoding for f in by_span.get(span, []))
                    else:
                        hit = any(names_it(f, rule, text) and f["encoding"] == encoding and
                                  at <= f["file_offset"] and f["file_offset"] + f["length"] <= at + width * len(text)
                                  for f in findings)
                    ok += hit
                found_in[encoding] = ok == len(copies)
                if not found_in[encoding]:
                    at = copies[0]
                    near = sorted({f["kind"] for f in findings if at <= f["file_offset"] < at + width * len(text)})
                    missing.append(f"{rule} ({encoding}, {len(copies) - ok} of {len(copies)} copies; found there: {near})")
            if len(set(found_in.values())) > 1:
                differ.append(rule)
        # A negative example may hold a positive example's secret whole (the same token one
        # character longer): the closure finds that copy of a known secret, rightly. Any other
        # finding of the rule inside a negative example is a match the rule must not make.
        secrets = {secret for _, _, secret in positives if secret is not None}

        def closure_copy(f):
            span = data[f["file_offset"]:f["file_offset"] + f["length"]]
            return span.decode("utf-16-le" if f["encoding"] == "utf16le" else "latin-1", "replace") in secrets

        for rule, text in negatives:
            for encoding, width, codec in (("ascii", 1, "ascii"), ("utf16le", 2, "utf-16-le")):
                for at in whole_copies(data, text.encode(codec), width):
                    end = at + width * len(text)
                    if any(f["kind"] == rule and f["file_offset"] < end and at < f["file_offset"] + f["length"]
                           and not closure_copy(f) for f in findings):
                        wrong.append(f"{rule} ({encoding})")
        print(f"{len(rules)} rules, {len(positives)} positive and {len(negatives)} negative examples; "
              f"{len(findings)} text findings in the core", file=sys.stderr)
        self.assertEqual(missing, [], "positive examples not found at their secret's bytes")
        self.assertEqual(differ, [], "rules whose examples are found in one encoding only")
        self.assertEqual(wrong, [], "negative examples found by their own rule")
        # The report names rules and offsets, never what they matched (whole secrets here; the
        # piecewise search of dgtest.assert_no_secret would flag a rule's own prefix, which the
        # proofs quote from the rules' descriptions).
        leaked = [rule for rule, _, secret in positives if secret is not None and len(secret) >= 12 and
                  any(form in out + err for form in (secret.encode(), secret.encode("utf-16-le")))]
        self.assertEqual(leaked, [], "secrets in the report")


if __name__ == "__main__":
    unittest.main()
