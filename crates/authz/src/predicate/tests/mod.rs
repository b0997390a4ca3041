//! Tests of the predicates: every rule, messages, the parser and the round trip.

mod custom;
mod messages;
mod properties;
mod rules;
mod syntax;

use super::*;
use crate::identity::Identity;

fn anon() -> Identity {
    Identity::anonymous()
}

fn bob() -> Identity {
    Identity::user("bob")
        .with_groups(["qa", "staff"])
        .with_permissions(["read", "release"])
}

/// Asserts `p` is met by `id`.
#[track_caller]
fn met(p: &Predicate, id: &Identity) {
    let v = p.evaluate(id);
    assert_eq!(v, Verdict::Met, "{p} for {id:?}");
    assert_eq!(v.status(), Status::Ok);
    assert_eq!(v.status().code(), 200);
    assert_eq!(v.message(), None);
    assert!(p.is_met(id));
}

/// Asserts `p` fails for `id` with `status` and `message`.
#[track_caller]
fn fails(p: &Predicate, id: &Identity, status: u16, message: &str) {
    let v = p.evaluate(id);
    assert!(!v.is_met(), "{p} for {id:?}");
    assert!(!p.is_met(id));
    assert_eq!(v.status().code(), status, "{p} for {id:?}");
    assert_eq!(v.message(), Some(message), "{p} for {id:?}");
    let n = v.not_met().unwrap();
    assert_eq!(n.is_unauthenticated(), status == 401);
    assert_eq!(n.to_string(), message);
}
