//! The parser of the [text syntax](super#text-syntax).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::display::names;
use super::error::{ParseError, ParseErrorKind};
use super::{CustomPredicate, Predicate, PredicateKind};

/// The longest expression accepted, in bytes.
pub const MAX_EXPRESSION_LEN: usize = 64 * 1024;

/// The deepest nesting accepted: `not(not(…))` with `MAX_DEPTH` calls in all parses, one more
/// does not.
pub const MAX_DEPTH: usize = 64;

/// Builds a custom predicate from its string arguments, or explains why they are invalid.
type Factory = dyn Fn(&[String]) -> Result<Arc<dyn CustomPredicate>, String> + Send + Sync;

/// Parses predicates from text, optionally with custom predicates.
///
/// [`Predicate::from_str`](std::str::FromStr) is `Parser::new().parse(…)`: the built-ins
/// only. Register custom predicates with [`Parser::custom`].
#[derive(Clone, Default)]
pub struct Parser {
    custom: BTreeMap<String, Arc<Factory>>,
}

impl fmt::Debug for Parser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parser")
            .field("custom", &self.custom.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Parser {
    /// A parser of the built-in predicates.
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Makes `name(string, …)` parse into a custom predicate built by `factory` from the
    /// string arguments (any number, zero included). When `factory` returns `Err(reason)`,
    /// parsing fails with [`ParseErrorKind::InvalidArguments`].
    ///
    /// Built-in names and `msg` cannot be overridden: registering them has no effect.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use portcullis_authz::identity::Identity;
    /// use portcullis_authz::predicate::{CustomPredicate, Parser};
    ///
    /// #[derive(Debug)]
    /// struct UserPrefix(String);
    ///
    /// impl CustomPredicate for UserPrefix {
    ///     fn name(&self) -> &str { "user_prefix" }
    ///     fn arguments(&self) -> Vec<String> { vec![self.0.clone()] }
    ///     fn message(&self) -> &str { "The user name must start with {prefix}" }
    ///     fn placeholder(&self, name: &str) -> Option<String> {
    ///         (name == "prefix").then(|| self.0.clone())
    ///     }
    ///     fn is_met(&self, identity: &Identity) -> bool {
    ///         identity.user_id().is_some_and(|u| u.starts_with(&self.0))
    ///     }
    /// }
    ///
    /// let parser = Parser::new().custom("user_prefix", |args| match args {
    ///     [prefix] => Ok(Arc::new(UserPrefix(prefix.clone())) as Arc<dyn CustomPredicate>),
    ///     _ => Err(format!("takes one string, found {}", args.len())),
    /// });
    /// let p = parser.parse(r#"any(is_user("root"), user_prefix("adm-"))"#)?;
    /// assert!(p.is_met(&Identity::user("adm-alice")));
    /// assert_eq!(parser.parse(&p.to_string())?, p);
    ///
    /// let err = parser.parse(r#"user_prefix("a", "b")"#).unwrap_err();
    /// assert_eq!(err.to_string(), "invalid arguments of `user_prefix` at 1:1: takes one string, found 2 (byte 0)");
    /// # Ok::<(), portcullis_authz::predicate::ParseError>(())
    /// ```
    #[must_use]
    pub fn custom<F>(mut self, name: impl Into<String>, factory: F) -> Parser
    where
        F: Fn(&[String]) -> Result<Arc<dyn CustomPredicate>, String> + Send + Sync + 'static,
    {
        self.custom.insert(name.into(), Arc::new(factory));
        self
    }

    /// Parses one predicate; only whitespace may surround it.
    ///
    /// ```
    /// use portcullis_authz::predicate::{Parser, all, any, has_permission, in_group, is_user, not};
    ///
    /// let p = Parser::new().parse(r#"
    ///     all(has_permission("release"),
    ///         any(in_group("qa"), not(is_user("bob"))),
    ///         msg="Only QA may release")
    /// "#)?;
    /// assert_eq!(
    ///     p,
    ///     all([has_permission("release"), any([in_group("qa"), not(is_user("bob"))])])
    ///         .with_message("Only QA may release")
    /// );
    /// # Ok::<(), portcullis_authz::predicate::ParseError>(())
    /// ```
    pub fn parse(&self, text: &str) -> Result<Predicate, ParseError> {
        let mut cursor = Cursor {
            text,
            pos: 0,
            parser: self,
        };
        if text.len() > MAX_EXPRESSION_LEN {
            return Err(cursor.error(
                0,
                ParseErrorKind::TooLong {
                    len: text.len(),
                    max: MAX_EXPRESSION_LEN,
                },
            ));
        }
        cursor.skip_whitespace();
        let predicate = cursor.predicate(1)?;
        cursor.skip_whitespace();
        if cursor.pos < text.len() {
            return Err(cursor.expected("end of input"));
        }
        Ok(predicate)
    }
}

/// The arguments a predicate takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arity {
    None,
    OneString,
    ManyStrings,
    OnePredicate,
    ManyPredicates,
    /// Custom predicates: zero or more strings.
    AnyStrings,
}

impl Arity {
    fn takes_predicates(self) -> bool {
        matches!(self, Arity::OnePredicate | Arity::ManyPredicates)
    }

    fn min(self) -> usize {
        match self {
            Arity::None | Arity::AnyStrings => 0,
            _ => 1,
        }
    }

    /// The largest number of arguments, with what to say when exceeded.
    fn max(self) -> Option<(usize, &'static str)> {
        match self {
            Arity::None => Some((0, "no arguments")),
            Arity::OneString => Some((1, "exactly one string")),
            Arity::OnePredicate => Some((1, "exactly one predicate")),
            Arity::ManyStrings | Arity::ManyPredicates | Arity::AnyStrings => None,
        }
    }

    fn argument(self) -> &'static str {
        if self.takes_predicates() {
            "a predicate"
        } else {
            "a string"
        }
    }
}

enum Callee<'p> {
    Builtin(Builtin),
    Custom(&'p Factory),
}

/// The built-in predicates of the text syntax.
#[derive(Clone, Copy)]
enum Builtin {
    NotAnonymous,
    IsAnonymous,
    IsUser,
    InGroup,
    InAllGroups,
    InAnyGroup,
    HasPermission,
    HasAllPermissions,
    HasAnyPermission,
    Not,
    All,
    Any,
}

impl Builtin {
    const ALL: [Builtin; 12] = [
        Builtin::NotAnonymous,
        Builtin::IsAnonymous,
        Builtin::IsUser,
        Builtin::InGroup,
        Builtin::InAllGroups,
        Builtin::InAnyGroup,
        Builtin::HasPermission,
        Builtin::HasAllPermissions,
        Builtin::HasAnyPermission,
        Builtin::Not,
        Builtin::All,
        Builtin::Any,
    ];

    fn find(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    fn name(self) -> &'static str {
        match self {
            Builtin::NotAnonymous => names::NOT_ANONYMOUS,
            Builtin::IsAnonymous => names::IS_ANONYMOUS,
            Builtin::IsUser => names::IS_USER,
            Builtin::InGroup => names::IN_GROUP,
            Builtin::InAllGroups => names::IN_ALL_GROUPS,
            Builtin::InAnyGroup => names::IN_ANY_GROUP,
            Builtin::HasPermission => names::HAS_PERMISSION,
            Builtin::HasAllPermissions => names::HAS_ALL_PERMISSIONS,
            Builtin::HasAnyPermission => names::HAS_ANY_PERMISSION,
            Builtin::Not => names::NOT,
            Builtin::All => names::ALL,
            Builtin::Any => names::ANY,
        }
    }

    fn arity(self) -> Arity {
        match self {
            Builtin::NotAnonymous | Builtin::IsAnonymous => Arity::None,
            Builtin::IsUser | Builtin::InGroup | Builtin::HasPermission => Arity::OneString,
            Builtin::InAllGroups
            | Builtin::InAnyGroup
            | Builtin::HasAllPermissions
            | Builtin::HasAnyPermission => Arity::ManyStrings,
            Builtin::Not => Arity::OnePredicate,
            Builtin::All | Builtin::Any => Arity::ManyPredicates,
        }
    }

    /// The predicate of arguments already checked against the arity (`None` if they do
    /// not fit after all).
    fn build(self, strings: Vec<String>, predicates: Vec<Predicate>) -> Option<PredicateKind> {
        let one = |strings: Vec<String>| strings.into_iter().next();
        Some(match self {
            Builtin::NotAnonymous => PredicateKind::NotAnonymous,
            Builtin::IsAnonymous => PredicateKind::IsAnonymous,
            Builtin::IsUser => PredicateKind::IsUser(one(strings)?),
            Builtin::InGroup => PredicateKind::InGroup(one(strings)?),
            Builtin::InAllGroups => PredicateKind::InAllGroups(strings),
            Builtin::InAnyGroup => PredicateKind::InAnyGroup(strings),
            Builtin::HasPermission => PredicateKind::HasPermission(one(strings)?),
            Builtin::HasAllPermissions => PredicateKind::HasAllPermissions(strings),
            Builtin::HasAnyPermission => PredicateKind::HasAnyPermission(strings),
            Builtin::Not => PredicateKind::Not(Box::new(predicates.into_iter().next()?)),
            Builtin::All => PredicateKind::All(predicates),
            Builtin::Any => PredicateKind::Any(predicates),
        })
    }
}

struct Cursor<'t, 'p> {
    text: &'t str,
    /// A byte offset on a character boundary.
    pos: usize,
    parser: &'p Parser,
}

impl<'t, 'p> Cursor<'t, 'p> {
    fn rest(&self) -> &'t str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self, c: char) {
        self.pos += c.len_utf8();
    }

    fn skip_whitespace(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.bump(c);
        }
    }

    /// The identifier at the cursor (possibly empty), without consuming it.
    fn peek_ident(&self) -> &'t str {
        let rest = self.rest();
        let starts = rest
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !starts {
            return "";
        }
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        rest.get(..len).unwrap_or_default()
    }

    /// Consumes `c` or fails with "expected `c`".
    fn eat(&mut self, c: char) -> Result<(), ParseError> {
        if self.peek() == Some(c) {
            self.bump(c);
            Ok(())
        } else {
            Err(self.expected(&format!("`{c}`")))
        }
    }

    fn found(&self) -> String {
        let ident = self.peek_ident();
        if !ident.is_empty() {
            return match ident.char_indices().nth(32) {
                Some((cut, _)) => format!("`{}…`", ident.get(..cut).unwrap_or_default()),
                None => format!("`{ident}`"),
            };
        }
        match self.peek() {
            Some(c) if c.is_control() => format!("`{}`", c.escape_debug()),
            Some(c) => format!("`{c}`"),
            None => "end of input".to_owned(),
        }
    }

    fn expected(&self, expected: &str) -> ParseError {
        self.error(
            self.pos,
            ParseErrorKind::Expected {
                expected: expected.to_owned(),
                found: self.found(),
            },
        )
    }

    fn error(&self, offset: usize, kind: ParseErrorKind) -> ParseError {
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
        ParseError::new(offset, line, column, kind)
    }

    /// `name ( arguments )`, at nesting level `depth` (1 for the outermost call).
    fn predicate(&mut self, depth: usize) -> Result<Predicate, ParseError> {
        let start = self.pos;
        if depth > MAX_DEPTH {
            return Err(self.error(start, ParseErrorKind::TooDeep { max: MAX_DEPTH }));
        }
        let name = self.peek_ident();
        if name.is_empty() {
            return Err(self.expected("a predicate"));
        }
        let callee = match Builtin::find(name) {
            Some(b) => Callee::Builtin(b),
            None => match self.parser.custom.get(name) {
                Some(factory) if name != names::MSG => Callee::Custom(factory.as_ref()),
                _ => {
                    let name = name.to_owned();
                    return Err(self.error(start, ParseErrorKind::UnknownPredicate { name }));
                }
            },
        };
        self.pos += name.len();
        self.skip_whitespace();
        self.eat('(')?;
        let arity = match callee {
            Callee::Builtin(b) => b.arity(),
            Callee::Custom(_) => Arity::AnyStrings,
        };
        let mut strings = Vec::new();
        let mut predicates = Vec::new();
        let mut message = None;
        self.skip_whitespace();
        if self.peek() == Some(')') {
            if arity.min() > 0 {
                return Err(self.expected(arity.argument()));
            }
            self.bump(')');
        } else {
            loop {
                let count = strings.len() + predicates.len();
                if self.peek_ident() == names::MSG {
                    if count < arity.min() {
                        return Err(self.expected(arity.argument()));
                    }
                    self.pos += names::MSG.len();
                    self.skip_whitespace();
                    self.eat('=')?;
                    self.skip_whitespace();
                    message = Some(self.string()?);
                    self.skip_whitespace();
                    self.eat(')')?;
                    break;
                }
                if let Some((max, takes)) = arity.max() {
                    let at_argument = self.peek() == Some('"') || !self.peek_ident().is_empty();
                    if count >= max && !at_argument {
                        return Err(self.expected(if count == 0 {
                            "`)` or `msg=`"
                        } else {
                            "`msg=`"
                        }));
                    }
                    if count >= max {
                        let name = name.to_owned();
                        let kind = ParseErrorKind::TooManyArguments { name, takes };
                        return Err(self.error(self.pos, kind));
                    }
                }
                if arity.takes_predicates() {
                    if self.peek_ident().is_empty() {
                        return Err(self.expected(arity.argument()));
                    }
                    predicates.push(self.predicate(depth + 1)?);
                } else {
                    strings.push(self.string()?);
                }
                self.skip_whitespace();
                match self.peek() {
                    Some(',') => {
                        self.bump(',');
                        self.skip_whitespace();
                    }
                    Some(')') => {
                        self.bump(')');
                        break;
                    }
                    _ => return Err(self.expected("`,` or `)`")),
                }
            }
        }
        let kind = match callee {
            Callee::Custom(factory) => match factory(&strings) {
                Ok(custom) => PredicateKind::Custom(custom),
                Err(reason) => {
                    let name = name.to_owned();
                    let kind = ParseErrorKind::InvalidArguments { name, reason };
                    return Err(self.error(start, kind));
                }
            },
            Callee::Builtin(b) => match b.build(strings, predicates) {
                Some(kind) => kind,
                None => {
                    return Err(self.error(
                        start,
                        ParseErrorKind::Expected {
                            expected: arity.argument().to_owned(),
                            found: "too few arguments".to_owned(),
                        },
                    ));
                }
            },
        };
        Ok(Predicate { kind, message })
    }

    /// A quoted string, with `\"` and `\\` unescaped.
    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        if self.peek() != Some('"') {
            return Err(self.expected("a string"));
        }
        self.bump('"');
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error(start, ParseErrorKind::UnterminatedString)),
                Some('"') => {
                    self.bump('"');
                    return Ok(value);
                }
                Some('\\') => {
                    let backslash = self.pos;
                    self.bump('\\');
                    match self.peek() {
                        Some(c @ ('"' | '\\')) => {
                            self.bump(c);
                            value.push(c);
                        }
                        Some(escape) => {
                            let kind = ParseErrorKind::InvalidEscape { escape };
                            return Err(self.error(backslash, kind));
                        }
                        None => return Err(self.error(start, ParseErrorKind::UnterminatedString)),
                    }
                }
                Some(c) => {
                    self.bump(c);
                    value.push(c);
                }
            }
        }
    }
}
