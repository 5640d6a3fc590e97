"""Replays key-bearing seeds through the key detectors' fuzz entry points.

No private key is committed, not even a fuzz seed, so the seeds that hold keys are made
here at run time (openssl, ssh-keygen, and the CNG, CAPI and JWK builders in keyforms.py)
and fed to the replay drivers of the key-parsing fuzz targets, in every build. The
committed corpora hold the key-free seeds. To fuzz from these seeds, set
DG_KEEP_SEEDS=DIR and the test copies them there."""
import glob
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import dgtest  # noqa: E402
import keyforms  # noqa: E402

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa  # noqa: E402

REPLAY_DIR = os.environ.get("DG_REPLAY_DIR", "")
TARGETS = ("scan", "structured_keys", "aes_schedule")


def make_seeds(directory):
    for name, args in (("rsa", ("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024")),
                       ("ec", ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")),
                       ("ed25519", ("-algorithm", "ED25519",))):
        pem = os.path.join(directory, f"{name}.pem")
        dgtest.openssl("genpkey", *args, "-out", pem)
        dgtest.openssl("pkey", "-in", pem, "-outform", "DER", "-out", os.path.join(directory, f"{name}.der"))
        if name != "ed25519":  # Ed25519 has no traditional (non-PKCS#8) form
            dgtest.openssl("pkey", "-in", pem, "-traditional", "-out", os.path.join(directory, f"{name}.trad.pem"))
        dgtest.openssl("req", "-x509", "-key", pem, "-out", os.path.join(directory, f"{name}.crt"), "-days", "1",
                       "-subj", "/CN=seed")
    dgtest.openssl("pkcs8", "-topk8", "-in", os.path.join(directory, "rsa.pem"), "-passout", "pass:seed",
                   "-out", os.path.join(directory, "rsa.enc.pem"))
    for kind in ("rsa", "ed25519", "ecdsa"):
        key = os.path.join(directory, f"ssh_{kind}")
        subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", key] + (["-b", "1024"] if kind == "rsa" else []),
                       check=False, capture_output=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "seed-pass", "-f", os.path.join(directory, "ssh_enc")],
                   check=False, capture_output=True)
    # The binary OpenSSH container, as memory holds it once decoded.
    for kind in ("rsa", "ed25519", "ecdsa"):
        key = os.path.join(directory, f"ssh_{kind}")
        if os.path.exists(key):
            with open(key + ".bin", "wb") as f:
                f.write(keyforms.pem_body(keyforms.read(key, "r")))
    # Windows blobs and JWKs, built from key numbers made now.
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    forms = {
        "cng_rsa3.bin": keyforms.cng_rsa(rsa_key, keyforms.RSA3),
        "cng_rsa2.bin": keyforms.cng_rsa(rsa_key, keyforms.RSA2),
        "cng_ecs2.bin": keyforms.cng_ecc(ec_key, 0x32534345, 32),
        "capi_privatekeyblob.bin": keyforms.capi_rsa(rsa_key),
        "capi_rsa2_bare.bin": keyforms.capi_rsa(rsa_key, header=False),
        "jwk_rsa.json": dgtest.json.dumps(keyforms.jwk_of(rsa_key)).encode(),
        "jwks.json": dgtest.json.dumps({"keys": [keyforms.jwk_of(ec_key),
                                                 keyforms.jwk_of(ed25519.Ed25519PrivateKey.generate())]}).encode(),
    }
    # An HS256 JWT beside the secret that signed it, as a service's memory holds them.
    import base64, hashlib, hmac as hmac_module
    secret = os.urandom(12).hex().encode()
    signing_input = (base64.urlsafe_b64encode(b'{"alg":"HS256"}').rstrip(b"=") + b"." +
                     base64.urlsafe_b64encode(b'{"sub":"seed"}').rstrip(b"="))
    token = signing_input + b"." + base64.urlsafe_b64encode(
        hmac_module.new(secret, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    forms["jwt_and_secret.txt"] = b"token=" + token + b"\0secret=\0" + secret + b"\0" + secret.decode().encode("utf-16-le")
    for name, data in forms.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
    # One image with everything at odd offsets, as memory would hold it.
    blob = b""
    for path in sorted(glob.glob(os.path.join(directory, "*"))):
        blob += os.urandom(len(blob) % 7 + 1) + open(path, "rb").read()
    with open(os.path.join(directory, "all.raw"), "wb") as f:
        f.write(blob)


class FuzzKeySeeds(dgtest.DumpTestCase):
    def setUp(self):
        super().setUp()
        make_seeds(self.tmp)

    def test_every_key_parsing_target_takes_the_seeds(self):
        keep = os.environ.get("DG_KEEP_SEEDS")
        if keep:
            import shutil
            shutil.copytree(self.tmp, keep, dirs_exist_ok=True)
        ran = 0
        for target in TARGETS:
            driver = os.path.join(REPLAY_DIR, f"replay_fuzz_{target}")
            if not os.path.exists(driver):
                continue
            proc = subprocess.run([driver, self.tmp], capture_output=True, timeout=600)
            self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace")[-2000:])
            ran += 1
        self.assertGreater(ran, 0, "no key-parsing fuzz target was built")


if __name__ == "__main__":
    unittest.main()
