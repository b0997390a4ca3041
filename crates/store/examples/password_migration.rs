//! Run with `cargo run -p portcullis-store --example password_migration`.
//!
//! Shows how stored hashes from older systems are verified and transparently upgraded to
//! argon2id after a successful login, how unknown accounts are answered with
//! `dummy_verify`, and how the policy checks a new password. No database is needed: the
//! "table" is a `Vec`.

use portcullis_store::password::{
    PasswordConfig, PasswordError, PasswordHasher, PasswordPolicy, Verification, identify,
};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), PasswordError> {
    // Production settings: argon2id m=19456 KiB, t=2, p=1; one hash per CPU at a time.
    let hasher = PasswordHasher::new(PasswordConfig::default());

    // Hashes imported from a Django site, a web2py app and the seed's TurboGears app; all
    // of them are the password "correct horse battery staple".
    let mut users = vec![
        (
            "django",
            "pbkdf2_sha256$20000$Zc4Lq0fS9xyzPortcul$H5OXHvrz6O4jNkXL/z59vHEDMEVLGG784rzS1n+qgVw="
                .to_owned(),
        ),
        (
            "web2py",
            "pbkdf2(1000,32,sha256)$s4lt$c458df07960bea250c225ad7565f711265d18639146232574bc489ec72532057"
                .to_owned(),
        ),
        (
            "turbogears",
            "cf0a9f088d463cf22412c7c4776e5fb5826cbe0a9291ba30b5a35a16714e41e2f4de6df972281ced"
                .to_owned(),
        ),
    ];

    for (name, stored) in &mut users {
        print!("{name:<10} {:<22} ", identify(stored)?.to_string());
        match hasher
            .verify("correct horse battery staple", stored)
            .await?
        {
            Verification::Match(proof) if proof.needs_rehash() => {
                // Re-hash only after a successful check, with the password just verified.
                *stored = hasher
                    .hash("correct horse battery staple")
                    .await?
                    .into_string();
                println!("match, upgraded to {}", identify(stored)?);
            }
            Verification::Match(_) => println!("match"),
            Verification::Mismatch => println!("mismatch"),
        }
    }
    // The second login finds current hashes.
    for (name, stored) in &users {
        let v = hasher
            .verify("correct horse battery staple", stored)
            .await?;
        println!(
            "{name:<10} second login: match={} needs_rehash={}",
            v.is_match(),
            v.needs_rehash()
        );
    }

    // An unknown account costs the same time as a wrong password.
    let v = hasher.dummy_verify("correct horse battery staple").await;
    println!("unknown user: match={}", v.is_match());

    // New passwords go through the policy first.
    let policy = PasswordPolicy::new();
    for candidate in [
        "hunter2",
        "Password123",
        "alice",
        "correct horse battery staple",
    ] {
        match policy.check(candidate, &["alice", "alice@example.org"]) {
            Ok(()) => println!("{candidate:?}: accepted"),
            Err(violation) => println!("{candidate:?}: {violation}"),
        }
    }
    Ok(())
}
