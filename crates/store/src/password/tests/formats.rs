//! Every real vector matches, mismatches a wrong password, and is identified.

use super::*;
use crate::password::vectors::VECTORS;

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
