//! API tokens and one-time action tokens.

use std::sync::Arc;
use std::time::Duration;

use portcullis_store::{ActionPurpose, NewUser, UserUpdate};

use crate::harness::Ctx;

async fn api_tokens(ctx: Ctx) {
    let s = &ctx.store;
    let u = s.create_user(NewUser::new("api")).await.unwrap();
    let t = s
        .create_api_token(u.id, "ci", Some(Duration::from_secs(3600)))
        .await
        .unwrap();
    assert!(t.secret.starts_with("pct_"));
    assert_eq!(t.secret.len(), 4 + 43);
    assert!(t.secret.starts_with(&t.token.prefix));
    assert_eq!(t.token.prefix.len(), 12);
    assert!(
        !format!("{t:?}").contains(&t.secret),
        "Debug hides the secret"
    );
    let forever = s.create_api_token(u.id, "forever", None).await.unwrap();

    let who = s.authenticate_api_token(&t.secret).await.unwrap().unwrap();
    assert_eq!(who.id, u.id);
    assert!(
        s.authenticate_api_token("pct_nope")
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.authenticate_api_token("").await.unwrap().is_none());
    let listed = s.list_api_tokens(Some(u.id)).await.unwrap();
    assert_eq!(listed.len(), 2);
    let used = listed.iter().find(|x| x.id == t.token.id).unwrap();
    assert_eq!(
        used.last_used_at.unwrap().unix_timestamp(),
        crate::harness::T0
    );

    // Expiry follows the injected clock.
    ctx.clock.advance(3600);
    assert!(s.authenticate_api_token(&t.secret).await.unwrap().is_none());
    assert!(
        s.authenticate_api_token(&forever.secret)
            .await
            .unwrap()
            .is_some()
    );
    // Revocation.
    assert!(s.revoke_api_token(forever.token.id).await.unwrap());
    assert!(!s.revoke_api_token(forever.token.id).await.unwrap());
    assert!(
        s.authenticate_api_token(&forever.secret)
            .await
            .unwrap()
            .is_none()
    );
    // Blocked owners' tokens stop working.
    let t2 = s.create_api_token(u.id, "", None).await.unwrap();
    s.block_user(u.id).await.unwrap();
    assert!(
        s.authenticate_api_token(&t2.secret)
            .await
            .unwrap()
            .is_none()
    );
    // Unknown user.
    assert!(s.create_api_token(424_242, "", None).await.is_err());
}
store_test!(api_tokens);

async fn action_tokens(ctx: Ctx) {
    let s = &ctx.store;
    let u = s
        .create_user(NewUser::new("act").email("act@example.org"))
        .await
        .unwrap();
    let day = Duration::from_secs(86_400);
    let reset = s
        .create_action_token(u.id, ActionPurpose::ResetPassword, day)
        .await
        .unwrap();
    // Wrong purpose does not consume it.
    assert!(
        s.consume_action_token(ActionPurpose::MagicLink, &reset)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.consume_action_token(ActionPurpose::ResetPassword, &reset)
            .await
            .unwrap(),
        Some(u.id)
    );
    assert!(
        s.consume_action_token(ActionPurpose::ResetPassword, &reset)
            .await
            .unwrap()
            .is_none(),
        "single use"
    );

    // Expiry.
    let verify = s
        .create_action_token(u.id, ActionPurpose::VerifyEmail, Duration::from_secs(60))
        .await
        .unwrap();
    ctx.clock.advance(60);
    assert!(
        s.consume_action_token(ActionPurpose::VerifyEmail, &verify)
            .await
            .unwrap()
            .is_none()
    );

    // A password change invalidates outstanding tokens, and the user's sessions.
    let magic = s
        .create_action_token(u.id, ActionPurpose::MagicLink, day)
        .await
        .unwrap();
    let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let session = portcullis_store::StoredSession {
        id_hash: "ab".repeat(32),
        user_id: Some(u.id.to_string()),
        data: "{}".into(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + time::Duration::hours(1),
    };
    s.create_session(&session).await.unwrap();
    assert!(s.load_session(&session.id_hash).await.unwrap().is_some());
    s.set_password(u.id, "a brand new passphrase")
        .await
        .unwrap();
    assert!(s.load_session(&session.id_hash).await.unwrap().is_none());
    assert!(
        s.consume_action_token(ActionPurpose::MagicLink, &magic)
            .await
            .unwrap()
            .is_none()
    );
    // So does an e-mail change.
    let magic = s
        .create_action_token(u.id, ActionPurpose::MagicLink, day)
        .await
        .unwrap();
    s.update_user(
        u.id,
        &UserUpdate {
            email: Some(Some("new@example.org".into())),
            ..UserUpdate::default()
        },
    )
    .await
    .unwrap();
    assert!(
        s.consume_action_token(ActionPurpose::MagicLink, &magic)
            .await
            .unwrap()
            .is_none()
    );
    // Consumed and expired tokens can be purged; live ones stay.
    let used = s
        .create_action_token(u.id, ActionPurpose::VerifyEmail, day)
        .await
        .unwrap();
    s.create_action_token(u.id, ActionPurpose::VerifyEmail, Duration::from_secs(5))
        .await
        .unwrap();
    let live = s
        .create_action_token(u.id, ActionPurpose::VerifyEmail, day)
        .await
        .unwrap();
    assert!(
        s.consume_action_token(ActionPurpose::VerifyEmail, &used)
            .await
            .unwrap()
            .is_some()
    );
    ctx.clock.advance(5);
    assert_eq!(s.purge_action_tokens().await.unwrap(), 2);
    assert!(
        s.consume_action_token(ActionPurpose::VerifyEmail, &live)
            .await
            .unwrap()
            .is_some()
    );
}
store_test!(action_tokens);

async fn concurrent_consumption(ctx: Ctx) {
    let s = Arc::new(ctx.store.clone());
    let u = s.create_user(NewUser::new("race")).await.unwrap();
    let token = Arc::new(
        s.create_action_token(u.id, ActionPurpose::MagicLink, Duration::from_secs(600))
            .await
            .unwrap(),
    );
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let s = s.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            s.consume_action_token(ActionPurpose::MagicLink, &token)
                .await
        }));
    }
    let mut won = 0;
    for t in tasks {
        if t.await.unwrap().unwrap().is_some() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}
store_test!(concurrent_consumption);
