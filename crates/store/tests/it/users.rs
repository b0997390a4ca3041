//! Users: CRUD, uniqueness, concurrency, passwords, login bookkeeping.

use std::sync::Arc;

use portcullis_store::{NewUser, StoreError, UserQuery, UserStatus, UserUpdate};

use crate::harness::Ctx;

async fn crud(ctx: Ctx) {
    let s = &ctx.store;
    let alice = s
        .create_user(
            NewUser::new("alice")
                .email("Alice@Example.org")
                .name("Alice", "Liddell"),
        )
        .await
        .unwrap();
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.email.as_deref(), Some("Alice@Example.org"));
    assert_eq!(alice.status, UserStatus::Active);
    assert_eq!(alice.created_at.unix_timestamp(), crate::harness::T0);
    assert!(alice.password_hash.is_none());

    assert_eq!(s.get_user(alice.id).await.unwrap().unwrap(), alice);
    assert_eq!(
        s.get_user_by_username("alice").await.unwrap().unwrap().id,
        alice.id
    );
    assert!(
        s.get_user_by_username("Alice").await.unwrap().is_none(),
        "usernames are exact"
    );
    assert_eq!(
        s.get_user_by_email("alice@EXAMPLE.org")
            .await
            .unwrap()
            .unwrap()
            .id,
        alice.id
    );
    assert_eq!(
        s.get_user_by_login("ALICE@example.org")
            .await
            .unwrap()
            .unwrap()
            .id,
        alice.id
    );
    assert_eq!(
        s.get_user_by_login("alice").await.unwrap().unwrap().id,
        alice.id
    );
    assert!(s.get_user_by_login("nobody").await.unwrap().is_none());
    assert!(s.get_user(alice.id + 1000).await.unwrap().is_none());
    assert_eq!(
        s.resolve_user(&alice.id.to_string()).await.unwrap().id,
        alice.id
    );
    assert!(matches!(
        s.resolve_user("ghost").await,
        Err(StoreError::NotFound { .. })
    ));

    for i in 0..25 {
        s.create_user(NewUser::new(format!("user{i:02}")).email(format!("u{i}@example.org")))
            .await
            .unwrap();
    }
    let page1 = s
        .list_users(&UserQuery {
            limit: Some(10),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page1.len(), 10);
    assert_eq!(page1[0].username, "alice");
    let page2 = s
        .list_users(&UserQuery {
            limit: Some(10),
            after_id: page1[9].id,
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page2.len(), 10);
    assert!(page2[0].id > page1[9].id);
    let found = s
        .list_users(&UserQuery {
            search: Some("USER1".into()),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 10, "user10..user19");
    let pct = s
        .list_users(&UserQuery {
            search: Some("%".into()),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert!(pct.is_empty(), "% is matched literally");
    assert_eq!(s.count_users().await.unwrap(), 26);

    ctx.clock.advance(60);
    let updated = s
        .update_user(
            alice.id,
            &UserUpdate {
                first_name: Some("Alicia".into()),
                email: Some(Some("alicia@example.org".into())),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.first_name, "Alicia");
    assert_eq!(updated.last_name, "Liddell");
    assert_eq!(updated.updated_at.unix_timestamp(), crate::harness::T0 + 60);
    assert!(
        s.get_user_by_email("alice@example.org")
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        s.update_user(
            alice.id,
            &UserUpdate {
                username: Some("user01".into()),
                ..UserUpdate::default()
            }
        )
        .await,
        Err(StoreError::Conflict { field: "username" })
    ));

    assert!(s.delete_user(alice.id).await.unwrap());
    assert!(!s.delete_user(alice.id).await.unwrap());
    assert!(s.get_user(alice.id).await.unwrap().is_none());
    assert_eq!(s.count_users().await.unwrap(), 25);
}
store_test!(crud);

async fn invalid_input(ctx: Ctx) {
    let s = &ctx.store;
    for bad in ["", " padded", "new\nline"] {
        assert!(
            matches!(
                s.create_user(NewUser::new(bad)).await,
                Err(StoreError::InvalidInput {
                    field: "username",
                    ..
                })
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        s.create_user(NewUser::new("bob").email("not-an-email"))
            .await,
        Err(StoreError::InvalidInput { field: "email", .. })
    ));
    assert_eq!(s.count_users().await.unwrap(), 0);
}
store_test!(invalid_input);

async fn uniqueness(ctx: Ctx) {
    let s = &ctx.store;
    s.create_user(NewUser::new("alice").email("alice@example.org"))
        .await
        .unwrap();
    let err = s
        .create_user(NewUser::new("alice").email("other@example.org"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { field: "username" }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "a record with this username already exists"
    );
    let err = s
        .create_user(NewUser::new("alice2").email("ALICE@example.ORG"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { field: "email" }),
        "{err:?}"
    );
    // Usernames compare as given: another case is another user.
    s.create_user(NewUser::new("Alice")).await.unwrap();
    // Users without e-mail don't collide.
    s.create_user(NewUser::new("carol")).await.unwrap();
    s.create_user(NewUser::new("dave")).await.unwrap();
    assert_eq!(s.count_users().await.unwrap(), 4);
}
store_test!(uniqueness);

async fn concurrent_registration(ctx: Ctx) {
    let s = Arc::new(ctx.store.clone());
    let mut tasks = Vec::new();
    for i in 0..12 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.create_user(NewUser::new("racer").email(format!("r{i}@example.org")))
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict { field }) => assert_eq!(field, "username"),
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(ok, 1);

    let mut tasks = Vec::new();
    for i in 0..12 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.create_user(NewUser::new(format!("mailer{i}")).email(if i % 2 == 0 {
                "Same@Example.org"
            } else {
                "same@example.org"
            }))
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::Conflict { field }) => assert_eq!(field, "email"),
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(s.count_users().await.unwrap(), 2);
}
store_test!(concurrent_registration);

const PASSWORD: &str = "correct horse battery staple";
/// web2py `CRYPT` sha1 of PASSWORD, unsalted (from the password module's docs).
const LEGACY: &str = "sha1$$abf7aad6438836dbe526aa231abde2d0eef74d42";

async fn passwords_and_logins(ctx: Ctx) {
    let s = &ctx.store;
    let alice = s
        .create_user(
            NewUser::new("alice")
                .email("alice@example.org")
                .password(PASSWORD),
        )
        .await
        .unwrap();
    let hash = alice.password_hash.clone().unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    assert!(
        s.verify_password("alice", "wrong password")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.verify_password("alice", "another wrong one")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.get_user(alice.id).await.unwrap().unwrap().failed_logins,
        2
    );
    assert!(
        s.verify_password("ghost", PASSWORD)
            .await
            .unwrap()
            .is_none()
    );

    ctx.clock.advance(10);
    let ok = s
        .verify_password("ALICE@example.org", PASSWORD)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ok.id, alice.id);
    assert_eq!(ok.failed_logins, 0);
    assert_eq!(
        ok.last_login_at.unwrap().unix_timestamp(),
        crate::harness::T0 + 10
    );
    assert_eq!(
        ok.password_hash.as_deref(),
        Some(hash.as_str()),
        "current hash kept"
    );

    // The policy refuses weak passwords.
    assert!(matches!(
        s.set_password(alice.id, "short").await,
        Err(StoreError::PasswordPolicy(_))
    ));
    assert!(matches!(
        s.create_user(NewUser::new("bob").password("password"))
            .await,
        Err(StoreError::PasswordPolicy(_))
    ));
    s.set_password(alice.id, "a much better passphrase")
        .await
        .unwrap();
    assert!(
        s.verify_password("alice", PASSWORD)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.verify_password("alice", "a much better passphrase")
            .await
            .unwrap()
            .is_some()
    );

    // Blocked: even the right password gives nothing.
    s.block_user(alice.id).await.unwrap();
    assert!(
        s.verify_password("alice", "a much better passphrase")
            .await
            .unwrap()
            .is_none()
    );
    let unblocked = s.unblock_user(alice.id).await.unwrap();
    assert_eq!(unblocked.status, UserStatus::Active);
    assert_eq!(unblocked.failed_logins, 0);
    assert!(
        s.verify_password("alice", "a much better passphrase")
            .await
            .unwrap()
            .is_some()
    );

    // No password (SSO-only account): never verifies.
    s.create_user(NewUser::new("sso")).await.unwrap();
    assert!(s.verify_password("sso", "").await.unwrap().is_none());
}
store_test!(passwords_and_logins);

async fn legacy_hash_is_upgraded_only_after_success(ctx: Ctx) {
    let s = &ctx.store;
    let bob = s
        .create_user(NewUser::new("bob").password_hash(LEGACY))
        .await
        .unwrap();
    assert!(s.verify_password("bob", "not it").await.unwrap().is_none());
    assert_eq!(
        s.get_user(bob.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .as_deref(),
        Some(LEGACY),
        "a failed check never re-hashes"
    );
    let ok = s.verify_password("bob", PASSWORD).await.unwrap().unwrap();
    let new_hash = ok.password_hash.unwrap();
    assert!(new_hash.starts_with("$argon2id$"), "{new_hash}");
    let stored = s.get_user(bob.id).await.unwrap().unwrap();
    assert_eq!(stored.password_hash.as_deref(), Some(new_hash.as_str()));
    assert!(s.verify_password("bob", PASSWORD).await.unwrap().is_some());

    // A malformed stored hash is an error, not a silent mismatch.
    let carol = s
        .create_user(NewUser::new("carol").password_hash("garbage"))
        .await
        .unwrap();
    assert!(matches!(
        s.verify_password("carol", PASSWORD).await,
        Err(StoreError::Password(_))
    ));
    assert!(s.get_user(carol.id).await.unwrap().is_some());
}
store_test!(legacy_hash_is_upgraded_only_after_success);
