//! Tests of the predicates: every rule, messages, the parser and the round trip.

use std::sync::Arc;

use proptest::prelude::{
    Just, Strategy, TestCaseError, prop, prop_assert, prop_assert_eq, prop_oneof, proptest,
};

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

// ---------------------------------------------------------------- built-ins

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

// ---------------------------------------------------------------- compounds

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

// ---------------------------------------------------------------- messages

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

// ---------------------------------------------------------------- custom predicates

/// The seed's `is_month`, with the current month injected.
#[derive(Debug)]
struct IsMonth {
    right_month: u8,
    current_month: u8,
}

impl CustomPredicate for IsMonth {
    fn name(&self) -> &str {
        "is_month"
    }
    fn arguments(&self) -> Vec<String> {
        vec![self.right_month.to_string()]
    }
    fn message(&self) -> &str {
        "The current month must be {right_month}"
    }
    fn placeholder(&self, name: &str) -> Option<String> {
        (name == "right_month").then(|| self.right_month.to_string())
    }
    fn is_met(&self, _identity: &Identity) -> bool {
        self.current_month == self.right_month
    }
}

fn is_month(right_month: u8, current_month: u8) -> Predicate {
    Predicate::custom(Arc::new(IsMonth {
        right_month,
        current_month,
    }))
}

fn month_parser(current_month: u8) -> Parser {
    Parser::new().custom("is_month", move |args: &[String]| match args {
        [m] => match m.parse::<u8>() {
            Ok(right_month @ 1..=12) => Ok(Arc::new(IsMonth {
                right_month,
                current_month,
            }) as Arc<dyn CustomPredicate>),
            _ => Err(format!("`{m}` is not a month")),
        },
        _ => Err(format!("takes exactly one month, found {}", args.len())),
    })
}

#[test]
fn is_month_custom_predicate() {
    met(&is_month(4, 4), &anon());
    fails(&is_month(4, 5), &anon(), 401, "The current month must be 4");
    fails(&is_month(4, 5), &bob(), 403, "The current month must be 4");
    fails(
        &is_month(4, 5).with_message("Releases happen in month {right_month}, not {x}"),
        &bob(),
        403,
        "Releases happen in month 4, not {x}",
    );

    let release = |now| {
        all([
            has_permission("release"),
            any([is_month(4, now), is_month(10, now)]),
        ])
    };
    met(&release(4), &bob());
    met(&release(10), &bob());
    fails(
        &release(6),
        &bob(),
        403,
        "At least one of the following predicates must be met: \
         The current month must be 4, The current month must be 10",
    );
    fails(
        &release(4),
        &anon(),
        401,
        "The user must have the \"release\" permission",
    );
}

#[test]
fn custom_predicates_print_and_parse_back() {
    let p = all([
        has_permission("release"),
        any([is_month(4, 6), is_month(10, 6)]),
    ])
    .with_message("Ubuntu is released in April and October");
    let text = p.to_string();
    assert_eq!(
        text,
        r#"all(has_permission("release"), any(is_month("4"), is_month("10")), msg="Ubuntu is released in April and October")"#
    );
    let parsed = month_parser(6).parse(&text).unwrap();
    assert_eq!(parsed, p);
    fails(
        &parsed,
        &bob(),
        403,
        "Ubuntu is released in April and October",
    );
    assert!(month_parser(4).parse(&text).unwrap().is_met(&bob()));

    // The built-in parser does not know it.
    let err = text.parse::<Predicate>().unwrap_err();
    assert_eq!(
        err.kind(),
        &ParseErrorKind::UnknownPredicate {
            name: "is_month".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "unknown predicate `is_month` at 1:36 (byte 35)"
    );

    // Factory errors carry the position of the call.
    let err = month_parser(6)
        .parse("not(\n  is_month(\"13\"))")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid arguments of `is_month` at 2:3: `13` is not a month (byte 7)"
    );
    let err = month_parser(6).parse("is_month()").unwrap_err();
    assert!(matches!(
        err.kind(),
        ParseErrorKind::InvalidArguments { .. }
    ));
    // Custom predicates take `msg` too, and cannot shadow built-ins or `msg`.
    assert!(month_parser(6).parse(r#"is_month("1", msg="m")"#).is_ok());
    let p = Parser::new()
        .custom("in_group", |_: &[String]| Err("shadowed".to_owned()))
        .custom("msg", |_: &[String]| Err("shadowed".to_owned()));
    assert_eq!(p.parse(r#"in_group("a")"#).unwrap(), in_group("a"));
    assert!(matches!(
        p.parse("msg()").unwrap_err().kind(),
        ParseErrorKind::UnknownPredicate { .. }
    ));
    assert!(format!("{p:?}").contains("in_group"));
}

#[test]
fn predicates_are_send_sync_clone() {
    fn check<T: Send + Sync + Clone + std::fmt::Debug + 'static>() {}
    check::<Predicate>();
    check::<Verdict>();
    check::<Parser>();
    check::<ParseError>();
    let p = all([is_month(1, 1), in_group("a")]);
    let q = p.clone();
    assert_eq!(p, q);
    let handle = std::thread::spawn(move || q.is_met(&Identity::user("x").with_group("a")));
    assert!(handle.join().unwrap());
}

#[test]
fn equality_is_structural() {
    assert_eq!(in_group("a"), in_group("a"));
    assert_ne!(in_group("a"), in_group("b"));
    assert_ne!(in_group("a"), in_group("a").with_message("m"));
    assert_ne!(in_all_groups(["a"]), in_any_group(["a"]));
    assert_eq!(is_month(4, 1), is_month(4, 2)); // same text form
    assert_ne!(is_month(4, 1), is_month(5, 1));
    assert!(matches!(not(in_group("a")).kind(), PredicateKind::Not(p) if **p == in_group("a")));
}

// ---------------------------------------------------------------- display

#[test]
fn display_formats() {
    let cases: [(Predicate, &str); 8] = [
        (not_anonymous(), "not_anonymous()"),
        (is_anonymous().with_message("m"), r#"is_anonymous(msg="m")"#),
        (is_user("bob"), r#"is_user("bob")"#),
        (in_all_groups(["a", "b"]), r#"in_all_groups("a", "b")"#),
        (has_any_permission(["x"]), r#"has_any_permission("x")"#),
        (
            not(in_group(r#"say "hi" \o/"#)),
            r#"not(in_group("say \"hi\" \\o/"))"#,
        ),
        (
            any([in_any_group(["a"]), has_all_permissions(["p", "q"])])
                .with_message("line1\nline2"),
            "any(in_any_group(\"a\"), has_all_permissions(\"p\", \"q\"), msg=\"line1\nline2\")",
        ),
        (all([has_permission("p")]), r#"all(has_permission("p"))"#),
    ];
    for (p, text) in cases {
        assert_eq!(p.to_string(), text);
        assert_eq!(text.parse::<Predicate>().unwrap(), p, "{text}");
    }
}

// ---------------------------------------------------------------- parser

fn parse(s: &str) -> Result<Predicate, ParseError> {
    s.parse()
}

fn err(s: &str) -> String {
    parse(s).unwrap_err().to_string()
}

#[test]
fn parses_every_builtin() {
    let cases: [(&str, Predicate); 12] = [
        ("not_anonymous()", not_anonymous()),
        ("is_anonymous()", is_anonymous()),
        (r#"is_user("u")"#, is_user("u")),
        (r#"in_group("g")"#, in_group("g")),
        (r#"in_all_groups("a","b")"#, in_all_groups(["a", "b"])),
        (r#"in_any_group("a")"#, in_any_group(["a"])),
        (r#"has_permission("p")"#, has_permission("p")),
        (
            r#"has_all_permissions("p", "q", "r")"#,
            has_all_permissions(["p", "q", "r"]),
        ),
        (
            r#"has_any_permission("p", "q")"#,
            has_any_permission(["p", "q"]),
        ),
        ("not(not_anonymous())", not(not_anonymous())),
        (
            "all(not_anonymous(),is_anonymous())",
            all([not_anonymous(), is_anonymous()]),
        ),
        ("any(not_anonymous())", any([not_anonymous()])),
    ];
    for (text, p) in cases {
        assert_eq!(parse(text).unwrap(), p, "{text}");
    }
}

#[test]
fn parses_the_example_of_the_brief() {
    let p = parse(
        r#"all(has_permission("release"), any(in_group("qa"), not(is_user("bob"))), msg="Only QA may release")"#,
    )
    .unwrap();
    assert_eq!(
        p,
        all([
            has_permission("release"),
            any([in_group("qa"), not(is_user("bob"))])
        ])
        .with_message("Only QA may release")
    );
}

#[test]
fn whitespace_and_newlines_between_tokens() {
    let p = parse(
        " \n\tall (\r\n  has_permission ( \"release\" ) ,\n  not(\tis_user(\"bob\")\n) , msg\n=\n\"m\"\n)\n ",
    )
    .unwrap();
    assert_eq!(
        p,
        all([has_permission("release"), not(is_user("bob"))]).with_message("m")
    );
    // Whitespace inside strings is kept.
    assert_eq!(parse(r#"in_group(" a b ")"#).unwrap(), in_group(" a b "));
    // Not inside names.
    assert_eq!(
        err("in _group(\"a\")"),
        "unknown predicate `in` at 1:1 (byte 0)"
    );
    assert_eq!(
        err("in_group\n\"a\""),
        "expected `(` at 2:1, found `\"` (byte 9)"
    );
}

#[test]
fn strings_escapes_and_newlines() {
    assert_eq!(parse(r#"in_group("a\"b")"#).unwrap(), in_group("a\"b"));
    assert_eq!(parse(r#"in_group("a\\b")"#).unwrap(), in_group("a\\b"));
    assert_eq!(parse(r#"in_group("\\\"")"#).unwrap(), in_group("\\\""));
    assert_eq!(parse("in_group(\"a\nb\")").unwrap(), in_group("a\nb"));
    assert_eq!(parse(r#"in_group("")"#).unwrap(), in_group(""));
    assert_eq!(
        parse(r#"in_group("é ✓ )(,")"#).unwrap(),
        in_group("é ✓ )(,")
    );
    assert_eq!(
        err(r#"in_group("a\nb")"#),
        r#"invalid escape `\n` at 1:12, expected `\"` or `\\` (byte 11)"#
    );
    assert_eq!(
        err("in_group(\"a\\\tb\")"),
        r#"invalid escape `\\t` at 1:12, expected `\"` or `\\` (byte 11)"#
    );
    assert_eq!(
        err(r#"in_group("abc"#),
        "unterminated string starting at 1:10 (byte 9)"
    );
    assert_eq!(
        err(r#"in_group("abc\"#),
        "unterminated string starting at 1:10 (byte 9)"
    );
    assert_eq!(
        err("in_group(\"a\nb\")\n  x"),
        "expected end of input at 3:3, found `x` (byte 18)"
    );
}

#[test]
fn error_positions() {
    let e = parse(r#"all(has_permission("release"), any(in_group("qa") x))"#).unwrap_err();
    assert_eq!((e.offset(), e.line(), e.column()), (50, 1, 51));
    assert_eq!(
        e.kind(),
        &ParseErrorKind::Expected {
            expected: "`,` or `)`".into(),
            found: "`x`".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "expected `,` or `)` at 1:51, found `x` (byte 50)"
    );

    // Columns count characters; offsets count bytes.
    let e = parse("all(\n  in_group(\"é\"),\n  ✓)").unwrap_err();
    assert_eq!((e.offset(), e.line(), e.column()), (25, 3, 3));
    assert_eq!(
        e.to_string(),
        "expected a predicate at 3:3, found `✓` (byte 25)"
    );
}

#[test]
fn empty_and_missing_arguments() {
    assert_eq!(
        err(""),
        "expected a predicate at 1:1, found end of input (byte 0)"
    );
    assert_eq!(
        err("   \n "),
        "expected a predicate at 2:2, found end of input (byte 5)"
    );
    assert_eq!(
        err("in_group()"),
        "expected a string at 1:10, found `)` (byte 9)"
    );
    assert_eq!(
        err("in_all_groups( )"),
        "expected a string at 1:16, found `)` (byte 15)"
    );
    assert_eq!(
        err("all()"),
        "expected a predicate at 1:5, found `)` (byte 4)"
    );
    assert_eq!(
        err("not()"),
        "expected a predicate at 1:5, found `)` (byte 4)"
    );
    assert_eq!(
        err(r#"in_group(msg="m")"#),
        "expected a string at 1:10, found `msg` (byte 9)"
    );
    assert_eq!(
        err(r#"any(msg="m")"#),
        "expected a predicate at 1:5, found `msg` (byte 4)"
    );
    assert_eq!(
        err("in_group"),
        "expected `(` at 1:9, found end of input (byte 8)"
    );
    assert_eq!(
        err("in_group("),
        "expected a string at 1:10, found end of input (byte 9)"
    );
    assert_eq!(
        err(r#"in_group("a""#),
        "expected `,` or `)` at 1:13, found end of input (byte 12)"
    );
    assert_eq!(
        err("not_anonymous("),
        "expected `)` or `msg=` at 1:15, found end of input (byte 14)"
    );
    assert_eq!(
        err("not_anonymous(,)"),
        "expected `)` or `msg=` at 1:15, found `,` (byte 14)"
    );
    assert_eq!(
        err("not(is_anonymous(),)"),
        "expected `msg=` at 1:20, found `)` (byte 19)"
    );
}

#[test]
fn arity_errors() {
    assert_eq!(
        err(r#"not_anonymous("a")"#),
        "too many arguments at 1:15: `not_anonymous` takes no arguments (byte 14)"
    );
    assert_eq!(
        err(r#"is_user("a", "b")"#),
        "too many arguments at 1:14: `is_user` takes exactly one string (byte 13)"
    );
    assert_eq!(
        err("not(is_anonymous(), not_anonymous())"),
        "too many arguments at 1:21: `not` takes exactly one predicate (byte 20)"
    );
    assert_eq!(
        err(r#"all("a")"#),
        "expected a predicate at 1:5, found `\"` (byte 4)"
    );
    assert_eq!(
        err("in_group(is_anonymous())"),
        "expected a string at 1:10, found `is_anonymous` (byte 9)"
    );
    assert_eq!(
        err(r#"in_any_group("a", b)"#),
        "expected a string at 1:19, found `b` (byte 18)"
    );
}

#[test]
fn msg_keyword() {
    assert_eq!(
        parse(r#"not_anonymous(msg="m")"#).unwrap(),
        not_anonymous().with_message("m")
    );
    assert_eq!(
        parse(r#"not(is_anonymous(msg="a"), msg="b")"#).unwrap(),
        not(is_anonymous().with_message("a")).with_message("b")
    );
    assert_eq!(
        parse(r#"in_group("g",msg="")"#).unwrap(),
        in_group("g").with_message("")
    );
    // `msg` comes last, once, and needs `=` and a string.
    assert_eq!(
        err(r#"in_any_group("a", msg="m", "b")"#),
        "expected `)` at 1:26, found `,` (byte 25)"
    );
    assert_eq!(
        err(r#"in_group("a", msg="m", msg="n")"#),
        "expected `)` at 1:22, found `,` (byte 21)"
    );
    assert_eq!(
        err(r#"in_group("a", msg "m")"#),
        "expected `=` at 1:19, found `\"` (byte 18)"
    );
    assert_eq!(
        err(r#"in_group("a", msg=m)"#),
        "expected a string at 1:19, found `m` (byte 18)"
    );
    assert_eq!(
        err(r#"in_group("a", msgx="m")"#),
        "too many arguments at 1:15: `in_group` takes exactly one string (byte 14)"
    );
    assert_eq!(
        err(r#"in_any_group("a", msgx="m")"#),
        "expected a string at 1:19, found `msgx` (byte 18)"
    );
    assert_eq!(
        err(r#"in_any_group("a", MSG="m")"#),
        "expected a string at 1:19, found `MSG` (byte 18)"
    );
}

#[test]
fn trailing_garbage_and_separators() {
    assert_eq!(
        err("not_anonymous())"),
        "expected end of input at 1:16, found `)` (byte 15)"
    );
    assert_eq!(
        err("not_anonymous() is_anonymous()"),
        "expected end of input at 1:17, found `is_anonymous` (byte 16)"
    );
    assert_eq!(
        err(r#"in_any_group("a",)"#),
        "expected a string at 1:18, found `)` (byte 17)"
    );
    assert_eq!(
        err(r#"in_any_group("a" "b")"#),
        "expected `,` or `)` at 1:18, found `\"` (byte 17)"
    );
    assert_eq!(
        err(r#"in_any_group("a",,"b")"#),
        "expected a string at 1:18, found `,` (byte 17)"
    );
    assert_eq!(
        err("not_anonymous()\0"),
        "expected end of input at 1:16, found `\\0` (byte 15)"
    );
    assert_eq!(err("all(foo())"), "unknown predicate `foo` at 1:5 (byte 4)");
    assert_eq!(
        err("Not(is_anonymous())"),
        "unknown predicate `Not` at 1:1 (byte 0)"
    );
    assert_eq!(
        err("1all()"),
        "expected a predicate at 1:1, found `1` (byte 0)"
    );
    let long = "x".repeat(100);
    assert_eq!(
        err(&format!("not_anonymous() {long}")),
        format!(
            "expected end of input at 1:17, found `{}…` (byte 16)",
            &long[..32]
        )
    );
}

#[test]
fn depth_limit() {
    let nested = |n: usize| {
        format!(
            "{}not_anonymous(){}",
            "not(".repeat(n - 1),
            ")".repeat(n - 1)
        )
    };
    let p = parse(&nested(MAX_DEPTH)).unwrap();
    assert_eq!(p.is_met(&anon()), MAX_DEPTH.is_multiple_of(2));
    let e = parse(&nested(MAX_DEPTH + 1)).unwrap_err();
    assert_eq!(e.kind(), &ParseErrorKind::TooDeep { max: MAX_DEPTH });
    assert_eq!(e.offset(), 4 * MAX_DEPTH);
    assert_eq!(
        e.to_string(),
        format!("predicates nested more than 64 levels deep at 1:257 (byte 256)")
    );
    // Hostile input: deep nesting is rejected without recursing further.
    let hostile = "all(".repeat(10_000);
    assert!(matches!(
        parse(&hostile).unwrap_err().kind(),
        ParseErrorKind::TooDeep { .. }
    ));
    let hostile = "any(".repeat(MAX_EXPRESSION_LEN);
    assert_eq!(
        err(&hostile),
        format!(
            "expression is {} bytes long, at most {} are allowed",
            4 * MAX_EXPRESSION_LEN,
            MAX_EXPRESSION_LEN
        )
    );
    // Exactly the limit is fine.
    let padded = format!("is_anonymous(){}", " ".repeat(MAX_EXPRESSION_LEN - 14));
    assert_eq!(padded.len(), MAX_EXPRESSION_LEN);
    assert_eq!(parse(&padded).unwrap(), is_anonymous());
}

// ---------------------------------------------------------------- properties

fn name() -> impl Strategy<Value = String> {
    // Quotes, backslashes, newlines, braces, commas, parentheses and non-ASCII included.
    proptest::string::string_regex(r#"[a-z"\\\n{}(), é✓]{0,8}"#).unwrap()
}

fn names1() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(name(), 1..4)
}

fn predicate_tree() -> impl Strategy<Value = Predicate> {
    let leaf = prop_oneof![
        Just(not_anonymous()),
        Just(is_anonymous()),
        name().prop_map(is_user),
        name().prop_map(in_group),
        names1().prop_map(in_all_groups),
        names1().prop_map(in_any_group),
        name().prop_map(has_permission),
        names1().prop_map(has_all_permissions),
        names1().prop_map(has_any_permission),
    ];
    let tree = leaf.prop_recursive(6, 48, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(not),
            prop::collection::vec(inner.clone(), 1..4).prop_map(all),
            prop::collection::vec(inner, 1..4).prop_map(any),
        ]
    });
    (tree, prop::option::of(name())).prop_map(|(p, m)| match m {
        Some(m) => p.with_message(m),
        None => p,
    })
}

fn identity() -> impl Strategy<Value = Identity> {
    let user = prop::option::of(prop::sample::select(vec!["a", "b", ""]));
    let set = || prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "\""]), 0..3);
    (user, set(), set()).prop_map(|(u, g, p)| {
        let id = match u {
            Some(u) => Identity::user(u),
            None => Identity::anonymous(),
        };
        id.with_groups(g).with_permissions(p)
    })
}

/// Replaces strings by something parseable-but-different and makes the text as hostile as
/// possible by inserting whitespace around tokens.
fn spaced(text: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                out.push_str(" \n");
                out.push(c);
                in_string = true;
            }
            '(' | ')' | ',' | '=' => {
                out.push_str("\t ");
                out.push(c);
                out.push_str("\r\n");
            }
            _ => out.push(c),
        }
    }
    out
}

proptest! {
    #[test]
    fn display_parses_back(p in predicate_tree()) {
        let text = p.to_string();
        let parsed: Predicate = text.parse().map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert_eq!(&parsed, &p);
        prop_assert_eq!(parsed.to_string(), text.clone());
        let parsed: Predicate = spaced(&text).parse().map_err(|e| TestCaseError::fail(format!("{e}: {text}")))?;
        prop_assert_eq!(parsed, p);
    }

    #[test]
    fn evaluate_agrees_with_is_met(p in predicate_tree(), id in identity()) {
        let v = p.evaluate(&id);
        prop_assert_eq!(v.is_met(), p.is_met(&id));
        let expected = match (v.is_met(), id.is_anonymous()) {
            (true, _) => 200,
            (false, true) => 401,
            (false, false) => 403,
        };
        prop_assert_eq!(v.status().code(), expected);
        prop_assert_eq!(v.message().is_some(), !v.is_met());
        if let (Some(m), Some(custom)) = (v.message(), p.custom_message()) {
            // A message without braces is used verbatim.
            if !custom.contains('{') {
                prop_assert_eq!(m, custom);
            }
        }
        // `not` inverts.
        prop_assert_eq!(not(p.clone()).is_met(&id), !v.is_met());
    }

    #[test]
    fn parser_never_panics(text in r#"[a-z_()",=\\ \n]{0,60}"#) {
        let _ = text.parse::<Predicate>();
    }

    #[test]
    fn parser_never_panics_on_mutations(p in predicate_tree(), cut in 0usize..400, insert in "[()\",=\\\\a\n]") {
        let text = p.to_string();
        let mut boundary = cut.min(text.len());
        while !text.is_char_boundary(boundary) {
            boundary -= 1;
        }
        let (a, b) = text.split_at(boundary);
        if let Err(e) = format!("{a}{insert}{b}").parse::<Predicate>() {
            prop_assert!(e.offset() <= text.len() + insert.len());
            prop_assert!(e.line() >= 1 && e.column() >= 1);
        }
        if let Err(e) = a.parse::<Predicate>() {
            prop_assert!(e.offset() <= a.len());
        }
    }
}
