//! `principals_allowed_by_permission`, with Pyramid's semantics (Deny entries included).

use portcullis_authz::{Acl, EVERYONE, ResourceTree};

#[test]
fn grants_accumulate_down_the_lineage() {
    let t = ResourceTree::builder()
        .acl(
            "/",
            Acl::new()
                .allow("group:editors", "edit")
                .allow("bob", "edit"),
        )
        .acl(
            "/blog",
            Acl::new().allow("alice", "edit").deny("bob", "edit"),
        )
        .build()
        .unwrap();
    assert_eq!(
        t.principals_allowed_by_permission("/", "edit"),
        ["bob", "group:editors"]
    );
    assert_eq!(
        t.principals_allowed_by_permission("/blog/x", "edit"),
        ["alice", "group:editors"]
    );
}

#[test]
fn deny_everyone_clears_what_was_granted_above() {
    let t = ResourceTree::builder()
        .acl("/", Acl::new().allow("group:editors", "edit"))
        .acl(
            "/private",
            Acl::new()
                .allow("carol", "edit")
                .deny_all()
                .allow("dave", "edit"),
        )
        .build()
        .unwrap();
    // carol was allowed in the same ACL before DENY_ALL: kept (first match), as in Pyramid.
    assert_eq!(
        t.principals_allowed_by_permission("/private", "edit"),
        ["carol"]
    );
}

#[test]
fn an_allow_after_a_deny_in_the_same_acl_does_not_count() {
    let t = ResourceTree::builder()
        .acl(
            "/",
            Acl::new()
                .deny("bob", "edit")
                .allow("bob", "edit")
                .allow(EVERYONE, "view"),
        )
        .build()
        .unwrap();
    assert!(t.principals_allowed_by_permission("/", "edit").is_empty());
    assert_eq!(t.principals_allowed_by_permission("/", "view"), [EVERYONE]);
}

#[test]
fn all_permissions_entries_count_for_every_permission() {
    let t = ResourceTree::builder()
        .acl("/", Acl::new().allow("g:admin", "ALL_PERMISSIONS"))
        .build()
        .unwrap();
    assert_eq!(
        t.principals_allowed_by_permission("/x", "anything"),
        ["g:admin"]
    );
}
