//! New argon2id hashes, parameters and `needs_rehash`.

use super::*;
use crate::password::vectors::VECTORS;

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
