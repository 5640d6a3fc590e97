"""Key structures as memory holds them, built from key numbers by the tests: Windows CNG and
CAPI blobs (bytes laid out from Microsoft's documentation), JWKs (RFC 7517/7518/8037), and
the OpenSSH container. Shared by the planting test and the fuzz seed generator."""
import base64
import hashlib
import os
import struct
import subprocess

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def spki_fingerprint(public_key):
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def be(value, width=None):
    width = width or (value.bit_length() + 7) // 8
    return value.to_bytes(width, "big")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def secrets_of(key):
    """Every secret number of a key, as integers (or raw bytes for Ed25519 seeds)."""
    if isinstance(key, rsa.RSAPrivateKey):
        n = key.private_numbers()
        return [n.p, n.q, n.d, n.dmp1, n.dmq1, n.iqmp]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return [key.private_numbers().private_value]
    return [key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                              serialization.NoEncryption())]


# --- Windows blobs, after "BCRYPT_RSAKEY_BLOB structure", "BCRYPT_ECCKEY_BLOB structure"
# (bcrypt.h) and "Base Provider Key BLOBs" (wincrypt.h) -------------------------------------
RSA1, RSA2, RSA3 = 0x31415352, 0x32415352, 0x33415352


def cng_rsa(key, magic):
    n = key.private_numbers()
    bits = key.key_size
    mod, half = bits // 8, bits // 16
    e = be(n.public_numbers.e)
    out = struct.pack("<6I", magic, bits, len(e), mod, half, half) + e + be(n.public_numbers.n, mod)
    out += be(n.p, half) + be(n.q, half)
    if magic == RSA3:
        out += be(n.dmp1, half) + be(n.dmq1, half) + be(n.iqmp, half) + be(n.d, mod)
    return out


def cng_rsa_numbers(blob):
    """Independent read-back of a CNG RSA blob: the numbers its header says it holds."""
    magic, bits, cb_exp, cb_mod, cb_p1, cb_p2 = struct.unpack_from("<6I", blob)
    sizes = [("e", cb_exp), ("n", cb_mod), ("p", cb_p1), ("q", cb_p2)]
    if magic == RSA3:
        sizes += [("dp", cb_p1), ("dq", cb_p2), ("qi", cb_p1), ("d", cb_mod)]
    out, at = {}, 24
    for name, size in sizes:
        out[name] = int.from_bytes(blob[at:at + size], "big")
        at += size
    assert at == len(blob)
    return out


def cng_ecc(key, magic, field):
    n = key.private_numbers()
    return (struct.pack("<2I", magic, field) + be(n.public_numbers.x, field) + be(n.public_numbers.y, field)
            + be(n.private_value, field))


def capi_rsa(key, header=True):
    n = key.private_numbers()
    bits = key.key_size
    mod, half = bits // 8, bits // 16
    le = lambda v, w: v.to_bytes(w, "little")  # noqa: E731
    out = struct.pack("<BBHI", 0x07, 0x02, 0, 0xA400) if header else b""
    out += struct.pack("<4sII", b"RSA2", bits, n.public_numbers.e) + le(n.public_numbers.n, mod)
    for v in (n.p, n.q, n.dmp1, n.dmq1, n.iqmp):
        out += le(v, half)
    return out + le(n.d, mod)


def capi_rsa_numbers(blob, header=True):
    at = 8 if header else 0
    if header:
        assert blob[:2] == b"\x07\x02" and struct.unpack_from("<I", blob, 4)[0] == 0xA400
    magic, bits, e = struct.unpack_from("<4sII", blob, at)
    assert magic == b"RSA2"
    at += 12
    out = {"e": e}
    for name, size in [("n", bits // 8)] + [(x, bits // 16) for x in ("p", "q", "dp", "dq", "qi")] + [("d", bits // 8)]:
        out[name] = int.from_bytes(blob[at:at + size], "little")
        at += size
    assert at == len(blob)
    return out


def rsa_expected(key):
    n = key.private_numbers()
    return {"e": n.public_numbers.e, "n": n.public_numbers.n, "p": n.p, "q": n.q, "dp": n.dmp1, "dq": n.dmq1,
            "qi": n.iqmp, "d": n.d}


def jwk_of(key):
    if isinstance(key, rsa.RSAPrivateKey):
        n = key.private_numbers()
        return {"kty": "RSA", "n": b64url(be(n.public_numbers.n)), "e": b64url(be(n.public_numbers.e)),
                "d": b64url(be(n.d)), "p": b64url(be(n.p)), "q": b64url(be(n.q)), "dp": b64url(be(n.dmp1)),
                "dq": b64url(be(n.dmq1)), "qi": b64url(be(n.iqmp))}
    if isinstance(key, ec.EllipticCurvePrivateKey):
        n = key.private_numbers()
        field = (key.curve.key_size + 7) // 8
        crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[key.curve.name]
        return {"kty": "EC", "crv": crv, "x": b64url(be(n.public_numbers.x, field)),
                "y": b64url(be(n.public_numbers.y, field)), "d": b64url(be(n.private_value, field))}
    raw_pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw_pub), "d": b64url(secrets_of(key)[0])}


def pem_body(text):
    lines = [line for line in text.strip().splitlines() if not line.startswith("-----")]
    return base64.b64decode("".join(lines))


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def ssh_keygen(directory, name, kind, bits=None, passphrase=""):
    path = os.path.join(directory, name)
    args = ["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", "dumpguard-test", "-f", path]
    if bits:
        args += ["-b", str(bits)]
    subprocess.run(args, check=True, capture_output=True, timeout=120)
    return path
