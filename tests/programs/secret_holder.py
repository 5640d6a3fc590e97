"""A service that holds registered secrets as services do: argv[1]'s file holds a database
password (text), argv[2]'s an API key (binary). The password is kept as a str and as the
UTF-16LE bytes a Windows API would want; the API key as bytes, as hex (how it was configured)
and as base64 (how it goes into a header). With no arguments it holds nothing secret.
Prints "ready", then waits until stdin closes."""
import base64
import sys

held = {}
if len(sys.argv) > 2:
    password = open(sys.argv[1]).read().strip()
    api_key = open(sys.argv[2], "rb").read()
    held = {
        "password": password,
        "password_wide": password.encode("utf-16-le"),
        "api_key": api_key,
        "api_key_hex": api_key.hex(),
        "authorization": "Bearer " + base64.b64encode(api_key).decode(),
    }
print("ready", flush=True)
sys.stdin.read()
