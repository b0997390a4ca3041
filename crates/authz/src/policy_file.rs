//! The TOML policy file.
//!
//! A policy is a list of `[[resource]]` tables. Each has a `path` and, optionally, an `acl`, a
//! `permission` and a `require`:
//!
//! ```toml
//! [[resource]]
//! path = "/"
//! acl = [["Allow", "system.Everyone", "view"],
//!        ["Allow", "group:editors", ["add", "edit"]],
//!        ["Deny", "system.Everyone", "ALL_PERMISSIONS"]]   # DENY_ALL
//!
//! [[resource]]
//! path = "/blog/2024"
//! acl = [["Allow", "bob", "edit"]]
//!
//! [[resource]]
//! path = "/admin"
//! permission = "admin"                  # what requests at or below /admin require
//! require = 'in_group("admins")'        # or a predicate they must satisfy
//! ```
//!
//! Rules:
//!
//! * `path` is absolute (`/`, `/blog/2024`); a trailing slash and doubled slashes are ignored;
//!   `.` and `..` segments are refused. Each path may be declared once.
//! * Paths that are not listed exist implicitly, without an ACL. An entry without `acl` has no
//!   ACL (checks skip it); `acl = []` is an empty ACL (it matches nothing, which is the same for
//!   checks, but it is a declaration).
//! * An ACE is `[ACTION, PRINCIPAL, PERMISSIONS]`: ACTION is `"Allow"` or `"Deny"` (exactly, as
//!   in Pyramid); PRINCIPAL a non-empty string; PERMISSIONS a permission name, a non-empty list
//!   of names, or `"ALL_PERMISSIONS"`. `["Deny", "system.Everyone", "ALL_PERMISSIONS"]` is
//!   `DENY_ALL`.
//! * `permission` and `require` are used by the portal and forward-auth endpoint: the nearest
//!   declaration at or above a request's path applies.
//! * Unknown keys are errors (a typo such as `alc` must not silently drop an ACL). Every error
//!   names the line and column.

use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use crate::ace::{ALL_PERMISSIONS, Ace, Action, Permissions};
use crate::acl::Acl;
use crate::tree::{ResourceSpec, ResourceTree, TreeError};

/// An error in a policy file, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFileError {
    /// The file's name, when known (see [`PolicyFileError::in_file`]).
    pub file: Option<String>,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl PolicyFileError {
    fn at(src: &str, offset: usize, message: impl Into<String>) -> PolicyFileError {
        let (line, column) = line_col(src, offset);
        PolicyFileError {
            file: None,
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }

    /// Attaches the file name, for messages.
    #[must_use]
    pub fn in_file(mut self, file: impl Into<String>) -> PolicyFileError {
        self.file = Some(file.into());
        self
    }
}

impl fmt::Display for PolicyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}:")?;
        }
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{l}:{c}: ")?,
            (Some(l), None) => write!(f, "{l}: ")?,
            _ if self.file.is_some() => f.write_str(" ")?,
            _ => {}
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyFileError {}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = src.get(..offset.min(src.len())).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    resource: Vec<Spanned<RawResource>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResource {
    path: Spanned<String>,
    acl: Option<Vec<Spanned<RawAce>>>,
    permission: Option<Spanned<String>>,
    require: Option<Spanned<String>>,
}

#[derive(Deserialize)]
struct RawAce(Spanned<String>, Spanned<String>, Spanned<RawPermissions>);

#[derive(Deserialize)]
#[serde(untagged)]
enum RawPermissions {
    One(String),
    Many(Vec<String>),
}

/// Parses a policy file's text.
pub fn parse(src: &str) -> Result<Vec<(String, ResourceSpec)>, PolicyFileError> {
    let raw: RawPolicy = toml::from_str(src).map_err(|e| {
        let msg = e.message().to_owned();
        match e.span() {
            Some(span) => PolicyFileError::at(src, span.start, msg),
            None => PolicyFileError {
                file: None,
                line: None,
                column: None,
                message: msg,
            },
        }
    })?;
    let mut out = Vec::with_capacity(raw.resource.len());
    for res in raw.resource {
        let res_start = res.span().start;
        let res = res.into_inner();
        let path = res.path.get_ref().clone();
        crate::tree::check_policy_path(&path)
            .map_err(|e| PolicyFileError::at(src, res.path.span().start, e.to_string()))?;
        let acl = match res.acl {
            None => None,
            Some(entries) => {
                let mut acl = Acl::new();
                for entry in entries {
                    acl.push(convert_ace(src, entry.into_inner())?);
                }
                Some(acl)
            }
        };
        let non_empty =
            |v: Option<Spanned<String>>, what: &str| -> Result<Option<String>, PolicyFileError> {
                match v {
                    Some(s) if s.get_ref().trim().is_empty() => Err(PolicyFileError::at(
                        src,
                        s.span().start,
                        format!("`{what}` must not be empty"),
                    )),
                    Some(s) => Ok(Some(s.into_inner())),
                    None => Ok(None),
                }
            };
        let permission = non_empty(res.permission, "permission")?;
        let require = non_empty(res.require, "require")?;
        let _ = res_start;
        out.push((
            path,
            ResourceSpec {
                acl,
                permission,
                require,
            },
        ));
    }
    Ok(out)
}

fn convert_ace(src: &str, raw: RawAce) -> Result<Ace, PolicyFileError> {
    let RawAce(action, principal, perms) = raw;
    let action = match action.get_ref().as_str() {
        "Allow" => Action::Allow,
        "Deny" => Action::Deny,
        other => {
            return Err(PolicyFileError::at(
                src,
                action.span().start,
                format!("unknown ACE action `{other}`: expected `Allow` or `Deny`"),
            ));
        }
    };
    if principal.get_ref().is_empty() {
        return Err(PolicyFileError::at(
            src,
            principal.span().start,
            "an ACE principal must not be empty",
        ));
    }
    let perm_at = perms.span().start;
    let permissions = match perms.into_inner() {
        RawPermissions::One(p) if p.is_empty() => {
            return Err(PolicyFileError::at(
                src,
                perm_at,
                "a permission name must not be empty",
            ));
        }
        RawPermissions::One(p) => Permissions::from(p),
        RawPermissions::Many(ps) => {
            if ps.is_empty() {
                return Err(PolicyFileError::at(
                    src,
                    perm_at,
                    "an empty permission list grants or denies nothing",
                ));
            }
            if ps.iter().any(|p| p == ALL_PERMISSIONS) {
                return Err(PolicyFileError::at(
                    src,
                    perm_at,
                    "write `ALL_PERMISSIONS` alone, not inside a list",
                ));
            }
            if ps.iter().any(String::is_empty) {
                return Err(PolicyFileError::at(
                    src,
                    perm_at,
                    "a permission name must not be empty",
                ));
            }
            Permissions::Many(ps)
        }
    };
    Ok(Ace {
        action,
        principal: principal.into_inner(),
        permissions,
    })
}

impl ResourceTree {
    /// Builds a tree from a policy file's text (see [`crate::policy_file`]).
    pub fn from_toml_str(src: &str) -> Result<ResourceTree, PolicyFileError> {
        let specs = parse(src)?;
        let mut builder = ResourceTree::builder();
        for (path, spec) in specs {
            builder = builder.resource(path, spec);
        }
        builder.build().map_err(|e| {
            let line = match &e {
                TreeError::Duplicate { path } => find_path_line(src, path),
                _ => None,
            };
            PolicyFileError {
                file: None,
                line,
                column: None,
                message: e.to_string(),
            }
        })
    }
}

/// The line of the last `path = "..."` declaring `path` (for duplicate-path messages).
fn find_path_line(src: &str, path: &str) -> Option<usize> {
    let canonical = crate::tree::canonical_path(path);
    src.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim();
            l.starts_with("path")
                && l.split_once('=').is_some_and(|(_, v)| {
                    crate::tree::canonical_path(v.trim().trim_matches(|c| c == '"' || c == '\''))
                        == canonical
                })
        })
        .map(|(i, _)| i + 1)
        .last()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_example() {
        let tree = ResourceTree::from_toml_str(
            r#"
[[resource]]
path = "/"
acl = [["Allow", "system.Everyone", "view"],
       ["Allow", "group:editors", ["add", "edit"]],
       ["Deny", "system.Everyone", "ALL_PERMISSIONS"]]   # DENY_ALL
[[resource]]
path = "/blog/2024"
acl = [["Allow", "bob", "edit"]]
"#,
        )
        .unwrap();
        assert!(
            tree.decide("/blog/2024", "edit", &["system.Everyone", "bob"])
                .allowed()
        );
        assert!(
            !tree
                .decide("/blog", "edit", &["system.Everyone", "bob"])
                .allowed()
        );
        assert!(
            tree.decide("/x/y", "add", &["system.Everyone", "group:editors"])
                .allowed()
        );
        assert!(tree.decide("/x/y", "view", &["system.Everyone"]).allowed());
        let root = tree.locate("/");
        assert!(tree.acl(root).unwrap().has_deny_all());
    }

    #[test]
    fn no_acl_versus_empty_acl() {
        let tree = ResourceTree::from_toml_str(
            "[[resource]]\npath = \"/a\"\n[[resource]]\npath = \"/b\"\nacl = []\n",
        )
        .unwrap();
        assert!(tree.acl(tree.locate("/a")).is_none());
        assert_eq!(tree.acl(tree.locate("/b")).map(Acl::len), Some(0));
    }

    #[test]
    fn errors_have_positions() {
        let e = ResourceTree::from_toml_str(
            "[[resource]]\npath = \"/\"\nacl = [[\"Alow\", \"bob\", \"view\"]]\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(9)));
        assert!(e.message.contains("`Alow`"), "{e}");

        let e = ResourceTree::from_toml_str("[[resource]]\npath = \"/\"\nalc = []\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("alc"), "{e}");

        let e = ResourceTree::from_toml_str("[[resource]]\npath = \"relative\"\n").unwrap_err();
        assert_eq!(e.line, Some(2));

        let e = ResourceTree::from_toml_str(
            "[[resource]]\npath = \"/\"\nacl = [[\"Allow\", \"bob\"]]\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3));

        let e = ResourceTree::from_toml_str(
            "[[resource]]\npath = \"/a\"\n[[resource]]\npath = \"/a/\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(e.message.contains("declared twice"));

        let e = ResourceTree::from_toml_str(
            "[[resource]]\npath = \"/\"\nacl = [[\"Allow\", \"bob\", []]]\n",
        )
        .unwrap_err();
        assert!(e.message.contains("empty permission list"));
        assert_eq!(
            e.in_file("p.toml").to_string(),
            "p.toml:3:25: an empty permission list grants or denies nothing"
        );
    }
}
