//! The text form of a predicate: what [`Parser`](super::Parser) reads back.

use std::fmt::{self, Write as _};

use super::{Predicate, PredicateKind};

/// The names of the built-in predicates in the text syntax.
pub(super) mod names {
    pub(in super::super) const NOT_ANONYMOUS: &str = "not_anonymous";
    pub(in super::super) const IS_ANONYMOUS: &str = "is_anonymous";
    pub(in super::super) const IS_USER: &str = "is_user";
    pub(in super::super) const IN_GROUP: &str = "in_group";
    pub(in super::super) const IN_ALL_GROUPS: &str = "in_all_groups";
    pub(in super::super) const IN_ANY_GROUP: &str = "in_any_group";
    pub(in super::super) const HAS_PERMISSION: &str = "has_permission";
    pub(in super::super) const HAS_ALL_PERMISSIONS: &str = "has_all_permissions";
    pub(in super::super) const HAS_ANY_PERMISSION: &str = "has_any_permission";
    pub(in super::super) const NOT: &str = "not";
    pub(in super::super) const ALL: &str = "all";
    pub(in super::super) const ANY: &str = "any";
    /// The keyword of the custom message.
    pub(in super::super) const MSG: &str = "msg";
}

/// Prints the [text syntax](super#text-syntax) on one line: `name(arg, arg, msg="...")`,
/// arguments separated by `", "`, strings quoted with `"` and `\` escaped.
impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, args) = match &self.kind {
            PredicateKind::NotAnonymous => (names::NOT_ANONYMOUS, Args::None),
            PredicateKind::IsAnonymous => (names::IS_ANONYMOUS, Args::None),
            PredicateKind::IsUser(u) => (names::IS_USER, Args::One(u)),
            PredicateKind::InGroup(g) => (names::IN_GROUP, Args::One(g)),
            PredicateKind::InAllGroups(gs) => (names::IN_ALL_GROUPS, Args::Strings(gs)),
            PredicateKind::InAnyGroup(gs) => (names::IN_ANY_GROUP, Args::Strings(gs)),
            PredicateKind::HasPermission(p) => (names::HAS_PERMISSION, Args::One(p)),
            PredicateKind::HasAllPermissions(ps) => (names::HAS_ALL_PERMISSIONS, Args::Strings(ps)),
            PredicateKind::HasAnyPermission(ps) => (names::HAS_ANY_PERMISSION, Args::Strings(ps)),
            PredicateKind::Not(p) => (names::NOT, Args::Predicates(std::slice::from_ref(p))),
            PredicateKind::All(ps) => (names::ALL, Args::Predicates(ps)),
            PredicateKind::Any(ps) => (names::ANY, Args::Predicates(ps)),
            PredicateKind::Custom(c) => {
                f.write_str(c.name())?;
                f.write_char('(')?;
                let args = c.arguments();
                let mut first = true;
                for a in &args {
                    separator(f, &mut first)?;
                    write_string(f, a)?;
                }
                return finish(f, self.message.as_deref(), first);
            }
        };
        f.write_str(name)?;
        f.write_char('(')?;
        let mut first = true;
        match args {
            Args::None => {}
            Args::One(s) => {
                first = false;
                write_string(f, s)?;
            }
            Args::Strings(ss) => {
                for s in ss {
                    separator(f, &mut first)?;
                    write_string(f, s)?;
                }
            }
            Args::Predicates(ps) => {
                for p in ps {
                    separator(f, &mut first)?;
                    fmt::Display::fmt(p, f)?;
                }
            }
        }
        finish(f, self.message.as_deref(), first)
    }
}

enum Args<'a> {
    None,
    One(&'a str),
    Strings(&'a [String]),
    Predicates(&'a [Predicate]),
}

fn separator(f: &mut fmt::Formatter<'_>, first: &mut bool) -> fmt::Result {
    if !std::mem::take(first) {
        f.write_str(", ")?;
    }
    Ok(())
}

fn finish(f: &mut fmt::Formatter<'_>, message: Option<&str>, mut first: bool) -> fmt::Result {
    if let Some(m) = message {
        separator(f, &mut first)?;
        f.write_str(names::MSG)?;
        f.write_char('=')?;
        write_string(f, m)?;
    }
    f.write_char(')')
}

/// Writes `s` as a quoted string: `"` and `\` are escaped, everything else is literal.
pub(super) fn write_string(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}
