//! Default messages (TurboGears wording), custom messages and placeholders.

use super::*;

#[test]
fn custom_messages_replace_defaults() {
    let m = "Only administrators can delete user accounts";
    fails(&not_anonymous().with_message(m), &anon(), 401, m);
    for p in [
        is_user("root"),
        in_group("admins"),
        in_all_groups(["admins"]),
        in_any_group(["admins"]),
        has_permission("delete"),
        has_all_permissions(["delete"]),
        has_any_permission(["delete"]),
        not(not_anonymous()),
        all([in_group("admins")]),
        any([in_group("admins")]),
    ] {
        let p = p.with_message(m);
        assert_eq!(p.custom_message(), Some(m));
        fails(&p, &Identity::user("bob"), 403, m);
    }
    fails(&is_anonymous().with_message(m), &bob(), 403, m);
    // A met predicate has no message, custom or not.
    met(&not_anonymous().with_message(m), &bob());
}

#[test]
fn placeholders_in_custom_messages() {
    let id = Identity::user("bob");
    let cases = [
        (is_user("root"), "Only {user_name}", "Only root"),
        (in_group("admins"), "Only {group_name}", "Only admins"),
        (
            in_all_groups(["a", "b"]),
            "{group_name} of {group_list}",
            "a of a, b",
        ),
        (
            in_any_group(["a", "b"]),
            "One of {group_list}",
            "One of a, b",
        ),
        (has_permission("x"), "Need {permission_name}", "Need x"),
        (
            has_all_permissions(["x", "y"]),
            "{permission_name} of {permission_list}",
            "x of x, y",
        ),
        (
            has_any_permission(["x", "y"]),
            "One of {permission_list}",
            "One of x, y",
        ),
        (
            any([is_user("a")]),
            "[{failed_predicates}]",
            "[The current user must be \"a\"]",
        ),
    ];
    for (p, template, expected) in cases {
        fails(&p.with_message(template), &id, 403, expected);
    }
    // The first *missing* one.
    let id = Identity::user("bob")
        .with_groups(["a"])
        .with_permission("x");
    fails(
        &in_all_groups(["a", "b"]).with_message("{group_name}"),
        &id,
        403,
        "b",
    );
    fails(
        &has_all_permissions(["x", "y"]).with_message("{permission_name}"),
        &id,
        403,
        "y",
    );
}

#[test]
fn unknown_placeholders_are_kept() {
    let id = Identity::user("bob");
    // Unknown everywhere, and known names of other predicates.
    fails(
        &in_group("g").with_message("{nope} {user_name} {group_name}"),
        &id,
        403,
        "{nope} {user_name} g",
    );
    fails(
        &not_anonymous().with_message("{user_name}"),
        &anon(),
        401,
        "{user_name}",
    );
    fails(
        &all([in_group("g")]).with_message("{group_name}"),
        &id,
        403,
        "{group_name}",
    );
    fails(
        &in_group("g").with_message("{group_name"),
        &id,
        403,
        "{group_name",
    );
    fails(
        &in_group("g").with_message("{{group_name}}"),
        &id,
        403,
        "{g}",
    );
}

#[test]
fn substituted_values_are_not_expanded() {
    let p = in_group("{group_name}").with_message("<{group_name}>");
    fails(&p, &Identity::user("bob"), 403, "<{group_name}>");
    fails(
        &is_user("{user_name}"),
        &anon(),
        401,
        "The current user must be \"{user_name}\"",
    );
}

#[test]
fn default_wording_is_turbogears() {
    use super::message::*;
    assert_eq!(
        NOT_ANONYMOUS,
        "The current user must have been authenticated"
    );
    assert_eq!(IS_ANONYMOUS, "The current user must be anonymous");
    assert_eq!(IS_USER, "The current user must be \"{user_name}\"");
    assert_eq!(
        IN_GROUP,
        "The current user must belong to the group \"{group_name}\""
    );
    assert_eq!(
        IN_ANY_GROUP,
        "The member must belong to at least one of the following groups: {group_list}"
    );
    assert_eq!(
        HAS_PERMISSION,
        "The user must have the \"{permission_name}\" permission"
    );
    assert_eq!(
        HAS_ANY_PERMISSION,
        "The user must have at least one of the following permissions: {permission_list}"
    );
    assert_eq!(NOT, "The condition must not be met");
    assert_eq!(
        ANY,
        "At least one of the following predicates must be met: {failed_predicates}"
    );
}
