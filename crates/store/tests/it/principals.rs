//! The groupfinder and its cache.

use portcullis_store::{NewUser, PrincipalsConfig, StoreOptions, Tag, UserStatus, UserUpdate};

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

async fn changes_elsewhere_need_invalidation(ctx: Ctx) {
    let s = &ctx.store;
    let u = s.create_user(NewUser::new("alice")).await.unwrap();
    s.create_group("g", "").await.unwrap();
    assert_eq!(s.principals_for(u.id).await.unwrap().unwrap().len(), 1);
    // Another process (another Store on the same database) adds a membership.
    let other = ctx.reopen(crate::harness::same).await;
    other.add_member(u.id, "g").await.unwrap();
    assert_eq!(
        s.principals_for(u.id).await.unwrap().unwrap().len(),
        1,
        "cached"
    );
    assert_eq!(
        s.load_principals(u.id).await.unwrap().unwrap().len(),
        2,
        "uncached read"
    );
    s.invalidate_all_principals();
    assert_eq!(s.cached_principals(), 0);
    assert_eq!(s.principals_for(u.id).await.unwrap().unwrap().len(), 2);
    other.close().await;
}
store_test!(changes_elsewhere_need_invalidation);

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
