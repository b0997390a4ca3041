//! The text syntax: printing, parsing, errors with positions, limits.

use super::*;

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

// Parsing.

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
