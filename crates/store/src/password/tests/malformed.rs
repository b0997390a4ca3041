//! Unknown and malformed stored values, DoS limits, overlong passwords.

use std::time::{Duration, Instant};

use super::*;
use crate::password::vectors::VECTORS;

pub(super) fn err(stored: &str) -> PasswordError {
    fast()
        .verify("password", stored)
        .expect_err(&format!("{stored} should be an error"))
}

#[test]
fn unknown_formats_are_errors_not_mismatches() {
    for s in [
        "",
        "   ",
        "plaintext-password",
        "abc123",             // hex, wrong length
        &"a".repeat(81),      // hex, 81 chars
        "sha3_256$salt$abcd", // unknown digest
        "md4$$31d6cfe0d16ae931b73c59d7e0c089c0",
        "foo$bar",                          // two fields
        "a$b$c$d$e",                        // many fields
        "$1$saltsalt$hashhashhashhashhash", // md5-crypt
        "$5$rounds=5000$salt$hash",         // sha256-crypt
        "$argon2x$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
        "{SSHA}abcdef",
        &"x".repeat(MAX_STORED_HASH_LEN + 1),
    ] {
        let e = err(s);
        assert!(
            matches!(e, PasswordError::UnknownFormat { .. }),
            "{s:?}: {e:?}"
        );
        assert!(identify(s).is_err());
    }
}

#[test]
fn malformed_values_name_their_format() {
    let cases: &[(&str, HashFormat)] = &[
        // argon2
        (
            "$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            HashFormat::Argon2id,
        ),
        (
            "$argon2id$v=19$m=64,t=1,p=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            HashFormat::Argon2id,
        ),
        (
            "$argon2id$v=19$m=sixty,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            HashFormat::Argon2id,
        ),
        (
            "$argon2id$v=19$m=064,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            HashFormat::Argon2id,
        ),
        (
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$",
            HashFormat::Argon2id,
        ),
        (
            "$argon2id$v=19$m=64,t=1,p=1$!!!!$aGFzaGhhc2g",
            HashFormat::Argon2id,
        ),
        (
            "$argon2id$v=19$m=64,t=1,p=1$c2Fs$aGFzaGhhc2g",
            HashFormat::Argon2id,
        ), // 3-byte salt
        (
            "$argon2id$v=19$m=4,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            HashFormat::Argon2id,
        ), // m < 8p
        (
            "$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            HashFormat::Argon2id,
        ),
        (
            "$argon2id$v=19$m=64,x=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            HashFormat::Argon2id,
        ),
        (
            "$argon2id$19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            HashFormat::Argon2id,
        ),
        ("$argon2i$v=19$m=64,t=1,p=1", HashFormat::Argon2i),
        (
            "argon2$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ",
            HashFormat::DjangoArgon2,
        ),
        // bcrypt
        ("$2b$04$abcdefghijklmnopqrstuu", HashFormat::Bcrypt),
        (
            "$2b$4$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6CG",
            HashFormat::Bcrypt,
        ),
        (
            "$2b$xx$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6CG",
            HashFormat::Bcrypt,
        ),
        (
            "$2b$03$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6CG",
            HashFormat::Bcrypt,
        ),
        (
            "$2b$04$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6C!",
            HashFormat::Bcrypt,
        ),
        (
            "$2c$04$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6CG",
            HashFormat::Bcrypt,
        ),
        ("bcrypt_sha256$$2b$12$short", HashFormat::DjangoBcryptSha256),
        ("bcrypt$$2b$12$short", HashFormat::DjangoBcrypt),
        // Django PBKDF2
        ("pbkdf2_sha256$20000$salt", HashFormat::DjangoPbkdf2Sha256),
        (
            "pbkdf2_sha256$-5$salt$H5OXHvrz6O4jNkXL/z59vHEDMEVLGG784rzS1n+qgVw=",
            HashFormat::DjangoPbkdf2Sha256,
        ),
        (
            "pbkdf2_sha256$0$salt$H5OXHvrz6O4jNkXL/z59vHEDMEVLGG784rzS1n+qgVw=",
            HashFormat::DjangoPbkdf2Sha256,
        ),
        (
            "pbkdf2_sha256$20000$salt$not base64!",
            HashFormat::DjangoPbkdf2Sha256,
        ),
        (
            "pbkdf2_sha256$20000$salt$px2qFv9Ll+vT9oo1/cOmyILfW8k=",
            HashFormat::DjangoPbkdf2Sha256,
        ), // sha1-sized
        (
            "pbkdf2_sha1$abc$salt$px2qFv9Ll+vT9oo1/cOmyILfW8k=",
            HashFormat::DjangoPbkdf2Sha1,
        ),
        // pydal pbkdf2
        ("pbkdf2(1000,20,sha512)$salt", HashFormat::CryptPbkdf2),
        (
            "pbkdf2(1000,20)$salt$11d297e5084b59b1a1b4809222e816ed838e9e51",
            HashFormat::CryptPbkdf2,
        ),
        (
            "pbkdf2(1000,20,sha512$salt$11d297e5084b59b1a1b4809222e816ed838e9e51",
            HashFormat::CryptPbkdf2,
        ),
        (
            "pbkdf2(x,20,sha512)$salt$11d297e5084b59b1a1b4809222e816ed838e9e51",
            HashFormat::CryptPbkdf2,
        ),
        ("pbkdf2(1000,0,sha512)$salt$", HashFormat::CryptPbkdf2),
        (
            "pbkdf2(1000,20,sha512)$salt$11d297e5084b59b1a1b4809222e816ed838e9e",
            HashFormat::CryptPbkdf2,
        ), // 19 bytes
        (
            "pbkdf2(1000,20,sha512)$salt$zz d297e5084b59b1a1b4809222e816ed838e9e51",
            HashFormat::CryptPbkdf2,
        ),
        // pydal digests
        (
            "sha1$salt$abf7aad6438836dbe526aa231abde2d0eef74d",
            HashFormat::CryptDigest,
        ),
        ("md5$$not-hex-not-hex-not-hex-not-", HashFormat::CryptDigest),
    ];
    for (s, format) in cases {
        let e = err(s);
        let got = match &e {
            PasswordError::Malformed { format, .. } | PasswordError::Unsupported { format, .. } => {
                *format
            }
            other => panic!("{s}: expected malformed/unsupported, got {other:?}"),
        };
        assert_eq!(got, *format, "{s}: {e}");
        assert!(e.to_string().contains(format.name()), "{e}");
        assert_eq!(identify(s), Err(e));
    }
}

#[test]
fn unsupported_variants_are_reported_as_such() {
    for (s, format) in [
        (
            "$2x$04$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6CG",
            HashFormat::Bcrypt,
        ),
        (
            "$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
            HashFormat::Argon2id,
        ),
        (
            "$argon2id$v=19$m=64,t=1,p=1,keyid=AAAA$c2FsdHNhbHQ$aGFzaGhhc2g",
            HashFormat::Argon2id,
        ),
        (
            "pbkdf2(1000,20,sha3)$salt$11d297e5084b59b1a1b4809222e816ed838e9e51",
            HashFormat::CryptPbkdf2,
        ),
    ] {
        assert!(
            matches!(err(s), PasswordError::Unsupported { format: f, .. } if f == format),
            "{s}: {:?}",
            err(s)
        );
    }
}

#[test]
fn error_messages_do_not_leak_the_stored_value() {
    let secretish = "deadbeefcafe$s3cr3tsalt$abcdef0123";
    let msg = err(secretish).to_string();
    assert!(
        !msg.contains("s3cr3tsalt") && !msg.contains("abcdef0123"),
        "{msg}"
    );
    assert!(msg.contains("`deadbeefcafe`"), "{msg}");
    let msg = err(&"f".repeat(50)).to_string();
    assert_eq!(
        msg,
        "unrecognized password hash format: a 50-character hex string (digests have 32, 40, 56, 64, 96 or 128, salted SHA-1 has 80)"
    );
}

// ---------------------------------------------------------------- DoS limits

#[test]
fn absurd_parameters_are_refused_before_hashing() {
    let cases: &[(&str, &str)] = &[
        (
            "pbkdf2_sha256$10000001$salt$H5OXHvrz6O4jNkXL/z59vHEDMEVLGG784rzS1n+qgVw=",
            "iterations",
        ),
        (
            "pbkdf2_sha1$4000000000$salt$px2qFv9Ll+vT9oo1/cOmyILfW8k=",
            "iterations",
        ),
        // 6,000,000 iterations x 2 output blocks of sha1 (keylen 40 > 20)
        (
            "pbkdf2(6000000,40,sha1)$s$00112233445566778899001122334455667788990011223344556677889900112233445566778899",
            "iterations",
        ),
        (
            "$argon2id$v=19$m=2097152,t=1,p=1$cG9ydGN1bGxpcy1zYWx0IQ$Fq0tMze6ZPbrPu/1nc1w8sJggbvGN6jLBN3DM2JFcUc",
            "m",
        ),
        (
            "$argon2id$v=19$m=64,t=1000,p=1$cG9ydGN1bGxpcy1zYWx0IQ$Fq0tMze6ZPbrPu/1nc1w8sJggbvGN6jLBN3DM2JFcUc",
            "t",
        ),
        (
            "$argon2id$v=19$m=8192,t=1,p=1000$cG9ydGN1bGxpcy1zYWx0IQ$Fq0tMze6ZPbrPu/1nc1w8sJggbvGN6jLBN3DM2JFcUc",
            "p",
        ),
        (
            "$2b$31$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6CG",
            "cost",
        ),
        (
            "$2b$17$abcdefghijklmnopqrstuu7EJV7kdjBBQxyb0HjTh9KS7.Lah/6CG",
            "cost",
        ),
    ];
    for (s, param) in cases {
        let start = Instant::now();
        let e = err(s);
        assert!(
            start.elapsed() < Duration::from_millis(500),
            "{s} was hashed"
        );
        assert!(
            matches!(e, PasswordError::TooExpensive { parameter, .. } if parameter == *param),
            "{s}: {e:?}"
        );
        // The format itself is fine.
        assert!(identify(s).is_ok());
    }
    // Limits are configurable.
    let strict = fast().with_limits(VerifyLimits {
        max_bcrypt_cost: 3,
        ..VerifyLimits::DEFAULT
    });
    let v = VECTORS.iter().find(|v| v.kind == "Bcrypt").unwrap();
    assert!(matches!(
        strict.verify(v.password, v.stored),
        Err(PasswordError::TooExpensive {
            parameter: "cost",
            value: 4,
            limit: 3,
            ..
        })
    ));
}

#[test]
fn overlong_passwords_are_refused_not_truncated() {
    let config = fast();
    let long = "p".repeat(MAX_PASSWORD_BYTES + 1);
    assert!(matches!(
        config.hash(&long),
        Err(PasswordError::PasswordTooLong { len, max: MAX_PASSWORD_BYTES }) if len == MAX_PASSWORD_BYTES + 1
    ));
    let v = &VECTORS[0];
    assert!(matches!(
        config.verify(&long, v.stored),
        Err(PasswordError::PasswordTooLong { .. })
    ));
    let max = "p".repeat(MAX_PASSWORD_BYTES);
    assert!(config.hash(&max).is_ok());
}
