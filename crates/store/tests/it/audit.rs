//! The audit log.

use portcullis_store::{AuditEvent, AuditQuery, NewUser};
use serde_json::json;

use crate::harness::Ctx;

async fn events_are_recorded(ctx: Ctx) {
    let s = ctx.store.acting_as("admin", Some("192.0.2.1"));
    let u = s
        .create_user(NewUser::new("audited").password("correct horse battery staple"))
        .await
        .unwrap();
    s.create_group("g", "").await.unwrap();
    s.add_member(u.id, "g").await.unwrap();
    assert!(
        s.verify_password("audited", "wrong")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.verify_password("audited", "correct horse battery staple")
            .await
            .unwrap()
            .is_some()
    );
    s.audit(
        AuditEvent::new("custom")
            .user(u.id)
            .details(json!({"k": 1})),
    )
    .await
    .unwrap();
    let events = s
        .list_audit(&AuditQuery {
            user_id: Some(u.id),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "custom",
            "login_succeeded",
            "login_failed",
            "member_added",
            "user_created"
        ]
    );
    assert!(events.iter().all(|e| e.actor.as_deref() == Some("admin")));
    assert!(
        events
            .iter()
            .all(|e| e.client_addr.as_deref() == Some("192.0.2.1"))
    );
    assert_eq!(events[0].details, json!({"k": 1}));
    assert_eq!(events[0].at.unix_timestamp(), crate::harness::T0);
    let failed = s
        .list_audit(&AuditQuery {
            kind: Some("login_failed".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].details["reason"], "wrong_password");
    // The log outlives the user.
    s.delete_user(u.id).await.unwrap();
    let after = s
        .list_audit(&AuditQuery {
            user_id: Some(u.id),
            limit: Some(1),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(after[0].kind, "user_deleted");
}
store_test!(events_are_recorded);
