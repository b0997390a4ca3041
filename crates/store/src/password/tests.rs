//! Unit tests of the password module.
//!
//! The hash vectors in `vectors.rs` were produced by the real libraries (pydal
//! 20260520.0, Django 5.2.19, pyca/bcrypt 5.0.0, argon2-cffi 25.1.0) with
//! `crates/store/tests/vectors/gen_password_vectors.py`, which also checks each vector
//! with the producing library's own verifier before printing it.

use std::time::{Duration, Instant};

use super::vectors::{VECTORS, Vector};
use super::*;

/// Tiny argon2id parameters for new hashes in tests.
fn fast() -> PasswordConfig {
    PasswordConfig::new(Argon2Params::new(64, 1, 1).unwrap())
}

/// The pydal HMAC key used by the generator (`sha512:<key>`, minus the `sha512:`).
const CRYPT_KEY: &str = "3f0d4a1e-portcullis-test-key";

fn config_for(v: &Vector) -> PasswordConfig {
    if v.kind == "CryptHmac" {
        fast().with_crypt_hmac_key(CRYPT_KEY)
    } else {
        fast()
    }
}

fn expected_format(v: &Vector) -> HashFormat {
    match v.kind {
        "SaltedSha1" => HashFormat::SaltedSha1,
        "CryptPbkdf2" => HashFormat::CryptPbkdf2,
        "CryptSalted" | "CryptHmac" => HashFormat::CryptDigest,
        "BareHex" => HashFormat::HexDigest,
        "Django" if v.stored.starts_with("pbkdf2_sha1$") => HashFormat::DjangoPbkdf2Sha1,
        "Django" => HashFormat::DjangoPbkdf2Sha256,
        "DjangoArgon2" => HashFormat::DjangoArgon2,
        "DjangoBcryptSha256" => HashFormat::DjangoBcryptSha256,
        "DjangoBcrypt" => HashFormat::DjangoBcrypt,
        "Bcrypt" | "Bcrypt72" => HashFormat::Bcrypt,
        "Argon2" | "Argon2Owasp" if v.stored.starts_with("$argon2id$") => HashFormat::Argon2id,
        "Argon2" if v.stored.starts_with("$argon2i$") => HashFormat::Argon2i,
        "Argon2" if v.stored.starts_with("$argon2d$") => HashFormat::Argon2d,
        other => panic!("unknown vector kind {other}"),
    }
}

#[test]
fn every_vector_matches_and_is_identified() {
    let mut kinds = std::collections::HashSet::new();
    for v in VECTORS {
        let format = expected_format(v);
        kinds.insert(format);
        assert_eq!(identify(v.stored), Ok(format), "identify {}", v.stored);
        let got = config_for(v).verify(v.password, v.stored).unwrap();
        let Verification::Match(proof) = got else {
            panic!("{} should match {:?}", v.stored, v.password);
        };
        assert_eq!(proof.format(), format);
        // Only argon2id at (at least) the configured parameters is current.
        let current = format == HashFormat::Argon2id && !v.stored.contains("$v=16$");
        assert_eq!(proof.needs_rehash(), !current, "{}", v.stored);
    }
    // Every format has at least one real vector.
    assert_eq!(kinds.len(), 13, "formats covered: {kinds:?}");
}

#[test]
fn every_vector_mismatches_a_wrong_password() {
    for v in VECTORS {
        // (bcrypt ignores bytes after the 72nd, so appending is not "wrong" there)
        let appended = if v.kind == "Bcrypt72" {
            "y".repeat(72)
        } else {
            format!("{}x", v.password)
        };
        for wrong in [
            appended,
            "wrong password".to_owned(),
            v.password.to_uppercase() + "!",
        ] {
            let got = config_for(v).verify(&wrong, v.stored).unwrap();
            assert_eq!(got, Verification::Mismatch, "{} with {wrong:?}", v.stored);
            assert!(!got.is_match() && !got.needs_rehash());
        }
    }
}

#[test]
fn bcrypt_verification_follows_the_72_byte_rule() {
    let v = VECTORS.iter().find(|v| v.kind == "Bcrypt72").unwrap();
    let longer = format!("{}and more after byte 72", v.password);
    assert!(fast().verify(&longer, v.stored).unwrap().is_match());
    let shorter = &v.password[..71];
    assert!(!fast().verify(shorter, v.stored).unwrap().is_match());
}

#[test]
fn crypt_hmac_vectors_need_the_key() {
    for v in VECTORS.iter().filter(|v| v.kind == "CryptHmac") {
        // Without the key the value is a well-formed `alg$salt$hex`, so a mismatch.
        assert_eq!(
            fast().verify(v.password, v.stored).unwrap(),
            Verification::Mismatch
        );
        let wrong_key = fast().with_crypt_hmac_key("other");
        assert!(!wrong_key.verify(v.password, v.stored).unwrap().is_match());
    }
}

#[test]
fn hex_digests_are_case_insensitive_and_whitespace_is_ignored() {
    let v = VECTORS
        .iter()
        .find(|v| v.kind == "BareHex" && v.stored.len() == 40)
        .unwrap();
    let upper = v.stored.to_uppercase();
    assert!(fast().verify(v.password, &upper).unwrap().is_match());
    let padded = format!("  {}   \n", v.stored);
    assert!(fast().verify(v.password, &padded).unwrap().is_match());
}

#[test]
fn pydal_algorithm_names_are_case_insensitive() {
    let v = VECTORS
        .iter()
        .find(|v| v.kind == "CryptSalted" && v.stored.starts_with("sha256$$"))
        .unwrap();
    let upper = v.stored.replacen("sha256", "SHA256", 1);
    assert!(fast().verify(v.password, &upper).unwrap().is_match());
}

#[test]
fn bcrypt_2a_2b_2y_are_equivalent() {
    let v = VECTORS
        .iter()
        .find(|v| v.stored.starts_with("$2b$04$") && v.password.is_empty())
        .unwrap();
    for prefix in ["$2a$", "$2y$"] {
        let relabelled = v.stored.replacen("$2b$", prefix, 1);
        assert!(fast().verify("", &relabelled).unwrap().is_match());
    }
}

// ---------------------------------------------------------------- new hashes

#[test]
fn new_hashes_are_argon2id_phc_strings() {
    let config = PasswordConfig::default();
    assert_eq!(config.params(), Argon2Params::OWASP);
    let h = config.hash("correct horse battery staple").unwrap();
    let s = h.as_str();
    assert!(s.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{s}");
    let fields: Vec<&str> = s.split('$').collect();
    assert_eq!(fields.len(), 6);
    assert_eq!(fields[4].len(), 22, "16-byte salt, unpadded base64");
    assert_eq!(fields[5].len(), 43, "32-byte tag, unpadded base64");
    assert!(!config.needs_rehash(s));
    let v = config.verify("correct horse battery staple", s).unwrap();
    assert!(v.is_match() && !v.needs_rehash());
    assert_eq!(identify(s), Ok(HashFormat::Argon2id));
    // Random salts: two hashes of one password differ.
    let h2 = fast().hash("correct horse battery staple").unwrap();
    let h3 = fast().hash("correct horse battery staple").unwrap();
    assert_ne!(h2, h3);
}

#[test]
fn new_hashes_match_argon2_cffi() {
    // Same password, salt and parameters as the `Argon2Owasp` vector made by
    // argon2-cffi: our encoder must produce the identical string.
    let v = VECTORS.iter().find(|v| v.kind == "Argon2Owasp").unwrap();
    let h = PasswordConfig::default()
        .hash_with_salt(v.password, b"portcullis-salt!")
        .unwrap();
    assert_eq!(h.as_str(), v.stored);
}

#[test]
fn new_hashes_do_not_truncate() {
    let config = fast();
    let a = "a".repeat(100);
    let h = config.hash(&a).unwrap();
    let b = format!("{}b", "a".repeat(99));
    assert!(!config.verify(&b, h.as_str()).unwrap().is_match());
    assert!(config.verify(&a, h.as_str()).unwrap().is_match());
}

#[test]
fn params_are_validated() {
    assert!(matches!(
        Argon2Params::new(4, 1, 1),
        Err(PasswordError::InvalidParams { .. })
    ));
    assert!(Argon2Params::new(19456, 0, 1).is_err());
    assert!(Argon2Params::new(19456, 2, 0).is_err());
    let p = Argon2Params::new(65536, 3, 4).unwrap();
    assert_eq!(
        (p.memory_kib(), p.iterations(), p.parallelism()),
        (65536, 3, 4)
    );
}

#[test]
fn needs_rehash_is_true_for_anything_but_current_argon2id() {
    let owasp = PasswordConfig::default();
    let owasp_vector = VECTORS.iter().find(|v| v.kind == "Argon2Owasp").unwrap();
    assert!(!owasp.needs_rehash(owasp_vector.stored));
    // Stronger configured parameters: the OWASP hash is now too weak.
    for (m, t, p) in [(65536, 2, 1), (19456, 3, 1), (19456, 2, 2)] {
        let stronger = PasswordConfig::new(Argon2Params::new(m, t, p).unwrap());
        assert!(
            stronger.needs_rehash(owasp_vector.stored),
            "m={m} t={t} p={p}"
        );
    }
    // Every other vector (legacy, argon2i/d, weak argon2id, v=16, Django's wrapper).
    for v in VECTORS.iter().filter(|v| v.kind != "Argon2Owasp") {
        assert!(owasp.needs_rehash(v.stored), "{}", v.stored);
    }
    // Garbage too.
    for s in ["", "nope", "$argon2id$v=19$m=19456,t=2,p=1$short"] {
        assert!(owasp.needs_rehash(s));
    }
    // A hash of our own at the configured parameters does not.
    let cfg = fast();
    let h = cfg.hash("x").unwrap();
    assert!(!cfg.needs_rehash(h.as_str()));
}

// ---------------------------------------------------------------- malformed input

fn err(stored: &str) -> PasswordError {
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

// ---------------------------------------------------------------- secrets hygiene

#[test]
fn debug_output_hides_salts_tags_and_keys() {
    let h = fast().hash_with_salt("pw", b"0123456789abcdef").unwrap();
    let tag = h.as_str().rsplit('$').next().unwrap().to_owned();
    let dbg = format!("{h:?}");
    assert_eq!(dbg, "PasswordHash(\"$argon2id$v=19$m=64,t=1,p=1$…\")");
    assert!(!dbg.contains(&tag));
    let cfg = fast().with_crypt_hmac_key("top secret key");
    let dbg = format!("{cfg:?}");
    assert!(
        !dbg.contains("top secret key") && dbg.contains("<redacted>"),
        "{dbg}"
    );
}

// ---------------------------------------------------------------- async API

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_hash_and_verify_round_trip() {
    let hasher = PasswordHasher::new(fast());
    assert!(hasher.max_concurrency() >= 1);
    let h = hasher.hash("pässwörd 🔑").await.unwrap();
    let v = hasher.verify("pässwörd 🔑", h.as_str()).await.unwrap();
    assert!(v.is_match() && !v.needs_rehash());
    assert_eq!(
        hasher.verify("passwörd 🔑", h.as_str()).await.unwrap(),
        Verification::Mismatch
    );
    assert!(!hasher.needs_rehash(h.as_str()));
    // Legacy: match + needs rehash; after re-hashing, current.
    let legacy = VECTORS.iter().find(|v| v.kind == "SaltedSha1").unwrap();
    let v = hasher.verify(legacy.password, legacy.stored).await.unwrap();
    assert!(v.is_match() && v.needs_rehash());
    let rehashed = hasher.hash(legacy.password).await.unwrap();
    assert!(!hasher.needs_rehash(rehashed.as_str()));
    // Errors come through the async path too.
    assert!(matches!(
        hasher.verify("x", "garbage").await,
        Err(PasswordError::UnknownFormat { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrency_is_bounded_by_the_semaphore() {
    // Parameters heavy enough (4 MiB) that the tasks overlap in time.
    let config = PasswordConfig::new(Argon2Params::new(4096, 2, 1).unwrap());
    let hasher = PasswordHasher::with_max_concurrency(config, 2);
    assert_eq!(hasher.max_concurrency(), 2);
    let stored = hasher.hash("pw").await.unwrap().into_string();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let hasher = hasher.clone();
        let stored = stored.clone();
        tasks.push(tokio::spawn(async move {
            if i % 3 == 0 {
                hasher.dummy_verify("pw").await.is_match()
            } else {
                hasher.verify("pw", &stored).await.unwrap().is_match()
            }
        }));
    }
    let mut matches = 0;
    for t in tasks {
        matches += usize::from(t.await.unwrap());
    }
    assert_eq!(matches, 8, "8 real verifications match, 4 dummies never do");
    let peak = hasher.probe.peak.load(std::sync::atomic::Ordering::SeqCst);
    assert!((1..=2).contains(&peak), "peak concurrency {peak}");
    // All permits are back.
    assert_eq!(hasher.permits.available_permits(), 2);

    // With a limit of 1, never more than one at a time.
    let one = PasswordHasher::with_max_concurrency(fast(), 0);
    assert_eq!(one.max_concurrency(), 1, "0 is raised to 1");
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let one = one.clone();
            tokio::spawn(async move { one.hash("pw").await.is_ok() })
        })
        .collect();
    for h in handles {
        assert!(h.await.unwrap());
    }
    assert_eq!(one.probe.peak.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[test]
fn dummy_verify_costs_about_as_much_as_a_real_verification() {
    let config = PasswordConfig::new(Argon2Params::new(4096, 2, 1).unwrap());
    let stored = config.hash("secret").unwrap();
    // Interleaved runs, minimum of each: the machine is shared, so single timings
    // are noisy, but the minimum reflects the work done.
    let (mut real, mut dummy) = (Duration::MAX, Duration::MAX);
    for _ in 0..15 {
        let start = Instant::now();
        assert!(!config.verify("guess", stored.as_str()).unwrap().is_match());
        real = real.min(start.elapsed());
        let start = Instant::now();
        assert_eq!(config.dummy_verify("guess"), Verification::Mismatch);
        dummy = dummy.min(start.elapsed());
    }
    let ratio = dummy.as_secs_f64() / real.as_secs_f64();
    assert!(
        (0.33..3.0).contains(&ratio),
        "dummy {dummy:?} vs real {real:?}"
    );
    // Even for the right password of someone else's hash, a dummy never matches.
    assert_eq!(config.dummy_verify("secret"), Verification::Mismatch);
}

// ---------------------------------------------------------------- policy

#[test]
fn policy_lengths() {
    let p = PasswordPolicy::new();
    assert_eq!((p.min(), p.max()), (8, 1024));
    assert_eq!(
        p.check("Zq7#kLm", &[]),
        Err(PolicyViolation::TooShort { min: 8, actual: 7 })
    );
    assert_eq!(p.check("Zq7#kLmw", &[]), Ok(()));
    let s64: String = "Zq7#kLmw".repeat(8);
    assert_eq!(p.check(&s64, &[]), Ok(()));
    let s65 = format!("{s64}x");
    assert_eq!(p.check(&s65, &[]), Ok(()));
    let s1024 = "Zq7#kLmw".repeat(128);
    assert_eq!(p.check(&s1024, &[]), Ok(()));
    let s1025 = format!("{s1024}x");
    assert_eq!(
        p.check(&s1025, &[]),
        Err(PolicyViolation::TooLong {
            max: 1024,
            actual: 1025
        })
    );
    // The maximum can't go below 64 (NIST).
    let tight = PasswordPolicy::new().max_chars(10);
    assert_eq!(tight.max(), 64);
    assert_eq!(tight.check(&s64, &[]), Ok(()));
    assert_eq!(
        tight.check(&s65, &[]),
        Err(PolicyViolation::TooLong {
            max: 64,
            actual: 65
        })
    );
    // A configurable minimum.
    let p12 = PasswordPolicy::new().min_chars(12);
    assert_eq!(
        p12.check("Zq7#kLmwXy9", &[]),
        Err(PolicyViolation::TooShort {
            min: 12,
            actual: 11
        })
    );
    assert_eq!(PasswordPolicy::new().min_chars(0).min(), 1);
}

#[test]
fn policy_counts_unicode_characters_not_bytes() {
    let p = PasswordPolicy::new();
    // 7 characters, 28 bytes.
    assert_eq!(
        p.check("🔑🔒🗝🔐🛡🚪🧱", &[]),
        Err(PolicyViolation::TooShort { min: 8, actual: 7 })
    );
    // 8 characters, 16 bytes.
    assert_eq!(p.check("éàüößçñø", &[]), Ok(()));
    // 1024 four-byte characters are accepted and still hashable (4096 bytes).
    let max = "🔑".repeat(1024);
    assert_eq!(p.check(&max, &[]), Ok(()));
    assert!(fast().hash(&max).is_ok());
    // Spaces count and are kept (passphrases).
    assert_eq!(p.check("a b c d ", &[]), Ok(()));
}

#[test]
fn policy_rejects_common_passwords_case_insensitively() {
    let p = PasswordPolicy::new();
    for pw in [
        "password",
        "PASSWORD",
        "Password1",
        "qwertyuiop",
        " iloveyou ",
        "12345678",
    ] {
        assert_eq!(p.check(pw, &[]), Err(PolicyViolation::Common), "{pw}");
        assert!(is_common_password(pw), "{pw}");
    }
    assert!(!is_common_password("correct horse battery staple"));
    assert_eq!(p.check("correct horse battery staple", &[]), Ok(()));
    // The list can be switched off, and extended.
    assert_eq!(
        PasswordPolicy::new()
            .reject_common(false)
            .check("password", &[]),
        Ok(())
    );
    let custom = PasswordPolicy::new().with_blocklist(["Portcullis2026"]);
    assert_eq!(
        custom.check("portcullis2026", &[]),
        Err(PolicyViolation::Common)
    );
}

#[test]
fn policy_rejects_the_username_and_email() {
    let p = PasswordPolicy::new();
    let ctx = ["alexander.hamilton", "Alexander.Hamilton@example.org", ""];
    assert_eq!(
        p.check("Alexander.Hamilton", &ctx),
        Err(PolicyViolation::SameAsContext)
    );
    assert_eq!(
        p.check("alexander.hamilton@example.org", &ctx),
        Err(PolicyViolation::SameAsContext)
    );
    assert_eq!(
        p.check(
            "alexander.hamilton",
            &["someone", "Alexander.Hamilton@example.org"]
        ),
        Err(PolicyViolation::SameAsContext),
        "the e-mail's local part"
    );
    assert_eq!(p.check("alexander hamilton 1776", &ctx), Ok(()));
}

#[test]
fn policy_messages_are_clear() {
    assert_eq!(
        PolicyViolation::TooShort { min: 8, actual: 7 }.to_string(),
        "password is too short: it has 7 characters, at least 8 are required"
    );
    assert_eq!(
        PolicyViolation::TooLong {
            max: 1024,
            actual: 1025
        }
        .to_string(),
        "password is too long: it has 1025 characters, at most 1024 are allowed"
    );
    assert_eq!(
        PolicyViolation::Common.to_string(),
        "password is too common: it appears in a list of common or breached passwords"
    );
    assert_eq!(
        PolicyViolation::SameAsContext.to_string(),
        "password must not be the same as the username, e-mail address or site name"
    );
}

#[test]
fn the_shipped_list_is_complete() {
    assert_eq!(policy_list_len(), 19_640);
}

fn policy_list_len() -> usize {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .count()
}

// ---------------------------------------------------------------- interop (real Python libraries)

/// The Python with pydal, Django, bcrypt and argon2-cffi installed
/// (`.ci/setup.d/30-password-hashers.sh`), or `None` to skip.
fn interop_python() -> Option<String> {
    let python = std::env::var("PORTCULLIS_TEST_PASSWORD_PYTHON").ok();
    if python.is_none() {
        println!("skipped: PORTCULLIS_TEST_PASSWORD_PYTHON is not set");
    }
    python
}

fn interop_script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/interop.py")
}

#[test]
fn interop_fresh_hashes_from_the_python_libraries_verify() {
    let Some(python) = interop_python() else {
        return;
    };
    let out = std::process::Command::new(python)
        .arg(interop_script())
        .arg("fresh")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut formats = std::collections::HashSet::new();
    let config = fast();
    for line in text.lines() {
        let [kind, password_hex, stored] = line.split('\t').collect::<Vec<_>>()[..] else {
            panic!("bad line {line:?}");
        };
        let password = String::from_utf8(hex::decode(password_hex).unwrap()).unwrap();
        let v = config.verify(&password, stored).unwrap();
        let Verification::Match(proof) = v else {
            panic!("{kind} {stored} should match {password:?}");
        };
        assert_eq!(proof.format().name(), kind, "{stored}");
        assert_eq!(
            config.verify(&format!("{password}x"), stored).unwrap(),
            Verification::Mismatch,
            "{stored}"
        );
        formats.insert(kind.to_owned());
    }
    assert_eq!(formats.len(), 9, "{formats:?}");
}

#[test]
fn interop_our_hashes_verify_in_argon2_cffi_and_django() {
    let Some(python) = interop_python() else {
        return;
    };
    let config = PasswordConfig::new(Argon2Params::new(256, 2, 2).unwrap());
    for password in ["correct horse battery staple", "pässwörd €uro 🔑", ""] {
        let h = config.hash(password).unwrap();
        let out = std::process::Command::new(&python)
            .arg(interop_script())
            .args(["check", &hex::encode(password), h.as_str()])
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stdout == b"ok\n",
            "{password:?} {h:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
