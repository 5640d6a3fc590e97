"""A service that signs HS256 JWTs with a secret it holds, as configuration strings are held:
the secret (made at run time) comes from argv[1]'s file, is kept as a Python str, and signs a
token that the process also keeps. Prints "ready", then waits until stdin closes."""
import base64
import hashlib
import hmac
import json
import sys


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


secret = open(sys.argv[1]).read().strip()
header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
payload = b64url(json.dumps({"sub": "service-account", "iat": 1764000000}).encode())
signing_input = f"{header}.{payload}"
token = signing_input + "." + b64url(hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest())
sessions = {"current": token}
print("ready", flush=True)
sys.stdin.read()
