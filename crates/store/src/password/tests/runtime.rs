//! Secrets in `Debug`, the async API, the concurrency bound, `dummy_verify`.

use std::time::{Duration, Instant};

use super::*;
use crate::password::vectors::VECTORS;

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
