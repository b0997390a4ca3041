//! Pyramid's `ACLHelper.permits` rules, one test per rule, including the seeds' edge cases.

use std::borrow::Cow;

use portcullis_authz::{
    AUTHENTICATED, Ace, Acl, Action, DefaultDeny, EVERYONE, Resource, ResourceTree, permits,
};

const ANON: [&str; 1] = [EVERYONE];

fn tree(specs: &[(&str, Acl)]) -> ResourceTree {
    let mut b = ResourceTree::builder();
    for (p, acl) in specs {
        b = b.acl(*p, acl.clone());
    }
    b.build().unwrap()
}

#[test]
fn first_matching_entry_decides_within_an_acl() {
    let t = tree(&[("/", Acl::new().deny("bob", "edit").allow("bob", "edit"))]);
    let d = t.decide("/", "edit", &[EVERYONE, "bob"]);
    assert!(!d.allowed());
    assert_eq!(d.ace_index(), Some(0));
}

#[test]
fn entries_for_other_principals_or_permissions_are_skipped() {
    let t = tree(&[(
        "/",
        Acl::new()
            .allow("alice", "edit")
            .deny("bob", "view")
            .allow("bob", "edit"),
    )]);
    let d = t.decide("/", "edit", &[EVERYONE, "bob"]);
    assert!(d.allowed());
    assert_eq!(d.ace_index(), Some(2));
}

#[test]
fn context_acl_is_consulted_before_the_parents() {
    let t = tree(&[
        ("/", Acl::new().deny("bob", "edit")),
        ("/blog", Acl::new().allow("bob", "edit")),
    ]);
    let d = t.decide("/blog/post", "edit", &[EVERYONE, "bob"]);
    assert!(d.allowed());
    assert_eq!(d.acl_location(), Some("/blog"));
    assert!(!t.decide("/other", "edit", &[EVERYONE, "bob"]).allowed());
}

#[test]
fn resources_without_acl_are_skipped_and_unlisted_paths_exist_implicitly() {
    let t = ResourceTree::builder()
        .acl("/", Acl::new().allow(EVERYONE, "view"))
        .resource("/a", Default::default())
        .build()
        .unwrap();
    let d = t.decide("/a/b/c", "view", &ANON);
    assert!(d.allowed());
    assert_eq!(d.acl_location(), Some("/"));
    assert_eq!(d.context(), "/a/b/c");
}

#[test]
fn an_empty_acl_decides_nothing_and_inheritance_continues() {
    let t = tree(&[
        ("/", Acl::new().allow(EVERYONE, "view")),
        ("/a", Acl::new()),
    ]);
    assert!(t.decide("/a", "view", &ANON).allowed());
}

#[test]
fn deny_all_stops_inheritance() {
    let t = tree(&[
        ("/", Acl::new().allow(EVERYONE, "view")),
        (
            "/private",
            Acl::new().allow("group:staff", "view").deny_all(),
        ),
    ]);
    assert!(t.decide("/", "view", &ANON).allowed());
    let d = t.decide("/private/doc", "view", &ANON);
    assert!(!d.allowed());
    assert_eq!(
        (d.acl_location(), d.ace_index()),
        (Some("/private"), Some(1))
    );
    assert!(d.ace().unwrap().is_deny_all());
    assert!(
        t.decide("/private/doc", "view", &[EVERYONE, "group:staff"])
            .allowed()
    );
}

#[test]
fn all_permissions_covers_names_nobody_declared() {
    // seed 001: members of g:admin hold ALL_PERMISSIONS under /admin
    let t = tree(&[
        ("/", Acl::new().allow(EVERYONE, "view")),
        (
            "/admin",
            Acl::new().allow("g:admin", "ALL_PERMISSIONS").deny_all(),
        ),
    ]);
    let admin = [EVERYONE, AUTHENTICATED, "alice@example.com", "g:admin"];
    assert!(
        t.decide("/admin/users", "delete-everything", &admin)
            .allowed()
    );
    assert!(t.decide("/admin", "view", &admin).allowed());
    let user = [EVERYONE, AUTHENTICATED, "bob@example.com"];
    assert!(!t.decide("/admin", "view", &user).allowed());
    assert!(t.decide("/public", "view", &user).allowed());
}

#[test]
fn several_permissions_in_one_entry() {
    let t = tree(&[("/", Acl::new().allow("group:editors", ["add", "edit"]))]);
    let ed = [EVERYONE, "group:editors"];
    assert!(t.decide("/", "add", &ed).allowed());
    assert!(t.decide("/", "edit", &ed).allowed());
    assert!(!t.decide("/", "delete", &ed).allowed());
}

#[test]
fn seed_000_simpleauth_root_acl() {
    let t = tree(&[(
        "/",
        Acl::new()
            .allow(EVERYONE, "everybody")
            .allow("basic", "entry")
            .allow("secured", ["entry", "topsecret"]),
    )]);
    let anon = [EVERYONE];
    let generic = [EVERYONE, AUTHENTICATED, "genericuser", "basic"];
    let sup = [EVERYONE, AUTHENTICATED, "superuser", "secured"];
    assert!(t.decide("/", "everybody", &anon).allowed());
    assert!(!t.decide("/", "entry", &anon).allowed());
    assert!(t.decide("/", "entry", &generic).allowed());
    assert!(!t.decide("/", "topsecret", &generic).allowed());
    assert!(t.decide("/", "topsecret", &sup).allowed());
}

#[test]
fn default_deny_explains_that_nothing_matched() {
    let t = tree(&[("/", Acl::new().allow("bob", "edit"))]);
    let d = t.decide("/x", "edit", &ANON);
    assert!(!d.allowed());
    assert_eq!(d.ace_index(), None);
    assert_eq!(d.acl_location(), None);
    assert_eq!(
        d.default_deny_reason(),
        Some(&DefaultDeny::NoMatch {
            searched: vec!["/".into()]
        })
    );
    assert!(d.message().contains("<default deny>"), "{}", d.message());
    assert!(d.message().contains("no entry matched"), "{}", d.message());

    let empty = ResourceTree::builder().build().unwrap();
    let d = empty.decide("/x", "edit", &ANON);
    assert_eq!(d.default_deny_reason(), Some(&DefaultDeny::NoAcl));
    assert!(
        d.message()
            .contains("No ACL found on any object in resource lineage")
    );
}

#[test]
fn messages_name_everything_pyramid_names() {
    let t = tree(&[("/", Acl::new().allow(EVERYONE, "view").deny_all())]);
    let d = t.decide("/blog", "edit", &[EVERYONE, "bob"]);
    assert_eq!(
        d.message(),
        "ACLDenied permission \"edit\" via ACE ('Deny', 'system.Everyone', ALL_PERMISSIONS) (entry 1) in ACL \
         [('Allow', 'system.Everyone', 'view'), ('Deny', 'system.Everyone', ALL_PERMISSIONS)] at \"/\" on context \
         \"/blog\" for principals [\"system.Everyone\", \"bob\"]"
    );
    let d = t.decide("/blog", "view", &ANON);
    assert!(d.message().starts_with(
        "ACLAllowed permission \"view\" via ACE ('Allow', 'system.Everyone', 'view') (entry 0)"
    ));
}

#[test]
fn dot_segments_in_request_paths_are_resolved_before_checking() {
    let t = tree(&[
        ("/", Acl::new().allow(EVERYONE, "view")),
        ("/admin", Acl::new().allow("g:admin", "view").deny_all()),
    ]);
    assert!(!t.decide("/public/../admin", "view", &ANON).allowed());
    assert!(!t.decide("/public/./../admin/x", "view", &ANON).allowed());
    assert!(!t.decide("//admin", "view", &ANON).allowed());
}

#[test]
fn handles_from_another_tree_deny() {
    let a = tree(&[("/", Acl::new().allow(EVERYONE, "view"))]);
    let b = tree(&[("/", Acl::new().allow(EVERYONE, "view"))]);
    let ok = a.check(
        a.locate("/"),
        &a.permission("view"),
        &a.principal_set(&ANON),
    );
    assert!(ok.allowed());
    let c = a.check(
        a.locate("/"),
        &b.permission("view"),
        &a.principal_set(&ANON),
    );
    assert!(!c.allowed());
    assert!(c.is_foreign_handle());
    let c = a.check(
        b.locate("/"),
        &a.permission("view"),
        &a.principal_set(&ANON),
    );
    assert!(!c.allowed());
}

#[test]
fn unknown_principals_and_permissions_are_harmless() {
    let t = tree(&[("/", Acl::new().allow("bob", "view"))]);
    let set = t.principal_set(&["nobody", "nothing"]);
    assert_eq!(set.known_len(), 0);
    assert!(
        !t.check(t.locate("/"), &t.permission("never-named"), &set)
            .allowed()
    );
}

// --- the Resource trait: application objects and dynamic ACLs -----------------------------

struct Node {
    name: String,
    parent: Option<Box<Node>>,
    acl: Option<Acl>,
    dynamic_owner: Option<String>,
}

impl Resource for Node {
    fn name(&self) -> &str {
        &self.name
    }
    fn parent(&self) -> Option<&dyn Resource> {
        self.parent.as_deref().map(|p| p as &dyn Resource)
    }
    fn acl(&self) -> Option<Cow<'_, Acl>> {
        match &self.dynamic_owner {
            Some(owner) => Some(Cow::Owned(Acl::new().allow(owner.clone(), "edit"))),
            None => self.acl.as_ref().map(Cow::Borrowed),
        }
    }
}

#[test]
fn dynamic_acls_are_computed_per_instance() {
    let root = Node {
        name: String::new(),
        parent: None,
        acl: Some(Acl::new().allow(EVERYONE, "view")),
        dynamic_owner: None,
    };
    let post = Node {
        name: "p1".into(),
        parent: Some(Box::new(root)),
        acl: None,
        dynamic_owner: Some("alice".into()),
    };
    let d = permits(&post, &[EVERYONE, "alice"], "edit");
    assert!(d.allowed());
    assert_eq!(d.acl_location(), Some("/p1"));
    assert!(!permits(&post, &[EVERYONE, "bob"], "edit").allowed());
    assert!(permits(&post, &[EVERYONE, "bob"], "view").allowed());
}

struct Cycle;
impl Resource for Cycle {
    fn name(&self) -> &str {
        "loop"
    }
    fn parent(&self) -> Option<&dyn Resource> {
        Some(self)
    }
    fn acl(&self) -> Option<Cow<'_, Acl>> {
        None
    }
}

#[test]
fn a_parent_cycle_denies_with_an_explanation() {
    let d = permits(&Cycle, &[EVERYONE], "view");
    assert!(!d.allowed());
    assert_eq!(d.default_deny_reason(), Some(&DefaultDeny::LineageTooDeep));
}

#[test]
fn ace_rendering_matches_python_reprs() {
    assert_eq!(
        Ace::new(Action::Allow, "bob", "edit").to_string(),
        "('Allow', 'bob', 'edit')"
    );
    assert_eq!(
        Ace::allow("bob", ["edit"]).to_string(),
        "('Allow', 'bob', ('edit',))"
    );
    assert_eq!(
        Ace::deny("o'neil", "x").to_string(),
        "('Deny', 'o\\'neil', 'x')"
    );
}
