//! The queries of the admin UI: user search with numbered pages and a total, the
//! audit log's filters and pages, and the forced password reset.

use portcullis_store::{
    AuditEvent, AuditQuery, NewUser, StoreError, UserQuery, UserStatus, Without,
};

use crate::harness::Ctx;

async fn search_users_pages_with_total(ctx: Ctx) {
    let s = &ctx.store;
    for i in 0..25 {
        let mut new = NewUser::new(format!("user{i:02}")).email(format!("u{i}@example.org"));
        if i % 5 == 0 {
            new = new.name("Zed", "Percent_%");
        }
        s.create_user(new).await.unwrap();
    }
    s.create_group("staff", "").await.unwrap();
    let u3 = s.get_user_by_username("user03").await.unwrap().unwrap();
    s.add_member(u3.id, "staff").await.unwrap();
    s.block_user(u3.id).await.unwrap();

    let page = |search: Option<&str>, limit: u32| UserQuery {
        search: search.map(str::to_owned),
        limit: Some(limit),
        ..UserQuery::default()
    };
    let (first, total) = s.search_users(&page(None, 10), 0).await.unwrap();
    assert_eq!(total, 25);
    assert_eq!(first.len(), 10);
    assert_eq!(first[0].username, "user00");
    let (third, total) = s.search_users(&page(None, 10), 20).await.unwrap();
    assert_eq!((third.len(), total), (5, 25));
    assert_eq!(third[0].username, "user20");
    let (beyond, total) = s.search_users(&page(None, 10), 1_000).await.unwrap();
    assert!(beyond.is_empty());
    assert_eq!(total, 25);

    // Search covers names and e-mails, ignoring case; LIKE wildcards are literal.
    let (zed, total) = s.search_users(&page(Some("zED"), 2), 0).await.unwrap();
    assert_eq!((zed.len(), total), (2, 5));
    let (pct, total) = s.search_users(&page(Some("_%"), 100), 0).await.unwrap();
    assert_eq!((pct.len(), total), (5, 5));
    let (none, total) = s.search_users(&page(Some("%"), 100), 3).await.unwrap();
    assert_eq!((none.len(), total), (2, 5));
    let (mail, total) = s
        .search_users(&page(Some("U7@EXAMPLE"), 100), 0)
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(mail[0].username, "user07");

    // Status and group filters count too.
    let blocked = UserQuery {
        status: Some(UserStatus::Blocked),
        ..UserQuery::default()
    };
    let (b, total) = s.search_users(&blocked, 0).await.unwrap();
    assert_eq!((b.len(), total), (1, 1));
    assert_eq!(b[0].id, u3.id);
    let staff = UserQuery {
        group: Some("staff".into()),
        ..UserQuery::default()
    };
    assert_eq!(s.search_users(&staff, 0).await.unwrap().1, 1);

    // An offset beyond i64 is refused, not sent to the database.
    let err = s.search_users(&page(None, 1), u64::MAX).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::InvalidInput {
                field: "offset",
                ..
            }
        ),
        "{err}"
    );
}
store_test!(search_users_pages_with_total);

async fn audit_filters_and_pages(ctx: Ctx) {
    let admin = ctx.store.acting_as("admin:root", Some("192.0.2.7"));
    let other = ctx.store.acting_as("cli", None);
    let u = admin.create_user(NewUser::new("target")).await.unwrap();
    for i in 0..12 {
        ctx.clock.advance(60);
        let s = if i % 2 == 0 { &admin } else { &other };
        s.audit(AuditEvent::new(if i % 3 == 0 { "tick" } else { "tock" }).user(u.id))
            .await
            .unwrap();
    }
    let all = AuditQuery::default();
    let total = ctx.store.count_audit(&all).await.unwrap();
    assert_eq!(total, 13, "user_created and twelve events");
    // Newest first, numbered pages.
    let page = |offset: u64| AuditQuery {
        limit: Some(5),
        offset,
        ..AuditQuery::default()
    };
    let p1 = ctx.store.list_audit(&page(0)).await.unwrap();
    let p3 = ctx.store.list_audit(&page(10)).await.unwrap();
    assert_eq!(p1.len(), 5);
    assert_eq!(p3.len(), 3);
    assert!(p1[0].id > p1[4].id && p1[4].id > p3[0].id);
    assert_eq!(p3.last().unwrap().kind, "user_created");
    assert!(ctx.store.list_audit(&page(1000)).await.unwrap().is_empty());

    // Filters: kind, actor, time range, together.
    let q = AuditQuery {
        kind: Some("tick".into()),
        ..AuditQuery::default()
    };
    assert_eq!(ctx.store.count_audit(&q).await.unwrap(), 4);
    let q = AuditQuery {
        actor: Some("admin:root".into()),
        ..AuditQuery::default()
    };
    let by_admin = ctx.store.list_audit(&q).await.unwrap();
    assert_eq!(by_admin.len(), 7);
    assert!(
        by_admin
            .iter()
            .all(|e| e.actor.as_deref() == Some("admin:root"))
    );
    let t0 = crate::harness::T0;
    let q = AuditQuery {
        since: Some(t0 + 120),
        until: Some(t0 + 300),
        ..AuditQuery::default()
    };
    let window = ctx.store.list_audit(&q).await.unwrap();
    let ats: Vec<i64> = window.iter().map(|e| e.at.unix_timestamp()).collect();
    assert_eq!(ats, [t0 + 240, t0 + 180, t0 + 120]);
    let q = AuditQuery {
        kind: Some("tock".into()),
        actor: Some("cli".into()),
        since: Some(t0 + 120),
        user_id: Some(u.id),
        ..AuditQuery::default()
    };
    assert_eq!(ctx.store.count_audit(&q).await.unwrap(), 4);
    let err = ctx
        .store
        .list_audit(&AuditQuery {
            offset: u64::MAX,
            ..AuditQuery::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err}");
}
store_test!(audit_filters_and_pages);

async fn invalidate_password_ends_logins_and_sessions(ctx: Ctx) {
    let s = ctx.store.acting_as("admin:root", None);
    let u = s
        .create_user(NewUser::new("forced").password("correct horse battery staple"))
        .await
        .unwrap();
    let now = time::OffsetDateTime::from_unix_timestamp(crate::harness::T0).unwrap();
    let session = portcullis_store::StoredSession {
        id_hash: "a".repeat(64),
        user_id: Some(u.id.to_string()),
        data: "{}".to_owned(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + time::Duration::days(1),
    };
    s.create_session(&session).await.unwrap();
    s.invalidate_password(u.id).await.unwrap();
    assert!(
        s.verify_password("forced", "correct horse battery staple")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.get_user(u.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .is_none()
    );
    assert!(s.load_session(&session.id_hash).await.unwrap().is_none());
    let events = s
        .list_audit(&AuditQuery {
            kind: Some("password_invalidated".into()),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].user_id, Some(u.id));
    assert_eq!(events[0].details["sessions_ended"], 1);
    let err = s.invalidate_password(u.id + 1000).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
}
store_test!(invalidate_password_ends_logins_and_sessions);

async fn permission_holders_without_a_group_or_a_membership(ctx: Ctx) {
    let s = &ctx.store;
    let ann = s.create_user(NewUser::new("ann")).await.unwrap();
    let bob = s.create_user(NewUser::new("bob")).await.unwrap();
    let cid = s.create_user(NewUser::new("cid")).await.unwrap();
    for g in ["admin", "ops", "staff"] {
        s.create_group(g, "").await.unwrap();
    }
    s.grant_permission("admin", "admin").await.unwrap();
    s.grant_permission("ops", "admin").await.unwrap();
    s.add_member(ann.id, "admin").await.unwrap();
    s.add_member(ann.id, "ops").await.unwrap();
    s.add_member(bob.id, "ops").await.unwrap();
    s.add_member(cid.id, "staff").await.unwrap();
    let count = |w| async move { s.count_permission_holders("admin", w).await.unwrap() };
    assert_eq!(count(Without::Nothing).await, 2);
    // Ann also holds it through `ops`.
    assert_eq!(count(Without::Group("admin")).await, 2);
    assert_eq!(count(Without::Group("ops")).await, 1);
    assert_eq!(count(Without::Group("staff")).await, 2);
    assert_eq!(
        count(Without::Membership {
            user_id: ann.id,
            group: "admin"
        })
        .await,
        2
    );
    assert_eq!(
        count(Without::Membership {
            user_id: bob.id,
            group: "ops"
        })
        .await,
        1
    );
    // Only active users count.
    s.block_user(bob.id).await.unwrap();
    assert_eq!(count(Without::Nothing).await, 1);
    assert_eq!(count(Without::Group("ops")).await, 1);
    assert_eq!(
        count(Without::Membership {
            user_id: ann.id,
            group: "ops"
        })
        .await,
        1
    );
    s.remove_member(ann.id, "admin").await.unwrap();
    assert_eq!(
        count(Without::Membership {
            user_id: ann.id,
            group: "ops"
        })
        .await,
        0
    );
    assert_eq!(
        s.count_permission_holders("nothing", Without::Nothing)
            .await
            .unwrap(),
        0
    );
}

store_test!(permission_holders_without_a_group_or_a_membership);
