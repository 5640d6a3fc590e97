"""Structured keys planted in a real core: `key_holder 2048` is dumped with gcore, and a copy
of the core gets, inside one of its heap regions at odd offsets, keys the test made itself:
OpenSSH keys from ssh-keygen (PEM-armored, binary openssh-key-v1, and one encrypted with a
passphrase), Windows CNG and CryptoAPI blobs built byte by byte from Microsoft's documented
layouts, and JWKs (one alone, others in a JWK Set) from Python's cryptography. Every blob is
parsed back by the test and compared with its key's numbers before it is planted. The scan
must report each with its exact span, kind, verification and SPKI fingerprint (computed
here with cryptography), and no report may carry a secret number in any encoding.

A second case dumps a real ssh-agent holding the ssh-keygen keys: OpenSSH shields keys in
memory (sshkey_shield_private), so no verified claim that they were found may appear."""
import base64
import hashlib
import hmac
import os
import shutil
import struct
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # noqa: E402


from keyforms import (RSA1, RSA2, RSA3, b64url, be, capi_rsa, capi_rsa_numbers, cng_ecc, cng_rsa,  # noqa: E402,F401
                      cng_rsa_numbers, jwk_of, pem_body, read, rsa_expected, secrets_of, spki_fingerprint,
                      ssh_keygen)


class StructuredKeysInARealCore(dgtest.DumpTestCase):
    @classmethod
    def setUpClass(cls):
        if shutil.which("ssh-keygen") is None:
            raise unittest.SkipTest("ssh-keygen is not installed")
        cls._dir = dgtest.tempfile.TemporaryDirectory(prefix="dg-structured-")
        d = cls._dir.name
        holder = dgtest.LiveProcess([os.path.join(dgtest.PROGRAMS, "key_holder"), "2048"])
        try:
            core = dgtest.gcore(holder.pid, d)
        finally:
            holder.stop()
        cls.copy = os.path.join(d, "planted.core")
        shutil.copyfile(core, cls.copy)
        info = dgtest.info_json(cls.copy)
        heap = max((r for r in info["regions"] if r["kind"] == "heap"), key=lambda r: r["size"])

        cls.expect = []   # (name, offset, length, kind, encoding, verified, fingerprint, severity)
        cls.secrets = []  # every secret number of every planted key
        pieces = []

        def add(name, data, kind, encoding, fingerprint, verified=True, severity="critical", at=None):
            pieces.append((name, data, kind, encoding, fingerprint, verified, severity, at))

        # OpenSSH: an RSA key as ssh-keygen wrote it (PEM text), Ed25519 and ECDSA P-384 as the
        # decoded binary openssh-key-v1 container, and an Ed25519 key under a passphrase.
        cls.ssh_paths = []
        for name, kind, bits, encoding, armored in (("id_rsa", "rsa", 2048, "pem-openssh", True),
                                                     ("id_ed25519", "ed25519", None, "openssh", False),
                                                     ("id_ecdsa", "ecdsa", 384, "openssh", False)):
            path = ssh_keygen(d, name, kind, bits)
            cls.ssh_paths.append(path)
            text = read(path, "r")
            key = serialization.load_ssh_private_key(text.encode(), password=None)  # independent parse
            cls.secrets += secrets_of(key)
            data = text.rstrip("\n").encode() if armored else pem_body(text)
            assert armored or data.startswith(b"openssh-key-v1\0")
            expected_kind = {"rsa": "rsa-private-key", "ed25519": "ed25519-private-key", "ecdsa": "ec-private-key"}[kind]
            add(name, data, expected_kind, encoding, spki_fingerprint(key.public_key()))
        enc_path = ssh_keygen(d, "id_encrypted", "ed25519", passphrase="correct horse battery")
        enc_text = read(enc_path, "r")
        enc_public = serialization.load_ssh_public_key(read(enc_path + ".pub"))
        add("encrypted", enc_text.rstrip("\n").encode(), "encrypted-private-key", "pem-openssh",
            spki_fingerprint(enc_public), verified=False, severity="low")

        # CNG and CAPI blobs, each read back and compared before it is planted.
        for label, magic, encoding in (("cng-rsa3", RSA3, "cng-rsafull"), ("cng-rsa2", RSA2, "cng-rsaprivate")):
            key = rsa.generate_private_key(65537, 2048)
            blob = cng_rsa(key, magic)
            expected = rsa_expected(key)
            for k, v in cng_rsa_numbers(blob).items():
                assert v == expected[k], f"{label}: {k} does not round-trip"
            cls.secrets += secrets_of(key)
            add(label, blob, "rsa-private-key", encoding, spki_fingerprint(key.public_key()))
        for label, curve, magic, field, encoding in (("cng-ecs2", ec.SECP256R1(), 0x32534345, 32, "cng-ecdsa-p256"),
                                                     ("cng-eck4", ec.SECP384R1(), 0x344B4345, 48, "cng-ecdh-p384")):
            key = ec.generate_private_key(curve)
            blob = cng_ecc(key, magic, field)
            n = key.private_numbers()
            assert struct.unpack_from("<2I", blob) == (magic, field)
            assert int.from_bytes(blob[8:8 + field], "big") == n.public_numbers.x
            assert int.from_bytes(blob[8 + field:8 + 2 * field], "big") == n.public_numbers.y
            assert int.from_bytes(blob[8 + 2 * field:], "big") == n.private_value
            cls.secrets += secrets_of(key)
            add(label, blob, "ec-private-key", encoding, spki_fingerprint(key.public_key()))
        for label, header, encoding in (("capi", True, "capi-privatekeyblob"), ("capi-bare", False, "capi-rsa2")):
            key = rsa.generate_private_key(65537, 2048)
            blob = capi_rsa(key, header)
            expected = rsa_expected(key)
            for k, v in capi_rsa_numbers(blob, header).items():
                assert v == expected[k], f"{label}: {k} does not round-trip"
            cls.secrets += secrets_of(key)
            add(label, blob, "rsa-private-key", encoding, spki_fingerprint(key.public_key()))

        # JWK: an RSA key alone, and a JWK Set with an EC P-521 key, an Ed25519 key and a public key.
        import json
        jwk_rsa = rsa.generate_private_key(65537, 2048)
        cls.secrets += secrets_of(jwk_rsa)
        text = json.dumps(jwk_of(jwk_rsa)).encode()
        assert json.loads(text)["kty"] == "RSA"
        add("jwk-rsa", text, "rsa-private-key", "jwk", spki_fingerprint(jwk_rsa.public_key()))
        jwk_ec = ec.generate_private_key(ec.SECP521R1())
        jwk_ed = ed25519.Ed25519PrivateKey.generate()
        jwk_pub = ec.generate_private_key(ec.SECP256R1())
        cls.secrets += secrets_of(jwk_ec) + secrets_of(jwk_ed)
        public_only = {k: v for k, v in jwk_of(jwk_pub).items() if k != "d"}
        members = [json.dumps(jwk_of(jwk_ec), indent=2).encode(), json.dumps(jwk_of(jwk_ed)).encode(),
                   json.dumps(public_only).encode()]
        jwk_set = b'{"keys": [\n' + b",\n".join(members) + b"\n]}"
        add("jwk-set", jwk_set, None, None, None)
        cls.jwk_set_members = [(members[0], "ec-private-key", spki_fingerprint(jwk_ec.public_key())),
                               (members[1], "ed25519-private-key", spki_fingerprint(jwk_ed.public_key()))]
        cls.jwk_public_fp = spki_fingerprint(jwk_pub.public_key())

        # PEM and DER as OpenSSL writes them (openssl genpkey / pkey / pkcs8): PKCS#8 and
        # traditional PEM, PKCS#1, PKCS#8 and SEC1 DER, Ed25519 and X25519 PKCS#8, and two
        # encrypted forms. The fingerprint key is made here so the test can compute the keyed
        # fingerprint of an encrypted block itself.
        cls.fp_key = os.path.join(d, "fingerprint.key")
        with open(os.open(cls.fp_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(os.urandom(32))
        genargs = {"rsa": ("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"),
                   "p256": ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"),
                   "p384": ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"),
                   "ed25519": ("-algorithm", "ED25519"), "x25519": ("-algorithm", "X25519")}
        # OpenSSL's Ed25519 and X25519 PKCS#8 carry no public key: such a seed is unverified
        # unless its public key is elsewhere in the dump (any 32 bytes derive some public key).
        for label, alg, outargs, kind, encoding, verified in (
                ("pem-pkcs8-rsa", "rsa", ("pkey",), "rsa-private-key", "pem-pkcs8", True),
                ("pem-pkcs1-rsa", "rsa", ("pkey", "-traditional"), "rsa-private-key", "pem-pkcs1", True),
                ("pem-sec1-p256", "p256", ("pkey", "-traditional"), "ec-private-key", "pem-sec1", True),
                ("der-pkcs1-rsa", "rsa", ("rsa", "-traditional", "-outform", "DER"), "rsa-private-key", "der-pkcs1",
                 True),
                ("der-pkcs8-p384", "p384", ("pkcs8", "-topk8", "-nocrypt", "-outform", "DER"), "ec-private-key",
                 "der-pkcs8", True),
                ("der-sec1-p256", "p256", ("ec", "-outform", "DER"), "ec-private-key", "der-sec1", True),
                ("der-pkcs8-ed25519", "ed25519", ("pkcs8", "-topk8", "-nocrypt", "-outform", "DER"),
                 "ed25519-private-key", "der-pkcs8", False),
                ("pem-pkcs8-x25519", "x25519", ("pkey",), "x25519-private-key", "pem-pkcs8", False)):
            src = os.path.join(d, label + ".key")
            dgtest.openssl("genpkey", *genargs[alg], "-out", src)
            out = os.path.join(d, label + ".out")
            dgtest.openssl(outargs[0], "-in", src, *outargs[1:], "-out", out)
            key = serialization.load_pem_private_key(read(src), password=None)  # independent parse
            cls.secrets += secrets_of(key)
            data = read(out)
            if not label.startswith("der-"):  # a DER key may end in 0x0a: only PEM text loses its newline
                data = data.rstrip(b"\n")
            add(label, data, kind, encoding, spki_fingerprint(key.public_key()), verified=verified,
                severity="critical" if verified else "high")
        for label, args in (("pem-encrypted-pkcs8", ("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", "pass:dg")),
                            ("pem-encrypted-legacy", ("pkey", "-traditional", "-aes128", "-passout", "pass:dg"))):
            src = os.path.join(d, label + ".key")
            dgtest.openssl("genpkey", *genargs["rsa"], "-out", src)
            cls.secrets += secrets_of(serialization.load_pem_private_key(read(src), password=None))
            out = os.path.join(d, label + ".out")
            dgtest.openssl(args[0], "-in", src, *args[1:], "-out", out)
            text = read(out).rstrip(b"\n")
            body = b"".join(line for line in text.splitlines()
                            if line and not line.startswith(b"-----") and b":" not in line)
            keyed = "hmac-sha256:" + hmac.new(read(cls.fp_key), base64.b64decode(body), hashlib.sha256).hexdigest()
            add(label, text, "encrypted-private-key", "pem", keyed, verified=False, severity="low")

        # Plant everything at odd offsets inside the heap region, 0x33 bytes apart.
        offset = heap["file_offset"] + 0x1001
        total = sum(len(p[1]) + 0x33 for p in pieces)
        assert heap["size"] >= total + 0x2000, f"heap region too small: {heap['size']:#x} < {total:#x}"
        with open(cls.copy, "r+b") as f:
            for name, data, kind, encoding, fingerprint, verified, severity, _ in pieces:
                f.seek(offset)
                f.write(data)
                if name == "jwk-set":
                    for member, member_kind, member_fp in cls.jwk_set_members:
                        cls.expect.append((name, offset + data.index(member), len(member), member_kind, "jwk", True,
                                           member_fp, "critical"))
                else:
                    cls.expect.append((name, offset, len(data), kind, encoding, verified, fingerprint, severity))
                offset += len(data) + 0x33
                offset |= 1
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key", cls.fp_key, cls.copy)
        cls.exit_code, cls.out, cls.err = code, out, err
        cls.report = dgtest.json.loads(out)

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()

    def test_exit_code_is_1_for_findings(self):
        self.assertEqual(self.exit_code, 1, self.err)

    def test_each_structure_is_one_finding_with_its_exact_span(self):
        findings = self.report["findings"]
        for name, offset, length, kind, encoding, verified, fingerprint, severity in self.expect:
            with self.subTest(name):
                at = [f for f in findings if f["file_offset"] == offset]
                self.assertEqual(len(at), 1, f"{name}: findings at {offset:#x}: {at}")
                f = at[0]
                self.assertEqual(f["length"], length)
                self.assertEqual(f["kind"], kind)
                self.assertEqual(f["encoding"], encoding)
                self.assertEqual(f["verified"], verified, f["proof"])
                self.assertEqual(f["severity"], severity)
                self.assertEqual(f["key"], fingerprint)
                self.assertEqual(f["region_kind"], "heap")

    def test_verified_keys_are_grouped_under_their_fingerprints(self):
        keys = {k["fingerprint"]: k for k in self.report["keys"]}
        for name, _, _, _, _, verified, fingerprint, _ in self.expect:
            if verified:
                with self.subTest(name):
                    self.assertIn(fingerprint, keys)
                    self.assertTrue(keys[fingerprint]["verified"])

    def test_public_jwk_in_the_set_is_harvested(self):
        fps = {k["fingerprint"]: k for k in self.report["public_keys"]}
        self.assertIn(self.jwk_public_fp, fps)
        self.assertFalse(fps[self.jwk_public_fp]["derived"])

    def test_no_report_carries_secret_bytes(self):
        _, text_out, text_err = dgtest.run_dumpguard("scan", "--fingerprint-key", self.fp_key, self.copy)
        secrets = {}
        for i, secret in enumerate(self.secrets):
            encodings = [secret] if isinstance(secret, bytes) else list(dgtest.le_be_encodings(secret))
            secrets.update({f"secret {i} ({e})": b for e, b in zip(("be", "le"), encodings)})
        self.assertGreater(len(secrets), 20)
        dgtest.assert_no_secret({"scan --json": self.out, "stderr": self.err, "scan": text_out, "scan stderr": text_err},
                                secrets)


class SshAgentShieldsItsKeys(dgtest.DumpTestCase):
    """ssh-agent keeps keys shielded (encrypted under a random pre-key) between uses: a core of
    a real agent must not yield a verified claim for any of the keys it holds."""

    def test_no_verified_claim_for_agent_keys(self):
        if not all(shutil.which(t) for t in ("ssh-agent", "ssh-add", "ssh-keygen")):
            self.skipTest("ssh-agent, ssh-add or ssh-keygen is not installed")
        paths = [ssh_keygen(self.tmp, "agent_rsa", "rsa", 2048), ssh_keygen(self.tmp, "agent_ed25519", "ed25519"),
                 ssh_keygen(self.tmp, "agent_ecdsa", "ecdsa", 256)]
        fingerprints = set()
        for path in paths:
            key = serialization.load_ssh_private_key(read(path), password=None)
            fingerprints.add(spki_fingerprint(key.public_key()))
            if isinstance(key, ed25519.Ed25519PrivateKey):
                ed_public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        out = subprocess.run(["ssh-agent", "-s"], check=True, capture_output=True, text=True, timeout=30).stdout
        env = dict(os.environ)
        for part in out.replace("\n", ";").split(";"):
            part = part.strip()
            if "=" in part and not part.startswith("echo"):
                k, v = part.split("=", 1)
                env[k] = v
        agent_pid = int(env["SSH_AGENT_PID"])
        try:
            for path in paths:
                subprocess.run(["ssh-add", path], env=env, check=True, capture_output=True, timeout=30)
            listed = subprocess.run(["ssh-add", "-l"], env=env, check=True, capture_output=True, text=True).stdout
            self.assertEqual(len(listed.strip().splitlines()), 3, listed)
            core = dgtest.gcore(agent_pid, self.tmp)
        finally:
            subprocess.run(["kill", str(agent_pid)], capture_output=True)
        # Independent check that the core is of an agent holding the keys: the agent keeps
        # the Ed25519 public key in the clear (struct sshkey), only the private half shielded.
        self.assertIn(ed_public, read(core))
        code, out, err = dgtest.run_dumpguard("scan", "--json", "--fingerprint-key",
                                              os.path.join(self.tmp, "fp.key"), core)
        report = dgtest.json.loads(out)
        for f in report["findings"]:
            self.assertFalse(f["verified"] and f["key"] in fingerprints, f"verified claim for an agent key: {f}")
        for k in report["keys"]:
            self.assertFalse(k["verified"] and k["fingerprint"] in fingerprints, k)


if __name__ == "__main__":
    unittest.main()
