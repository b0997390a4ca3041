#!/usr/bin/env python3
"""Interop helper for the password module's tests (run by `password::tests::interop_*`).

    interop.py fresh
        Prints fresh hashes with random salts and random passwords, made by the real
        libraries, one per line: `<kind>\t<hex of the UTF-8 password>\t<stored hash>`.
    interop.py check <hex of the UTF-8 password> <argon2id PHC string>
        Verifies a hash made by Portcullis with argon2-cffi and with Django's argon2
        hasher; prints `ok` and exits 0 when both accept it, else exits 1.

Needs pydal, Django, bcrypt and argon2-cffi (see .ci/setup.d/30-password-hashers.sh).
"""

import hashlib
import secrets
import sys

import argon2
import bcrypt
import django
from django.conf import settings

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
from django.contrib.auth.hashers import (  # noqa: E402
    PBKDF2PasswordHasher,
    PBKDF2SHA1PasswordHasher,
    check_password,
    make_password,
)
from pydal.validators import CRYPT  # noqa: E402

ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 !$%&/()=?äöüß€漢字🔑"


def random_password():
    return "".join(secrets.choice(ALPHABET) for _ in range(secrets.randbelow(30) + 1))


def fresh():
    out = []
    for _ in range(2):
        pw = random_password()
        salt_hex = hashlib.sha1(secrets.token_bytes(32)).hexdigest()
        out.append(("salted-sha1", pw, salt_hex + hashlib.sha1(pw.encode() + salt_hex.encode()).hexdigest()))
        out.append(("web2py-crypt-pbkdf2", pw, str(CRYPT(digest_alg="pbkdf2(1000,20,sha512)", salt=True)(pw)[0])))
        for alg in ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]:
            out.append(("web2py-crypt", pw, str(CRYPT(digest_alg=alg, salt=True)(pw)[0])))
            out.append(("hex-digest", pw, hashlib.new(alg, pw.encode()).hexdigest()))
        out.append(("django-pbkdf2-sha256", pw, PBKDF2PasswordHasher().encode(pw, PBKDF2PasswordHasher().salt(), 5000)))
        out.append(("django-pbkdf2-sha1", pw, PBKDF2SHA1PasswordHasher().encode(pw, PBKDF2SHA1PasswordHasher().salt(), 5000)))
        out.append(("bcrypt", pw, bcrypt.hashpw(pw.encode()[:72], bcrypt.gensalt(rounds=4)).decode()))
        out.append(("argon2id", pw, argon2.PasswordHasher(time_cost=1, memory_cost=256, parallelism=2).hash(pw)))
        out.append(("django-argon2", pw, make_password(pw, hasher="argon2")))
    for kind, pw, stored in out:
        print("%s\t%s\t%s" % (kind, pw.encode().hex(), stored))


def check(password_hex, stored):
    pw = bytes.fromhex(password_hex).decode()
    argon2.PasswordHasher().verify(stored, pw)  # raises on mismatch
    assert check_password(pw, "argon2" + stored), "django rejected it"
    assert not check_password(pw + "x", "argon2" + stored)
    print("ok")


if __name__ == "__main__":
    if sys.argv[1:2] == ["fresh"]:
        fresh()
    elif sys.argv[1:2] == ["check"] and len(sys.argv) == 4:
        check(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
