//! Groups and memberships.

use portcullis_store::{NewUser, StoreError, Tag, UserQuery};

use crate::harness::Ctx;

async fn groups_and_members(ctx: Ctx) {
    let s = &ctx.store;
    let a = s.create_user(NewUser::new("a")).await.unwrap();
    let b = s.create_user(NewUser::new("b")).await.unwrap();
    let g = s.create_group("basic", "entry level").await.unwrap();
    assert_eq!(g.description, "entry level");
    s.create_group("secured", "").await.unwrap();
    assert!(matches!(
        s.create_group("basic", "").await,
        Err(StoreError::Conflict { field: "group" })
    ));
    assert!(matches!(
        s.create_group("", "").await,
        Err(StoreError::InvalidInput { .. })
    ));
    let names: Vec<_> = s
        .list_groups()
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(names, ["basic", "secured"]);

    assert!(s.add_member(a.id, "basic").await.unwrap());
    assert!(!s.add_member(a.id, "basic").await.unwrap(), "idempotent");
    s.add_member(b.id, "basic").await.unwrap();
    s.add_member(b.id, "secured").await.unwrap();
    assert!(matches!(
        s.add_member(a.id, "nope").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.add_member(9999, "basic").await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(s.members_of("basic").await.unwrap(), [a.id, b.id]);
    let of_b: Vec<_> = s
        .groups_of(b.id)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(of_b, ["basic", "secured"]);
    let secured = s
        .list_users(&UserQuery {
            group: Some("secured".into()),
            ..UserQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(secured.len(), 1);
    assert_eq!(secured[0].id, b.id);

    assert!(s.remove_member(b.id, "basic").await.unwrap());
    assert!(!s.remove_member(b.id, "basic").await.unwrap());
    // Deleting a group removes memberships and its `groups` tags.
    s.add_tags("groups", g.id, &[Tag::new("zap").unwrap()])
        .await
        .unwrap();
    assert!(s.delete_group("basic").await.unwrap());
    assert!(!s.delete_group("basic").await.unwrap());
    assert!(s.groups_of(a.id).await.unwrap().is_empty());
    assert!(s.get_tags("groups", g.id).await.unwrap().is_empty());
    // Deleting a user removes its memberships.
    s.delete_user(b.id).await.unwrap();
    assert!(s.members_of("secured").await.unwrap().is_empty());
}
store_test!(groups_and_members);
