#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/ (#11 R1).

Seals come from the real iron-session (tests/interop/iron.mjs, the library authkit-nextjs
seals with) under the fuzz targets' password, so the fuzzer starts from values the request
path really sees; hostile return paths come from tests/data/hostile_return_paths.json.
Run by scripts/fuzz.sh before fuzzing; idempotent (files are named by content hash).
"""
import base64, hashlib, json, os, pathlib, subprocess, sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "fuzz" / "corpus"
PASSWORD = "a-fuzzing-cookie-password-of-32-chars-or-more"  # src/fuzzing.rs


def b64(obj):
    raw = obj if isinstance(obj, bytes) else json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt(header, claims, sig=b"\x01" * 256):
    return f"{b64(header)}.{b64(claims)}.{b64(sig)}"


CLAIMS = {"iss": "https://api.workos.com/", "sub": "user_01ADA", "sid": "session_01",
          "jti": "jti_01", "org_id": "org_01", "role": "admin", "roles": ["admin"],
          "permissions": ["posts:read", "posts:write"], "entitlements": ["audit-logs"],
          "feature_flags": ["beta"], "exp": 1_900_000_000, "iat": 1_800_000_000}
TOKEN = jwt({"alg": "RS256", "kid": "sso_oidc_key_pair_01", "typ": "JWT"}, CLAIMS)
SESSION = {"accessToken": TOKEN, "refreshToken": "rt_0123456789abcdef",
           "user": {"object": "user", "id": "user_01ADA", "email": "ada@example.com",
                    "emailVerified": True, "firstName": "Ada", "lastName": "Lovelace",
                    "profilePictureUrl": None, "createdAt": "2026-01-01T00:00:00.000Z",
                    "updatedAt": "2026-01-01T00:00:00.000Z"},
           "impersonator": {"email": "admin@example.com", "reason": "support"},
           "authenticationMethod": "Password"}
STATE = {"nonce": "00112233445566778899aabbccddeeff", "codeVerifier": "v" * 43,
         "customState": "cart=3", "returnPathname": "/dashboard?tab=2"}


def iron(ops):
    out = subprocess.run(["node", str(ROOT / "tests/interop/iron.mjs")], input=json.dumps(ops),
                         capture_output=True, text=True, check=True, cwd=ROOT / "tests/interop")
    return [r["value"] for r in json.loads(out.stdout)]


def write(target, data):
    data = data.encode() if isinstance(data, str) else data
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main():
    sealed_session, sealed_state, sealed_ttl = iron([
        {"op": "seal", "data": SESSION, "password": PASSWORD},
        {"op": "seal", "data": STATE, "password": PASSWORD, "ttl": 600},
        {"op": "seal", "data": SESSION, "password": {"2": PASSWORD}, "ttl": 3600},
    ])
    hostile = json.loads((ROOT / "tests/data/hostile_return_paths.json").read_text())
    hostile = [h["value"] if isinstance(h, dict) else h for h in hostile]

    for mode, text in [(0, sealed_session), (0, sealed_ttl), (0, sealed_session[:-2]),
                       (0, "Fe26.2**x*y*z**0*mac~2"), (1, json.dumps(SESSION)),
                       (1, '{"a":[1,2.5e-300,null,true,"\\u00e9"]}')]:
        write("unseal", bytes([mode]) + text.encode())

    for header in [f"wos-session={sealed_session}", f"theme=caf\u00e9; wos-session={sealed_session}",
                   f"wos-session.0={sealed_session[:100]}; wos-session.1={sealed_session[100:]}",
                   'a="quoted"; b=%41%zz; =empty; c; wos-session="x"',
                   f"wos-auth-verifier-0a1b2c={sealed_state}; wos-auth-verifier=1",
                   "wos-session=a\nwos-session=b\nother=1"]:
        write("cookie_header", header.encode("latin-1", "replace") if "\u00e9" in header else header)
    write("cookie_header", b"theme=caf\xe9; wos-session=x")

    for pattern, path in [("/", "/"), ("/dashboard/:path*", "/dashboard/a/b"),
                          ("/users/:id", "/users/1/"), ("/files/:name?", "/files"),
                          ("/docs/:rest+", "/docs/a"), ("/file-:id.txt", "/file-7.txt"),
                          ("/a\\.b/:x", "/a.b/1"), ("/:id(\\d+)", "/1")]:
        write("matcher", f"{pattern}\n{path}")
    for value in hostile:
        write("matcher", value)

    write("sign_in_state", b"\x00" + sealed_state.encode())
    write("sign_in_state", b"\x01/dashboard?tab=2\ncart=3\n" + b"v" * 43)
    for value in hostile[:20]:
        write("sign_in_state", b"\x01" + value.encode() + b"\n\nverifier")

    for token in [TOKEN, jwt({"alg": "none"}, CLAIMS, b""), jwt({"alg": "HS256", "kid": "k"}, CLAIMS),
                  jwt({"alg": "RS256", "kid": "k", "crit": ["exp"]}, CLAIMS),
                  jwt({"alg": "RS256", "kid": "k"}, {"sub": "u", "exp": "soon"}), "a.b.c", "...", ""]:
        write("jwt", token)

    for mode, body in [(1, "grant_type=authorization_code&client_id=client_01&code=code_01"
                           "&code_verifier=" + "v" * 43 + "&client_secret=sk_test"),
                       (1, "grant_type=refresh_token&refresh_token=rt_1&organization_id=org_1"),
                       (1, "a=%zz&b=%C3%A9&c=+&=&&"),
                       (0, json.dumps({"grant_type": "refresh_token", "refresh_token": "rt_1",
                                       "client_id": "client_01", "client_secret": "sk"})),
                       (0, "[1,2]"), (0, '{"a":{"b":[null]}}')]:
        write("emulator_body", bytes([mode]) + body.encode())
    print(f"seed corpus written under {CORPUS}")


if __name__ == "__main__":
    sys.exit(main())
