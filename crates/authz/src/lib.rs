//! # portcullis-authz
//!
//! The pure core of Portcullis: Pyramid's ACL authorization and TurboGears' predicates, with
//! decisions that explain themselves and a compiled evaluator fast enough to run on every
//! request without a second thought. No I/O, no async, no web or database dependency.
//!
//! ## The model, in Pyramid's words
//!
//! * A **principal** is a string naming who a request speaks for: a user id (`"bob"`), a group
//!   (`"group:editors"`, `"g:admin"`), or one of the system principals [`EVERYONE`] and
//!   [`AUTHENTICATED`]. See [`principal`].
//! * An **ACE** is `(Allow | Deny, principal, permissions)`; permissions are one name, several,
//!   or [`ALL_PERMISSIONS`]. [`Ace::deny_all`] is Pyramid's `DENY_ALL`.
//! * An **ACL** is an ordered list of ACEs; the first ACE whose principal is among the request's
//!   principals and whose permissions include the requested one decides.
//! * **Resources** form a tree. A check walks from the context resource up to the root; a
//!   resource without an ACL is skipped; if no ACE matches anywhere, the answer is deny.
//!   Applications implement [`Resource`] for their own objects (dynamic, per-instance ACLs are
//!   a `Cow::Owned` away), or use the path-addressed [`ResourceTree`], built in code or loaded
//!   from a TOML policy file (see [`policy_file`]).
//! * Every answer is a [`Decision`] that names the deciding ACE, its index, the resource whose
//!   ACL held it, and renders a message in the form of Pyramid's `ACLAllowed`/`ACLDenied`.
//!
//! ```
//! use portcullis_authz::{Acl, ResourceTree, EVERYONE, AUTHENTICATED};
//!
//! let tree = ResourceTree::from_toml_str(r#"
//!     [[resource]]
//!     path = "/"
//!     acl = [["Allow", "system.Everyone", "view"],
//!            ["Allow", "group:editors", ["add", "edit"]],
//!            ["Deny", "system.Everyone", "ALL_PERMISSIONS"]]
//!     [[resource]]
//!     path = "/blog/2024"
//!     acl = [["Allow", "bob", "edit"]]
//! "#)?;
//!
//! let bob = [EVERYONE, AUTHENTICATED, "bob"];
//! let d = tree.decide("/blog/2024/first-post", "edit", &bob);
//! assert!(d.allowed());
//! assert_eq!(d.acl_location(), Some("/blog/2024"));
//! assert_eq!(d.ace_index(), Some(0));
//!
//! let d = tree.decide("/blog", "edit", &bob);
//! assert!(!d.allowed());
//! assert_eq!(d.ace().unwrap().to_string(), "('Deny', 'system.Everyone', ALL_PERMISSIONS)");
//! println!("{}", d.message());
//! # Ok::<(), portcullis_authz::policy_file::PolicyFileError>(())
//! ```
//!
//! ## Design decisions
//!
//! * **Principals are strings**, as in Pyramid, so existing ACLs carry over verbatim. Speed
//!   comes from interning them once, when a [`ResourceTree`] is built, not from a richer type.
//! * **Two evaluators, one meaning.** [`permits`] (and [`ResourceTree::decide_by_walking`]) is
//!   the plain walk, written to read like Pyramid's `ACLHelper.permits`. [`ResourceTree::check`]
//!   answers from a compiled index (per node and permission, the flattened, de-duplicated list
//!   of entries that can still decide), in a few nanoseconds and without allocating. Property
//!   tests check that both always agree.
//! * **Decisions are values, never errors.** A check cannot fail; anything unexpected (a parent
//!   cycle, a handle from another tree) denies and says why.
//! * **Explanations are lazy.** [`Check`](tree::Check) is a small `Copy` value;
//!   [`ResourceTree::explain`] builds the full [`Decision`] only for logs and error pages.
//!
//! ## Modules
//!
//! | module | what |
//! |---|---|
//! | [`principal`] | system principals, effective principals |
//! | [`ace`], [`acl`] | entries and lists |
//! | [`resource`] | the [`Resource`] trait, the reference evaluator, `principals_allowed_by_permission` |
//! | [`tree`] | [`ResourceTree`]: path-addressed resources, the compiled check |
//! | [`decision`] | explained answers |
//! | [`lint`] | entries that can never take effect, duplicates, unused grants |
//! | [`policy_file`] | the TOML policy format |
//! | [`identity`], [`predicate`] | TurboGears-style predicates over a user's id, groups and permissions |
//! | [`tag`] | hierarchical tags (`teacher/high-school/physics`) |
//!
//! ## Feature flags
//!
//! | name | description | default |
//! |---|---|---|
//! | `policy-file` | load trees from TOML policy files (adds `serde`, `toml`) | yes |
#![forbid(unsafe_code)]

pub mod ace;
pub mod acl;
pub mod decision;
pub mod identity;
pub mod lint;
#[cfg(feature = "policy-file")]
pub mod policy_file;
pub mod predicate;
pub mod principal;
pub mod resource;
pub mod tag;
pub mod tree;

pub use ace::{ALL_PERMISSIONS, Ace, Action, Permissions};
pub use acl::Acl;
pub use decision::{AceMatch, Decision, DefaultDeny};
pub use principal::{AUTHENTICATED, EVERYONE};
pub use resource::{Resource, permits, principals_allowed_by_permission};
pub use tree::ResourceTree;
