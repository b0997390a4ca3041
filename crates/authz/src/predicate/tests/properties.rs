//! Property tests: the round trip, `evaluate` against `is_met`, no panics.

use proptest::prelude::{
    Just, Strategy, TestCaseError, prop, prop_assert, prop_assert_eq, prop_oneof, proptest,
};

use super::*;

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

/// The same text with whitespace (spaces, tabs, CR, LF) inserted around every token outside
/// strings: it must parse to the same predicate.
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
