//! The groupfinder and its cache.

use std::time::{Duration, Instant};

use portcullis_store::{
    BackendKind, NewUser, PrincipalsConfig, Store, StoreOptions, Tag, UserStatus, UserUpdate,
};

use crate::harness::Ctx;

fn p(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

async fn groupfinder(ctx: Ctx) {
    let s = &ctx.store;
    let u = s.create_user(NewUser::new("alice")).await.unwrap();
    let id = u.id.to_string();
    s.create_group("editors", "").await.unwrap();
    s.create_group("admins", "").await.unwrap();

    assert_eq!(
        s.principals_for(u.id).await.unwrap().unwrap().to_vec(),
        p(&[&id])
    );
    s.add_member(u.id, "editors").await.unwrap();
    // Warm cache was invalidated by the membership change.
    assert_eq!(
        s.principals_for(u.id).await.unwrap().unwrap().to_vec(),
        p(&[&id, "group:editors"])
    );
    s.add_member(u.id, "admins").await.unwrap();
    // (PostgreSQL caches once its change listener listens.)
    warm(s, u.id).await;
    let principals = s.principals_for(u.id).await.unwrap().unwrap();
    assert_eq!(
        principals.to_vec(),
        p(&[&id, "group:admins", "group:editors"])
    );
    assert_eq!(principals.userid(), id);
    assert!(principals.contains("group:admins"));
    // A warm hit returns the very same allocation.
    let again = s.principals_for(u.id).await.unwrap().unwrap();
    assert!(std::sync::Arc::ptr_eq(principals.as_arc(), again.as_arc()));

    s.remove_member(u.id, "admins").await.unwrap();
    assert_eq!(
        s.principals_for(u.id).await.unwrap().unwrap().to_vec(),
        p(&[&id, "group:editors"])
    );
    s.delete_group("editors").await.unwrap();
    assert_eq!(
        s.principals_for(u.id).await.unwrap().unwrap().to_vec(),
        p(&[&id])
    );

    // Blocked, pending and deleted users authenticate nobody.
    s.block_user(u.id).await.unwrap();
    assert!(s.principals_for(u.id).await.unwrap().is_none());
    s.set_status(u.id, UserStatus::Pending).await.unwrap();
    assert!(s.principals_for(u.id).await.unwrap().is_none());
    s.set_status(u.id, UserStatus::Active).await.unwrap();
    assert!(s.principals_for(u.id).await.unwrap().is_some());
    s.delete_user(u.id).await.unwrap();
    assert!(s.principals_for(u.id).await.unwrap().is_none());
    assert!(s.principals_for(987_654).await.unwrap().is_none());
}
store_test!(groupfinder);

/// Calls `principals_for` until the answer is cached (on PostgreSQL nothing is cached
/// before the change listener listens), at most 5 s.
async fn warm(s: &Store, id: i64) -> Option<Vec<String>> {
    let start = Instant::now();
    loop {
        let p = s.principals_for(id).await.unwrap().map(|p| p.to_vec());
        if s.cached_principals() > 0 {
            return p;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "never cached");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until `s` answers `want` for `id` (at most `within`); returns how long it took.
async fn seen_within(s: &Store, id: i64, want: Option<Vec<String>>, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let got = s.principals_for(id).await.unwrap().map(|p| p.to_vec());
        if got == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "after {within:?} still {got:?}, expected {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How long a change made by another process may take to reach a warm cache: the
/// notification (PostgreSQL, "at commit") or the counter poll interval (SQLite, 250 ms).
fn bound(s: &Store) -> Duration {
    match s.backend() {
        BackendKind::Sqlite => Duration::from_millis(250 + 150),
        _ => Duration::from_secs(2),
    }
}

async fn changes_by_other_processes_reach_the_cache(ctx: Ctx) {
    let a = &ctx.store;
    let alice = a.create_user(NewUser::new("alice")).await.unwrap();
    let bob = a.create_user(NewUser::new("bob")).await.unwrap();
    a.create_group("g", "").await.unwrap();
    a.create_group("h", "").await.unwrap();
    a.add_member(alice.id, "g").await.unwrap();
    a.add_member(bob.id, "g").await.unwrap();
    a.add_member(bob.id, "h").await.unwrap();
    let (ai, bi) = (alice.id.to_string(), bob.id.to_string());
    // Another process (another Store on the same database); default TTL of 30 s.
    let b = ctx.reopen(crate::harness::same).await;
    let within = bound(a);

    // Membership removed elsewhere.
    assert_eq!(warm(a, bob.id).await, Some(p(&[&bi, "group:g", "group:h"])));
    assert!(b.remove_member(bob.id, "h").await.unwrap());
    seen_within(a, bob.id, Some(p(&[&bi, "group:g"])), within).await;
    // Membership added elsewhere.
    assert!(b.add_member(bob.id, "h").await.unwrap());
    seen_within(a, bob.id, Some(p(&[&bi, "group:g", "group:h"])), within).await;

    // Blocked elsewhere: a still-valid cookie of a blocked user authenticates nobody.
    assert_eq!(warm(a, alice.id).await, Some(p(&[&ai, "group:g"])));
    b.block_user(alice.id).await.unwrap();
    seen_within(a, alice.id, None, within).await;
    b.unblock_user(alice.id).await.unwrap();
    seen_within(a, alice.id, Some(p(&[&ai, "group:g"])), within).await;

    // A group deleted elsewhere leaves everyone's answers.
    b.delete_group("g").await.unwrap();
    seen_within(a, alice.id, Some(p(&[&ai])), within).await;
    seen_within(a, bob.id, Some(p(&[&bi, "group:h"])), within).await;

    // Deleted elsewhere.
    assert!(a.principals_for(bob.id).await.unwrap().is_some());
    assert!(b.delete_user(bob.id).await.unwrap());
    seen_within(a, bob.id, None, within).await;

    // The uncached read and the manual invalidation still work.
    assert_eq!(a.load_principals(alice.id).await.unwrap().unwrap().len(), 1);
    a.invalidate_all_principals();
    assert_eq!(a.cached_principals(), 0);
    b.close().await;
}
store_test!(changes_by_other_processes_reach_the_cache);

fn include_tags(o: StoreOptions) -> StoreOptions {
    StoreOptions {
        principals: PrincipalsConfig {
            include_user_tags: true,
            include_username: true,
            ..PrincipalsConfig::default()
        },
        ..o
    }
}

/// The process making the change does not include tags or usernames, the one caching does.
async fn tag_and_username_changes_elsewhere(ctx: Ctx) {
    let a = &ctx.store;
    let u = a.create_user(NewUser::new("carol")).await.unwrap();
    let id = u.id.to_string();
    let b = ctx.reopen(crate::harness::same).await;
    let within = bound(a);
    assert_eq!(warm(a, u.id).await, Some(p(&[&id, "carol"])));
    b.add_tags("users", u.id, &[Tag::new("role/dev").unwrap()])
        .await
        .unwrap();
    seen_within(a, u.id, Some(p(&[&id, "carol", "tag:role/dev"])), within).await;
    b.update_user(
        u.id,
        &UserUpdate {
            username: Some("caroline".into()),
            ..UserUpdate::default()
        },
    )
    .await
    .unwrap();
    seen_within(a, u.id, Some(p(&[&id, "caroline", "tag:role/dev"])), within).await;
    b.clear_tags("users", u.id).await.unwrap();
    seen_within(a, u.id, Some(p(&[&id, "caroline"])), within).await;
    b.close().await;
}
store_test!(tag_and_username_changes_elsewhere, super::include_tags);

fn slow_poll(o: StoreOptions) -> StoreOptions {
    StoreOptions {
        principals: PrincipalsConfig {
            change_poll_interval: Duration::from_secs(3600),
            ..PrincipalsConfig::default()
        },
        ..o
    }
}

/// SQLite: between two reads of the change counter the cache is trusted (that is what
/// keeps warm lookups at a hash probe); PostgreSQL does not poll at all.
async fn the_counter_is_read_at_most_every_interval(ctx: Ctx) {
    let a = &ctx.store;
    let u = a.create_user(NewUser::new("dave")).await.unwrap();
    a.create_group("g", "").await.unwrap();
    warm(a, u.id).await;
    let b = ctx.reopen(crate::harness::same).await;
    b.add_member(u.id, "g").await.unwrap();
    if a.backend() == BackendKind::Sqlite {
        assert_eq!(
            a.principals_for(u.id).await.unwrap().unwrap().len(),
            1,
            "cached"
        );
    } else {
        seen_within(a, u.id, Some(p(&[&u.id.to_string(), "group:g"])), bound(a)).await;
    }
    b.close().await;
}
store_test!(the_counter_is_read_at_most_every_interval, super::slow_poll);

fn with_username_and_tags(o: StoreOptions) -> StoreOptions {
    StoreOptions {
        principals: PrincipalsConfig {
            include_username: true,
            include_user_tags: true,
            pending_authenticates: true,
            ..PrincipalsConfig::default()
        },
        ..o
    }
}

async fn configured_principals(ctx: Ctx) {
    let s = &ctx.store;
    let u = s
        .create_user(NewUser::new("bob").status(UserStatus::Pending))
        .await
        .unwrap();
    let id = u.id.to_string();
    s.create_group("staff", "").await.unwrap();
    s.add_member(u.id, "staff").await.unwrap();
    s.add_tags("users", u.id, &[Tag::new("teacher/physics").unwrap()])
        .await
        .unwrap();
    assert_eq!(
        s.principals_for(u.id).await.unwrap().unwrap().to_vec(),
        p(&[&id, "bob", "group:staff", "tag:teacher/physics"])
    );
    s.update_user(
        u.id,
        &UserUpdate {
            username: Some("robert".into()),
            ..UserUpdate::default()
        },
    )
    .await
    .unwrap();
    s.remove_tags("users", u.id, &[Tag::new("teacher/physics").unwrap()])
        .await
        .unwrap();
    assert_eq!(
        s.principals_for(u.id).await.unwrap().unwrap().to_vec(),
        p(&[&id, "robert", "group:staff"])
    );
}
store_test!(configured_principals, super::with_username_and_tags);

async fn permissions_and_identity(ctx: Ctx) {
    let s = &ctx.store;
    let u = s.create_user(NewUser::new("zed")).await.unwrap();
    s.create_group("zapper", "can zap database").await.unwrap();
    s.create_group("viewer", "").await.unwrap();
    assert!(s.grant_permission("zapper", "zap database").await.unwrap());
    assert!(!s.grant_permission("zapper", "zap database").await.unwrap());
    s.grant_permission("zapper", "view").await.unwrap();
    s.grant_permission("viewer", "view").await.unwrap();
    assert!(s.permissions_for(u.id).await.unwrap().is_empty());
    s.add_member(u.id, "zapper").await.unwrap();
    s.add_member(u.id, "viewer").await.unwrap();
    assert_eq!(
        s.permissions_for(u.id).await.unwrap(),
        ["view", "zap database"]
    );
    let ident = s.identity_for(u.id).await.unwrap().unwrap();
    assert_eq!(ident.user.username, "zed");
    assert_eq!(ident.groups, ["viewer", "zapper"]);
    assert_eq!(ident.permissions, ["view", "zap database"]);
    assert_eq!(
        s.group_permissions("zapper").await.unwrap(),
        ["view", "zap database"]
    );
    assert!(s.revoke_permission("zapper", "zap database").await.unwrap());
    assert!(!s.revoke_permission("zapper", "zap database").await.unwrap());
    assert_eq!(s.permissions_for(u.id).await.unwrap(), ["view"]);
    s.block_user(u.id).await.unwrap();
    assert!(s.identity_for(u.id).await.unwrap().is_none());
}
store_test!(permissions_and_identity);
