//! Property tests: the compiled index, the reference walk over the tree, and the generic
//! `Resource` walk give the same decision (allowed, deciding entry, its ACL's location) on random
//! trees, principal sets and permissions.

use std::borrow::Cow;
use std::collections::HashMap;

use portcullis_authz::{Ace, Acl, Action, Permissions, Resource, ResourceTree, permits};
use proptest::prelude::*;

const PRINCIPALS: [&str; 6] = [
    "system.Everyone",
    "system.Authenticated",
    "u1",
    "u2",
    "g:1",
    "g:2",
];
const PERMS: [&str; 3] = ["p1", "p2", "p3"];
const QUERY_PERMS: [&str; 4] = ["p1", "p2", "p3", "unnamed"];

fn ace() -> impl Strategy<Value = Ace> {
    let perms = prop_oneof![
        1 => Just(Permissions::All),
        4 => (0..PERMS.len()).prop_map(|i| Permissions::One(PERMS[i].to_owned())),
        2 => proptest::sample::subsequence(PERMS.to_vec(), 1..=3)
            .prop_map(|v| Permissions::Many(v.into_iter().map(str::to_owned).collect())),
    ];
    (any::<bool>(), 0..PRINCIPALS.len(), perms).prop_map(|(allow, p, perms)| Ace {
        action: if allow { Action::Allow } else { Action::Deny },
        principal: PRINCIPALS[p].to_owned(),
        permissions: perms,
    })
}

fn path() -> impl Strategy<Value = String> {
    proptest::collection::vec(prop_oneof![Just("a"), Just("b"), Just("c")], 0..4)
        .prop_map(|segs| format!("/{}", segs.join("/")))
}

fn spec() -> impl Strategy<Value = Vec<(String, Option<Vec<Ace>>)>> {
    proptest::collection::vec(
        (
            path(),
            proptest::option::weighted(0.8, proptest::collection::vec(ace(), 0..6)),
        ),
        0..10,
    )
    .prop_map(|mut v| {
        // one declaration per path
        let mut seen = std::collections::HashSet::new();
        v.retain(|(p, _)| seen.insert(p.clone()));
        v
    })
}

fn query() -> impl Strategy<Value = (String, Vec<&'static str>, &'static str)> {
    (
        proptest::collection::vec(
            prop_oneof![Just("a"), Just("b"), Just("c"), Just("d")],
            0..5,
        )
        .prop_map(|segs| format!("/{}", segs.join("/"))),
        proptest::sample::subsequence(PRINCIPALS.to_vec(), 0..=6),
        proptest::sample::select(QUERY_PERMS.to_vec()),
    )
}

struct Chain {
    name: String,
    parent: Option<Box<Chain>>,
    acl: Option<Acl>,
}

impl Resource for Chain {
    fn name(&self) -> &str {
        &self.name
    }
    fn parent(&self) -> Option<&dyn Resource> {
        self.parent.as_deref().map(|p| p as &dyn Resource)
    }
    fn acl(&self) -> Option<Cow<'_, Acl>> {
        self.acl.as_ref().map(Cow::Borrowed)
    }
}

/// The application-object form of the same tree, for one request path.
fn chain(acls: &HashMap<String, Acl>, path: &str) -> Chain {
    let mut node = Chain {
        name: String::new(),
        parent: None,
        acl: acls.get("/").cloned(),
    };
    let mut cur = String::new();
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        cur.push('/');
        cur.push_str(seg);
        node = Chain {
            name: seg.to_owned(),
            parent: Some(Box::new(node)),
            acl: acls.get(&cur).cloned(),
        };
    }
    node
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn compiled_equals_reference(spec in spec(), queries in proptest::collection::vec(query(), 1..20)) {
        let mut b = ResourceTree::builder();
        let mut acls = HashMap::new();
        for (p, acl) in &spec {
            let resource = portcullis_authz::tree::ResourceSpec { acl: acl.clone().map(Acl::from), ..Default::default() };
            b = b.resource(p.clone(), resource);
            if let Some(acl) = acl {
                acls.insert(p.clone(), Acl::from(acl.clone()));
            }
        }
        let tree = b.build().unwrap();
        for (path, principals, perm) in &queries {
            let fast = tree.decide(path, perm, principals);
            let slow = tree.decide_by_walking(path, perm, principals);
            prop_assert_eq!(&fast, &slow, "path {} perm {} principals {:?}", path, perm, principals);
            let generic = permits(&chain(&acls, path), principals, perm);
            prop_assert_eq!(fast.allowed(), generic.allowed());
            prop_assert_eq!(fast.ace_index(), generic.ace_index());
            prop_assert_eq!(fast.acl_location(), generic.acl_location());
            prop_assert_eq!(fast.ace(), generic.ace());
            // principals_allowed_by_permission agrees with the generic walk too
            prop_assert_eq!(
                tree.principals_allowed_by_permission(path, perm),
                portcullis_authz::principals_allowed_by_permission(&chain(&acls, path), perm)
            );
        }
    }
}
