"""Holds secrets the way a Python service does, for the closure tests: an RSA key's numbers as
Python ints (CPython's 30-bit digits), the key's PEM text, an Azure storage connection string
and its account key split out of it, a JWT and its segments split apart. The values come from
a JSON file the test wrote; also a 32-byte HMAC key as a bytes object (CPython's small-object
allocator, no malloc chunk of its own) beside an HS256 JWT it signed, and a 48-byte one beside an
HS384 JWT, and short HS256 keys (16, 20 and 24 bytes) each beside a JWT it signed; and a second RSA key held
only as Python ints, with no PEM, DER or BIGNUM copy anywhere, which the scan must discover from
the digits alone. Prints "ready" and waits until stdin closes."""
import json
import sys

with open(sys.argv[1]) as f:
    spec = json.load(f)
with open(spec["pem"]) as f:
    pem = f.read()
numbers = [int(h, 16) for h in spec["numbers"]]
# Arithmetic a signer would do keeps more ints alive: the CRT halves of one private operation.
m = 0x1234567890ABCDEF1234567890ABCDEF
n, e, d, p, q, dp, dq, qinv = numbers
halves = [pow(m, dp, p), pow(m, dq, q)]
connection = spec["connection"]
account_key = connection.split("AccountKey=")[1].split(";")[0]  # a str of its own
token = spec["jwt"]
segments = token.split(".")
hmac_key = bytes.fromhex(spec.pop("hmac_key_hex"))
hs_token = spec["hs_token"]
hs384_key = bytes.fromhex(spec.pop("hs384_key_hex"))
hs384_token = spec["hs384_token"]
blind = [int(h, 16) for h in spec.pop("blind")]
short_keys = [bytes.fromhex(h) for h in spec.pop("short_keys_hex")]
short_tokens = spec["short_tokens"]
print("ready", flush=True)
sys.stdin.read()
print(len(pem), len(numbers), len(halves), len(account_key), len(segments), len(hmac_key), len(hs_token), len(blind), len(hs384_key),
      len(hs384_token), len(short_keys), len(short_tokens))
