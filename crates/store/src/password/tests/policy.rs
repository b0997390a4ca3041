//! The password policy.

use super::*;

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
    include_str!("../../../data/common-passwords.txt")
        .lines()
        .count()
}
