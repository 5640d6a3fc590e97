"""Every copy of every secret, in the layouts real runtimes use (the closure and the number
layouts). Real processes, keys made here:

- CPython holding an RSA key's numbers as Python ints (30-bit digits), the key's PEM text, an
  Azure storage connection string with its account key also split out on its own, and an RS256
  JWT with its segments split apart;
- Node.js holding the numbers as arrays of 28-bit digits (V8 small integers), as jsbn does;
- a JVM signing with RSA and EC keys (BigInteger magnitudes: int[] words, most significant
  first), holding an EC key pair it made itself, and a second EC key only as BigIntegers (the
  scalar, and the public point as a java.security.spec.ECPoint): the default scan must prove
  that scalar from the JVM's arrays alone; and a third EC key pair it made and signs with but
  whose scalar it never reads as a BigInteger (only the provider's byte forms hold it): the
  default scan must prove that one too.

Each also holds a second RSA key only in the runtime's own layout, with no PEM, DER or BIGNUM
copy: the scan must discover it from the digits alone (the modulus's origin names the layout),
and every copy of its parts is then a finding like the first key's.

The test's own search writes each key part in each layout from the runtime's definition, finds
every copy in the core, and requires each to lie inside a finding of the scan; after `redact`,
none may remain, the rescan is clean, gdb still opens the core, and whatever the scan found in
the input (each finding's bytes, and every AES key aeskeyfind sees) is gone from the output."""
import base64
import hashlib
import hmac
import json
import os
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
from test_dump_redact import gdb_threads  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: E402

PROGRAMS_SRC = os.path.join(os.path.dirname(os.path.dirname(__file__)), "programs")
SANITIZED = os.environ.get("DG_SANITIZE", "OFF").upper() not in ("", "OFF", "0", "FALSE", "NO")
# One glibc malloc arena: each further thread's arena reserves 64 MB that gcore writes out.
SMALL_MALLOC = dict(os.environ, MALLOC_ARENA_MAX="1")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def layouts(v):
    """The number v as each runtime lays it out (x86-64, little-endian words), from the runtimes'
    own definitions, written here independently of dumpguard."""
    be = v.to_bytes((v.bit_length() + 7) // 8, "big")
    words = (v.bit_length() + 31) // 32

    def digits(bits):
        return [(v >> (bits * i)) & ((1 << bits) - 1) for i in range((v.bit_length() + bits - 1) // bits)]

    return {
        "be": be,
        "le": be[::-1],
        # java.math.BigInteger: int[] mag, most significant int first.
        "jvm-int32": b"".join(((v >> (32 * i)) & 0xFFFFFFFF).to_bytes(4, "little") for i in reversed(range(words))),
        # CPython Include/cpython/longintrepr.h: 30-bit digits in uint32, least significant first.
        "cpython-30": b"".join(d.to_bytes(4, "little") for d in digits(30)),
        # V8 Smis on x86-64 without pointer compression: the value in the high 32 bits.
        "smi64-28": b"".join((d << 32).to_bytes(8, "little") for d in digits(28)),
        # With pointer compression: the value shifted left by one in 32 bits.
        "smi32-28": b"".join((d << 1).to_bytes(4, "little") for d in digits(28)),
        "hex": format(v, "x").encode(),
        "HEX": format(v, "X").encode(),
    }


def uncovered(findings, data, needle):
    """Offsets where `needle` occurs in data (bytes or a dgtest.Haystack) outside every finding;
    and how often it occurs."""
    places = data.occurrences(needle) if isinstance(data, dgtest.Haystack) else dgtest.occurrences(data, needle)
    return [at for at in places if not dgtest.covered(findings, at, len(needle))], len(places)


class RuntimeCore:
    """Mixin: make_core(d) returns (program, core, {part name: int}, {name: bytes} text secrets,
    [layout names the runtime must show]); setUpClass scans and redacts it."""

    @classmethod
    def setUpClass(cls):
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-closure-")
        d = cls.d = cls._dir.name
        cls.program, cls.core, cls.parts, cls.texts, cls.required = cls.make_core(d)
        cls.fp = os.path.join(d, "fp.key")
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", cls.fp, cls.core)
        cls.scan_code, cls.scan_err = code, err
        cls.report = json.loads(out) if out else {"findings": []}
        cls.out = os.path.join(d, "redacted.core")
        cls.redact_report = os.path.join(d, "redact.json")
        cls.redact_code, cls.redact_out, cls.redact_err = dgtest.run_dumpguard(
            "redact", "--fingerprint-key", cls.fp, cls.core, "-o", cls.out, "--report", cls.redact_report)
        cls.data = read(cls.core)
        cls.out_data = read(cls.out) if os.path.exists(cls.out) else b""
        cls.hay, cls.out_hay = dgtest.Haystack(cls.data), dgtest.Haystack(cls.out_data)

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def forms(self):
        """(name, bytes) of every secret the test planted, in every layout it searches."""
        out = []
        for name, value in self.parts.items():
            for layout, form in layouts(value).items():
                if len(form) >= 8:
                    out.append((f"{name} as {layout}", form))
        for name, text in self.texts.items():
            out += [(f"{name} as ascii", text), (f"{name} as utf16le", text.decode().encode("utf-16-le"))]
        return out

    def test_every_copy_of_every_part_in_every_layout_is_a_finding(self):
        self.assertEqual(self.scan_code, 1, self.scan_err)
        findings = self.report["findings"]
        missed, seen = [], {}
        for name, form in self.forms():
            left, count = uncovered(findings, self.hay, form)
            seen[name] = count
            missed += [f"{name} at {at:#x}" for at in left]
        self.assertEqual(missed, [], f"{len(missed)} copies outside every finding")
        # The runtime's own layout is really in the core: otherwise this test proves nothing.
        for layout in self.required:
            found = [name for name, count in seen.items() if name.endswith(f" as {layout}") and count > 0]
            self.assertTrue(found, f"no key part in the core as {layout}")

    def test_a_key_held_only_in_the_runtime_layout_is_discovered(self):
        origins = [k.get("origin", "") for k in self.report["public_keys"]
                   if k["type"].startswith("rsa") and k.get("derived")]
        layout = self.required[0]
        self.assertTrue([o for o in origins if f"laid out as {layout}" in o],
                        f"no modulus was discovered in {layout}: {origins}")
        # Its parts are in the core in that layout (otherwise this proves nothing), and covered.
        blind = {name: v for name, v in self.parts.items() if name.startswith("blind ")}
        self.assertEqual(len(blind), 6)
        present = [name for name, v in blind.items() if layouts(v)[layout] in self.hay]
        self.assertTrue(present, f"no part of the second key is in the core as {layout}")

    def test_nothing_is_left_after_redact(self):
        self.assertEqual(self.redact_code, 0, self.redact_err)
        self.assertEqual(len(self.out_data), len(self.data))
        left = [name for name, form in self.forms() if form in self.out_hay]
        self.assertEqual(left, [])

    def test_what_the_scan_found_is_gone_from_the_output(self):
        self.assertEqual(self.redact_code, 0, self.redact_err)
        self.assertEqual(dgtest.left_after_redaction(self.core, self.data, self.out_hay, self.report["findings"]), [])

    def test_gdb_opens_the_redacted_core(self):
        self.assertEqual(self.redact_code, 0, self.redact_err)
        self.assertEqual(gdb_threads(self.program, self.out), gdb_threads(self.program, self.core))

    def test_no_output_carries_a_secret(self):
        outputs = {"scan report": json.dumps(self.report), "scan stderr": self.scan_err,
                   "redact stdout": self.redact_out, "redact stderr": self.redact_err}
        if os.path.exists(self.redact_report):
            outputs["redact report"] = read(self.redact_report)
        secrets = {name: value.to_bytes((value.bit_length() + 7) // 8, "big") for name, value in self.parts.items()}
        secrets.update(self.texts)
        secrets.update(getattr(self, "extra_secrets", {}))
        dgtest.assert_no_secret(outputs, secrets)


def rsa_parts(key):
    n = key.private_numbers()
    return {"p": n.p, "q": n.q, "d": n.d, "dp": n.dmp1, "dq": n.dmq1, "qinv": n.iqmp}


def blind_key():
    """A second RSA key, held by the runtime only in its own layout: (its parts as 'blind NAME',
    its numbers in hex)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {f"blind {name}": v for name, v in rsa_parts(key).items()}, numbers_hex(key)


def numbers_hex(key):
    n = key.private_numbers()
    return [format(v, "x") for v in (n.public_numbers.n, n.public_numbers.e, n.d, n.p, n.q, n.dmp1, n.dmq1, n.iqmp)]


def spki_fingerprints(pem_text):
    """sha256: fingerprints of the SubjectPublicKeyInfo of each certificate in PEM text."""
    end = "-----END CERTIFICATE-----"
    out = set()
    for block in pem_text.split(end)[:-1]:
        cert = x509.load_pem_x509_certificate((block[block.index("-----BEGIN"):] + end + "\n").encode())
        spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
        out.add("sha256:" + hashlib.sha256(spki).hexdigest())
    return out


def write_private(path, data):
    """Writes a file only its owner may read (keys and the specs that hold secrets)."""
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def write_pem(key, path):
    write_private(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption()))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class CPythonRuntime(RuntimeCore, dgtest.DumpTestCase):
    @classmethod
    def make_core(cls, d):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = os.path.join(d, "key.pem")
        write_pem(key, pem)
        account_key = base64.b64encode(os.urandom(64)).decode()
        connection = (f"DefaultEndpointsProtocol=https;AccountName=dgtest{os.urandom(4).hex()};"
                      f"AccountKey={account_key};EndpointSuffix=core.windows.net")
        signer = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        signing_input = b64url(b'{"alg":"RS256","typ":"JWT"}') + "." + b64url(
            json.dumps({"sub": "svc", "nonce": os.urandom(8).hex()}).encode())
        signature = b64url(signer.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))
        cls.hmac_key = os.urandom(32)
        hs_input = b64url(b'{"alg":"HS256","typ":"JWT"}') + "." + b64url(b'{"sub":"worker"}')
        hs_token = hs_input + "." + b64url(hmac.new(cls.hmac_key, hs_input.encode(), hashlib.sha256).digest())
        cls.hs384_key = os.urandom(48)
        hs384_input = b64url(b'{"alg":"HS384","typ":"JWT"}') + "." + b64url(b'{"sub":"batch"}')
        hs384_token = hs384_input + "." + b64url(hmac.new(cls.hs384_key, hs384_input.encode(), hashlib.sha384).digest())
        # HS256 keys shorter than the hash (RFC 7518 3.2 asks 32 bytes; libraries accept less).
        cls.short_keys = {f"HS256 {n}-byte": os.urandom(n) for n in (16, 20, 24)}
        short_tokens = []
        for name, short_key in cls.short_keys.items():
            short_input = b64url(b'{"alg":"HS256","typ":"JWT"}') + "." + b64url(
                json.dumps({"sub": name, "nonce": os.urandom(4).hex()}).encode())
            short_tokens.append(short_input + "." + b64url(hmac.new(short_key, short_input.encode(),
                                                                    hashlib.sha256).digest()))
        spec = os.path.join(d, "spec.json")
        blind_parts, blind_hex = blind_key()
        write_private(spec, json.dumps({"pem": pem, "numbers": numbers_hex(key), "connection": connection,
                                        "jwt": f"{signing_input}.{signature}", "hmac_key_hex": cls.hmac_key.hex(),
                                        "hs_token": hs_token, "blind": blind_hex,
                                        "hs384_key_hex": cls.hs384_key.hex(), "hs384_token": hs384_token,
                                        "short_keys_hex": [k.hex() for k in cls.short_keys.values()],
                                        "short_tokens": short_tokens}))
        program = "/usr/bin/python3"
        holder = dgtest.LiveProcess([program, os.path.join(PROGRAMS_SRC, "runtime_holder.py"), spec])
        try:
            core = dgtest.gcore(holder.pid, d, self_check=False)  # checked below, with this test's scan
        finally:
            holder.stop()
        os.unlink(spec)
        texts = {"account key": account_key.encode(), "jwt": f"{signing_input}.{signature}".encode(),
                 "jwt signature": signature.encode()}
        cls.extra_secrets = {"hmac key": cls.hmac_key, "hs384 key": cls.hs384_key, **cls.short_keys}
        return program, core, {**rsa_parts(key), **blind_parts}, texts, ["cpython-30"]

    def test_binary_hmac_keys_in_bytes_objects_are_proven_and_redacted(self):
        # Each key is a CPython bytes object: no malloc chunk of its own, found as an island.
        keys = [f for f in self.report["findings"] if f["kind"] == "hmac-key"]
        self.assertTrue(keys and all(f["verified"] for f in keys), "no HMAC key was proven")
        for name, key in (("HS256", self.hmac_key), ("HS384", self.hs384_key), *self.short_keys.items()):
            places = self.hay.occurrences(key)
            self.assertTrue(places, f"the {name} key is not in the core")
            for at in places:
                self.assertTrue(dgtest.covered(keys, at, len(key)), f"the {name} key at {at:#x} is not covered")
            self.assertNotIn(key, self.out_hay)

    def test_split_secrets_stand_alone_in_the_core(self):
        # The account key and the signature must also stand outside their connection string and
        # token: otherwise the copies test above would not test the closure.
        key = self.texts["account key"]
        alone = [at for at in self.hay.occurrences(key) if self.data[at - 11:at] != b"AccountKey="]
        self.assertTrue(alone, "the account key is only inside its connection string")
        signature = self.texts["jwt signature"]
        alone = [at for at in self.hay.occurrences(signature) if self.data[at - 1:at] != b"."]
        self.assertTrue(alone, "the signature segment is only inside its token")


class NodeRuntime(RuntimeCore, dgtest.DumpTestCase):
    @classmethod
    def make_core(cls, d):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = os.path.join(d, "key.pem")
        write_pem(key, pem)
        spec = os.path.join(d, "spec.json")
        blind_parts, blind_hex = blind_key()
        write_private(spec, json.dumps({"pem": pem, "numbers": numbers_hex(key), "blind": blind_hex}))
        program = "/usr/bin/node"
        # Without the JIT's code range and with a small heap, the core is about 130 MB, not 650.
        holder = dgtest.LiveProcess([program, "--jitless", "--max-old-space-size=16", "--max-semi-space-size=1",
                                     os.path.join(PROGRAMS_SRC, "smi_holder.js"), spec], env=SMALL_MALLOC)
        try:
            core = dgtest.gcore(holder.pid, d, self_check=False)  # checked below, with this test's scan
        finally:
            holder.stop()
        os.unlink(spec)
        compressed = subprocess.run([program, "-p", "process.config.variables.v8_enable_pointer_compression"],
                                    capture_output=True, text=True, timeout=60).stdout.strip() in ("1", "true")
        return program, core, {**rsa_parts(key), **blind_parts}, {}, ["smi32-28" if compressed else "smi64-28"]

    def test_the_runtimes_own_root_keys_are_not_hunted(self):
        # Node.js compiles its root certificates in and parses them at start, so their keys are
        # in its heap; their private halves are no more in a process than the system trust
        # store's. A key the report does not mark as a CA's is one the hunts test candidates
        # against (ec-scalar spent 12-17 s of CPU on this core's P-384 roots): none may be a
        # root of this Node.js, as the test reads them from Node.js itself.
        pems = subprocess.run([self.program, "-p", "require('tls').rootCertificates.join('\\n')"],
                              capture_output=True, text=True, timeout=60, check=True).stdout
        roots = spki_fingerprints(pems)
        system = spki_fingerprints(read(ssl.get_default_verify_paths().openssl_cafile).decode())
        harvested = [k for k in self.report["public_keys"] if k["fingerprint"] in roots]
        # Some are Node.js's own, not the system trust store's: otherwise this proves nothing.
        self.assertTrue([k for k in harvested if k["fingerprint"] not in system], "no root of Node.js's own is in the core")
        self.assertEqual([k["origin"] for k in harvested if not k["ca"]], [])


@unittest.skipIf(SANITIZED, "a 340 MB core scanned three times under ASan costs minutes; the Release build runs it")
def looks_random(b):
    """dumpguard's test of a candidate scalar's big-endian bytes (detect/byte_statistics.cpp): a
    number that fails it is in the documented blind spot of the runtime-layout candidates."""
    if sum(x >> 7 for x in b) < len(b) // 8 or len(set(b)) < len(b) // 2:
        return False
    for i in range(0, len(b) - 7, 8):
        w = b[i:i + 8]
        if w[4:] in (b"\0" * 4, b"\xff" * 4) or (w[7] == 0 and w[6] == 0 and w[5] in (0x7F, 0x55, 0x56)):
            return False
        if all(0x20 <= c < 0x7F for c in w):
            return False
    return True


def jvm_candidate(v):
    """Whether a P-256 number is outside the documented blind spot of the JVM's candidates
    (docs/detectors.md, `ec-scalar`): it fills eight words with at least 17 bits in the first,
    and passes looks_random."""
    return v.bit_length() >= 241 and looks_random(v.to_bytes(32, "big"))


def jvm_held_key():
    """A P-256 key whose scalar and x are both outside that blind spot. About one key in 350 is
    in it and is drawn again."""
    while True:
        key = ec.generate_private_key(ec.SECP256R1())
        n = key.private_numbers()
        if all(jvm_candidate(v) for v in (n.private_value, n.public_numbers.x)):
            return key


GENERATED, HELD = "ec scalar from KeyPairGenerator", "ec scalar held as a BigInteger"
UNREAD = "ec scalar never read as a BigInteger"


class JvmRuntime(RuntimeCore, dgtest.DumpTestCase):
    @classmethod
    def make_core(cls, d):
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ec_key = ec.generate_private_key(ec.SECP256R1())
        paths = []
        for name, k in (("rsa.der", rsa_key), ("ec.der", ec_key)):
            paths.append(os.path.join(d, name))
            write_private(paths[-1], k.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
        blind_parts, blind_hex = blind_key()
        paths.append(os.path.join(d, "blind.hex"))
        write_private(paths[-1], "\n".join(blind_hex) + "\n")
        # The JVM writes the scalar of the key pair it makes into this private file.
        paths.append(os.path.join(d, "generated.hex"))
        write_private(paths[-1], "")
        held = jvm_held_key().private_numbers()
        paths.append(os.path.join(d, "held.hex"))
        write_private(paths[-1], "\n".join(format(v, "x") for v in (held.private_value, held.public_numbers.x,
                                                                     held.public_numbers.y)) + "\n")
        # The JVM writes the scalar it never reads before the dump into this one, after it.
        paths.append(os.path.join(d, "unread.hex"))
        write_private(paths[-1], "")
        classes = os.path.join(d, "classes")
        subprocess.run(["javac", "-d", classes, os.path.join(PROGRAMS_SRC, "JvmSigner.java")], check=True,
                       capture_output=True, timeout=300)
        # A small heap and small reservations, since gcore writes reserved address space too, and
        # the kernel's default filter (no file mappings): about 180 MB of core instead of 1.2 GB.
        program = "/usr/bin/java"
        holder = dgtest.LiveProcess([program, "-Xmx48m", "-Xms48m", "-XX:+UseSerialGC", "-XX:ReservedCodeCacheSize=16m",
                                     "-XX:CompressedClassSpaceSize=16m", "-XX:MaxMetaspaceSize=48m", "-Xss512k",
                                     "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
                                     "-cp", classes, "JvmSigner", *paths], ready_word="drawn ", timeout=120,
                                    env=SMALL_MALLOC)
        try:
            # The key pair whose scalar is never read: proven by its x among the JVM's arrays, so
            # one whose x is in the candidates' blind spot (one in about 700) is drawn again.
            drawn = holder.lines[-1]
            while not jvm_candidate(int(drawn.split()[1], 16)):
                drawn = holder.tell("again", "drawn ")
            holder.tell("keep", "ready", timeout=120)
            core = dgtest.gcore(holder.pid, d, kernel_filter=True, self_check=False)
            # Only with the core written does the JVM read that scalar, for the test to know.
            holder.tell("scalar", "written")
        finally:
            holder.stop()
        parts = {**rsa_parts(rsa_key), **blind_parts}
        parts["ec scalar"] = ec_key.private_numbers().private_value
        parts[GENERATED] = int(read(paths[3]).decode(), 16)
        parts[HELD] = held.private_value
        parts[UNREAD] = int(read(paths[5]).decode(), 16)
        return program, core, parts, {}, ["jvm-int32"]

    def test_an_ec_scalar_held_only_as_a_biginteger_is_proven(self):
        forms = layouts(self.parts[HELD])
        # Only the JVM's words hold it (and the hex text it was read from): no bytes or BIGNUM
        # limbs another prior could propose. Otherwise this proves nothing.
        self.assertIn(forms["jvm-int32"], self.hay)
        self.assertNotIn(forms["be"], self.hay)
        self.assertNotIn(forms["le"], self.hay)
        origins = [k["origin"] for k in self.report["public_keys"] if k["type"] == "ec-p256" and k.get("derived")]
        self.assertTrue([o for o in origins if "x of d·G laid out as jvm-int32" in o], origins)
        # Both EC scalars the JVM holds as BigIntegers: every copy in every layout is a verified
        # finding, and no hunt stopped at a budget (redact would refuse the core).
        verified = [f for f in self.report["findings"] if f["verified"]]
        for name in (GENERATED, HELD):
            self.assertIn(layouts(self.parts[name])["jvm-int32"], self.hay, f"the {name} is not in the core")
            for layout, form in layouts(self.parts[name]).items():
                left, _ = uncovered(verified, self.hay, form)
                self.assertEqual(left, [], f"{name} as {layout}")
        self.assertEqual([l for l in self.report["searched"]["limits"] if l["detector"] == "ec-scalar"], [])

    def test_an_ec_scalar_never_read_as_a_biginteger_is_proven(self):
        d = self.parts[UNREAD]
        field = d.to_bytes(32, "big")
        # OpenJDK's ECPrivateKeyImpl keeps it as little-endian bytes of the field's length
        # (arrayS) and big-endian in the DER of an RFC 5915 ECPrivateKey without parameters
        # (SEQUENCE { INTEGER 1, OCTET STRING d }), and never as a BigInteger: otherwise the
        # JVM's int[] arrays would prove it and this proves nothing.
        self.assertIn(field[::-1], self.hay)
        self.assertIn(bytes.fromhex("30250201010420") + field, self.hay)
        self.assertNotIn(layouts(d)["jvm-int32"], self.hay)
        # Every copy in every layout is inside a verified finding, no hunt stopped at a budget,
        # and redact leaves none.
        verified = [f for f in self.report["findings"] if f["verified"]]
        forms = {**layouts(d), "be, the field's length": field, "le, the field's length": field[::-1]}
        for layout, form in forms.items():
            left, _ = uncovered(verified, self.hay, form)
            self.assertEqual(left, [], f"{UNREAD} as {layout}")
        self.assertEqual([l for l in self.report["searched"]["limits"] if l["detector"] == "ec-scalar"], [])
        self.assertEqual(self.redact_code, 0, self.redact_err)
        self.assertEqual([layout for layout, form in forms.items() if form in self.out_hay], [])

    def test_gdb_opens_the_redacted_core(self):
        # The JVM's many threads make `thread apply all bt` slow: compare the thread lists.
        self.assertEqual(self.redact_code, 0, self.redact_err)

        def threads(core):
            proc = subprocess.run(["gdb", "-nx", "-batch", "-ex", "info threads", self.program, core],
                                  capture_output=True, text=True, timeout=300)
            return (proc.stdout + proc.stderr).replace(core, "CORE")
        self.assertEqual(threads(self.out), threads(self.core))


if __name__ == "__main__":
    unittest.main()
