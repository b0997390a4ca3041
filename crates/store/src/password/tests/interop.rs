//! Interop with the real Python libraries (skipped unless
//! `PORTCULLIS_TEST_PASSWORD_PYTHON` is set).

use super::*;

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
