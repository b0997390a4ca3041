//! Custom predicates: the seed's `is_month`, composition, parsing, equality, `Send + Sync`.

use std::sync::Arc;

use super::*;

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
