//! Every built-in and compound predicate, met and not met, anonymous and authenticated.

use super::*;

#[test]
fn not_anonymous_rule() {
    let p = not_anonymous();
    met(&p, &bob());
    met(&p, &Identity::user("x"));
    fails(
        &p,
        &anon(),
        401,
        "The current user must have been authenticated",
    );
}

#[test]
fn is_anonymous_rule() {
    let p = is_anonymous();
    met(&p, &anon());
    fails(&p, &bob(), 403, "The current user must be anonymous");
    // With grants, still anonymous.
    met(&p, &anon().with_permission("read"));
}

#[test]
fn is_user_rule() {
    let p = is_user("bob");
    met(&p, &bob());
    fails(&p, &anon(), 401, "The current user must be \"bob\"");
    fails(
        &p,
        &Identity::user("Bob"),
        403,
        "The current user must be \"bob\"",
    );
    // The empty user name is a user name.
    met(&is_user(""), &Identity::user(""));
    fails(&is_user(""), &anon(), 401, "The current user must be \"\"");
}

#[test]
fn in_group_rule() {
    let p = in_group("qa");
    met(&p, &bob());
    fails(
        &in_group("admins"),
        &bob(),
        403,
        "The current user must belong to the group \"admins\"",
    );
    fails(
        &p,
        &anon(),
        401,
        "The current user must belong to the group \"qa\"",
    );
    // An anonymous identity with the group meets it.
    met(&p, &anon().with_group("qa"));
}

#[test]
fn in_all_groups_rule() {
    met(&in_all_groups(["qa", "staff"]), &bob());
    met(&in_all_groups(Vec::<String>::new()), &anon());
    let p = in_all_groups(["qa", "ops", "admins"]);
    fails(
        &p,
        &bob(),
        403,
        "The current user must belong to the group \"ops\"",
    );
    fails(
        &p,
        &anon(),
        401,
        "The current user must belong to the group \"qa\"",
    );
}

#[test]
fn in_any_group_rule() {
    met(&in_any_group(["ops", "staff"]), &bob());
    let p = in_any_group(["ops", "admins"]);
    let msg = "The member must belong to at least one of the following groups: ops, admins";
    fails(&p, &bob(), 403, msg);
    fails(&p, &anon(), 401, msg);
    fails(
        &in_any_group(Vec::<String>::new()),
        &bob(),
        403,
        "The member must belong to at least one of the following groups: ",
    );
}

#[test]
fn has_permission_rule() {
    met(&has_permission("release"), &bob());
    let msg = "The user must have the \"manage\" permission";
    fails(&has_permission("manage"), &bob(), 403, msg);
    fails(&has_permission("manage"), &anon(), 401, msg);
}

#[test]
fn has_all_permissions_rule() {
    met(&has_all_permissions(["read", "release"]), &bob());
    met(&has_all_permissions(Vec::<String>::new()), &bob());
    let p = has_all_permissions(["read", "write", "manage"]);
    fails(
        &p,
        &bob(),
        403,
        "The user must have the \"write\" permission",
    );
    fails(
        &p,
        &anon(),
        401,
        "The user must have the \"read\" permission",
    );
}

#[test]
fn has_any_permission_rule() {
    met(&has_any_permission(["write", "read"]), &bob());
    let p = has_any_permission(["write", "manage"]);
    let msg = "The user must have at least one of the following permissions: write, manage";
    fails(&p, &bob(), 403, msg);
    fails(&p, &anon(), 401, msg);
}

// Compounds.

#[test]
fn not_rule() {
    let p = not(is_user("bob"));
    met(&p, &anon());
    met(&p, &Identity::user("alice"));
    fails(&p, &bob(), 403, "The condition must not be met");
    // `not(is_anonymous())` fails for anonymous users: logging in helps, 401.
    fails(
        &not(is_anonymous()),
        &anon(),
        401,
        "The condition must not be met",
    );
    met(&not(not(not_anonymous())), &bob());
}

#[test]
fn all_rule() {
    met(&all([in_group("qa"), has_permission("release")]), &bob());
    met(&all([]), &anon());
    let p = all([in_group("qa"), has_permission("manage"), in_group("ops")]);
    fails(
        &p,
        &bob(),
        403,
        "The user must have the \"manage\" permission",
    );
    fails(
        &p,
        &anon(),
        401,
        "The current user must belong to the group \"qa\"",
    );
}

#[test]
fn any_rule() {
    met(&any([is_user("root"), has_permission("release")]), &bob());
    let p = any([is_user("root"), has_permission("manage")]);
    let msg = "At least one of the following predicates must be met: \
               The current user must be \"root\", The user must have the \"manage\" permission";
    fails(&p, &bob(), 403, msg);
    fails(&p, &anon(), 401, msg);
    fails(
        &any([]),
        &bob(),
        403,
        "At least one of the following predicates must be met: ",
    );
}

#[test]
fn nested_compounds() {
    // The release rule from the brief.
    let p: Predicate =
        r#"all(has_permission("release"), any(in_group("qa"), not(is_user("bob"))))"#
            .parse()
            .unwrap();
    met(&p, &bob());
    let alice = Identity::user("alice").with_permission("release");
    met(&p, &alice);
    let bob_not_qa = Identity::user("bob").with_permission("release");
    fails(
        &p,
        &bob_not_qa,
        403,
        "At least one of the following predicates must be met: \
         The current user must belong to the group \"qa\", The condition must not be met",
    );
    fails(
        &p,
        &anon(),
        401,
        "The user must have the \"release\" permission",
    );

    // Nested messages: the inner `any`'s custom message is what the outer one lists.
    let p = any([
        all([in_group("admins"), not_anonymous()]).with_message("Only admins"),
        any([is_user("root"), is_user("toor")]).with_message("Only root ({failed_predicates})"),
    ]);
    fails(
        &p,
        &bob(),
        403,
        "At least one of the following predicates must be met: Only admins, \
         Only root (The current user must be \"root\", The current user must be \"toor\")",
    );
}
