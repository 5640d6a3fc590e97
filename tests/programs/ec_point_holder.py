"""Holds EC private keys the way a Python service that made them in memory does, for the EC
blind-proof test: each key is an OpenSSL key object (cryptography's), built from a scalar the
test wrote, and its public point is kept only as SEC1 bytes (X9.62 uncompressed), the form a
service sends to a peer. No PEM, DER, certificate or SubjectPublicKeyInfo of any key is made,
so a scan can know the keys only by proving each scalar from its d·G. A key under "python" is
held with no OpenSSL object at all: its scalar only as a Python int (CPython's 30-bit digits),
its point (computed by the test) as SEC1 bytes. Prints "ready" and waits until stdin closes."""
import json
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

CURVES = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1()}

with open(sys.argv[1]) as f:
    spec = json.load(f)
os.unlink(sys.argv[1])
python_only = spec.pop("python", {})
held = {name: int(k["scalar"], 16) for name, k in python_only.items()}
keys, points = [], [bytes.fromhex(k["point"]) for k in python_only.values()]
for name, scalar_hex in spec.items():
    key = ec.derive_private_key(int(scalar_hex, 16), CURVES[name])
    keys.append(key)
    points.append(key.public_key().public_bytes(serialization.Encoding.X962,
                                                serialization.PublicFormat.UncompressedPoint))
# A signature uses each key, as a service would.
from cryptography.hazmat.primitives import hashes  # noqa: E402
signatures = [k.sign(b"message", ec.ECDSA(hashes.SHA256())) for k in keys]
print("ready", flush=True)
sys.stdin.read()
print(len(keys), len(points), len(signatures), len(held))
