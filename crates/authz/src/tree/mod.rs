//! A path-addressed resource tree with a compiled, allocation-free ACL check.
//!
//! Resources are addressed by path (`/`, `/blog`, `/blog/2024`). A path that was not declared
//! exists implicitly, without an ACL: a check on `/blog/2024/hello` walks `/blog/2024`, `/blog`
//! and `/`, exactly as Pyramid would walk a traversal tree. Build a tree in code with
//! [`ResourceTree::builder`] or load one from a policy file (`ResourceTree::from_toml_str`).
//!
//! ```
//! use portcullis_authz::{Acl, ResourceTree};
//!
//! let tree = ResourceTree::builder()
//!     .acl("/", Acl::new().allow("system.Everyone", "view").allow("group:editors", ["add", "edit"]).deny_all())
//!     .acl("/blog/2024", Acl::new().allow("bob", "edit"))
//!     .build()?;
//!
//! // The explained, convenient form:
//! let d = tree.decide("/blog/2024/hello", "edit", &["system.Everyone", "system.Authenticated", "bob"]);
//! assert!(d.allowed());
//! assert_eq!((d.acl_location(), d.ace_index()), (Some("/blog/2024"), Some(0)));
//!
//! // The fast form: resolve the context, the permission and the principals once, then check
//! // without allocating; explain only when needed.
//! let node = tree.locate("/blog/2024/hello");
//! let edit = tree.permission("edit");
//! let alice = tree.principal_set(&["system.Everyone", "system.Authenticated", "alice"]);
//! let check = tree.check(node, &edit, &alice);
//! assert!(!check.allowed());
//! assert_eq!(check.ace_index(), Some(2)); // DENY_ALL at the root
//! # Ok::<(), portcullis_authz::tree::TreeError>(())
//! ```

mod index;
mod path;
mod principal_set;

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::acl::Acl;
use crate::decision::{AceMatch, Decision, DefaultDeny};
use crate::resource::{Step, allowed_root_first, permits_steps};

pub use path::{PathError, canonical_path};
pub use principal_set::PrincipalSet;

use index::{ALLOW_BIT, FnvMap, Index};

static NEXT_TREE_ID: AtomicU64 = AtomicU64::new(1);

/// What a policy says about one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceSpec {
    /// The resource's ACL (`None`: no ACL, the resource is skipped during checks).
    pub acl: Option<Acl>,
    /// The permission a request at or below this path requires (used by the portal and the
    /// forward-auth endpoint; the nearest declaration up the path wins).
    pub permission: Option<String>,
    /// A predicate expression a request at or below this path must satisfy (same rule).
    pub require: Option<String>,
}

/// Why a tree could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TreeError {
    /// A path is not acceptable.
    Path(PathError),
    /// The same path was declared twice.
    Duplicate {
        /// The path, canonicalized.
        path: String,
    },
    /// The compiled index would exceed its 32-bit offsets.
    TooLarge,
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TreeError::Path(e) => e.fmt(f),
            TreeError::Duplicate { path } => write!(f, "resource `{path}` is declared twice"),
            TreeError::TooLarge => {
                f.write_str("the policy is too large to index (over 2^31 entries)")
            }
        }
    }
}

impl std::error::Error for TreeError {}

impl From<PathError> for TreeError {
    fn from(e: PathError) -> Self {
        TreeError::Path(e)
    }
}

/// Builds a [`ResourceTree`].
#[derive(Debug, Default)]
pub struct TreeBuilder {
    specs: Vec<(String, ResourceSpec)>,
}

impl TreeBuilder {
    /// Declares the ACL of the resource at `path`.
    #[must_use]
    pub fn acl(self, path: impl Into<String>, acl: Acl) -> TreeBuilder {
        self.resource(
            path,
            ResourceSpec {
                acl: Some(acl),
                ..ResourceSpec::default()
            },
        )
    }

    /// Declares the resource at `path`.
    #[must_use]
    pub fn resource(mut self, path: impl Into<String>, spec: ResourceSpec) -> TreeBuilder {
        self.specs.push((path.into(), spec));
        self
    }

    /// Validates the paths and compiles the index.
    pub fn build(self) -> Result<ResourceTree, TreeError> {
        let mut tree = ResourceTree {
            id: NEXT_TREE_ID.fetch_add(1, Ordering::Relaxed),
            nodes: vec![Node {
                name: String::new(),
                path: "/".to_owned(),
                parent: None,
                spec: ResourceSpec::default(),
                declared: false,
                children: FnvMap::default(),
            }],
            index: Index::default(),
        };
        for (path, spec) in self.specs {
            let segments = path::policy_segments(&path)?;
            let mut node = 0u32;
            for (depth, seg) in segments.iter().enumerate() {
                let existing = tree
                    .nodes
                    .get(node as usize)
                    .and_then(|n| n.children.get(*seg).copied());
                node = match existing {
                    Some(child) => child,
                    None => {
                        let id = tree.nodes.len() as u32;
                        tree.nodes.push(Node {
                            name: (*seg).to_owned(),
                            path: path::join(segments.get(..=depth).unwrap_or(&segments)),
                            parent: Some(node),
                            spec: ResourceSpec::default(),
                            declared: false,
                            children: FnvMap::default(),
                        });
                        if let Some(parent) = tree.nodes.get_mut(node as usize) {
                            parent.children.insert(Box::from(*seg), id);
                        }
                        id
                    }
                };
            }
            let Some(n) = tree.nodes.get_mut(node as usize) else {
                continue;
            };
            if n.declared {
                return Err(TreeError::Duplicate {
                    path: n.path.clone(),
                });
            }
            n.declared = true;
            n.spec = spec;
        }
        let acls: Vec<Option<&Acl>> = tree.nodes.iter().map(|n| n.spec.acl.as_ref()).collect();
        let parents: Vec<Option<u32>> = tree.nodes.iter().map(|n| n.parent).collect();
        tree.index = Index::build(&acls, &parents).map_err(|_| TreeError::TooLarge)?;
        Ok(tree)
    }
}

#[derive(Debug, Clone)]
struct Node {
    name: String,
    path: String,
    parent: Option<u32>,
    spec: ResourceSpec,
    declared: bool,
    children: FnvMap<Box<str>, u32>,
}

/// A resource tree addressed by paths, with its ACLs compiled for fast checks.
///
/// Immutable once built; share it behind an `Arc` and rebuild to change the policy.
#[derive(Debug)]
pub struct ResourceTree {
    id: u64,
    nodes: Vec<Node>,
    index: Index,
}

/// A node of one [`ResourceTree`] (the deepest declared resource on a path).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeId {
    tree: u64,
    index: u32,
}

impl NodeId {
    /// The node's position in its tree: dense, from 0 (the root) to `len() - 1`, in the order
    /// of [`ResourceTree::resources`]. Use it to keep per-node data in a `Vec`.
    pub fn index(&self) -> usize {
        self.index as usize
    }
}

/// A permission resolved against one [`ResourceTree`]: resolve once (at startup, per route),
/// check many times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Permission {
    tree: u64,
    column: u32,
}

/// The result of [`ResourceTree::check`]: small, `Copy`, allocation-free. Turn it into a full
/// [`Decision`] with [`ResourceTree::explain`] when a message is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Check {
    allowed: bool,
    /// Node whose ACL decided (`u32::MAX`: default deny, `u32::MAX - 1`: foreign handle).
    node: u32,
    ace: u32,
}

const DEFAULT_DENY: u32 = u32::MAX;
const FOREIGN: u32 = u32::MAX - 1;

impl Check {
    /// True when allowed.
    #[inline]
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// The deciding entry's index in its ACL (`None` for a default deny).
    pub fn ace_index(&self) -> Option<usize> {
        (self.node < FOREIGN).then_some((self.ace & !ALLOW_BIT) as usize)
    }

    /// True when a handle (node, permission or principal set) came from another tree: the
    /// check denies, as every error does.
    pub fn is_foreign_handle(&self) -> bool {
        self.node == FOREIGN
    }
}

impl ResourceTree {
    /// Starts building a tree.
    pub fn builder() -> TreeBuilder {
        TreeBuilder::default()
    }

    /// The node a request for `path` lands on: the deepest declared resource on the path
    /// (dot segments are resolved first, so `/public/../admin` lands under `/admin`).
    pub fn locate(&self, path: &str) -> NodeId {
        let mut node = 0u32;
        let mut descend = |seg: &str| match self
            .nodes
            .get(node as usize)
            .and_then(|n| n.children.get(seg))
        {
            Some(child) => {
                node = *child;
                true
            }
            None => false,
        };
        if path.starts_with('.') || path.contains("/.") {
            // Rare (a segment may start with a dot): resolve dot segments first (allocates).
            for seg in path::request_segments(path) {
                if !descend(seg) {
                    break;
                }
            }
        } else {
            // Common: walk the segments as they come, without allocating.
            for seg in path.split('/').filter(|s| !s.is_empty()) {
                if !descend(seg) {
                    break;
                }
            }
        }
        NodeId {
            tree: self.id,
            index: node,
        }
    }

    /// Resolves a permission name. Names no ACL mentions are valid: only `ALL_PERMISSIONS`
    /// entries cover them.
    pub fn permission(&self, name: &str) -> Permission {
        Permission {
            tree: self.id,
            column: self.index.permission_column(name),
        }
    }

    /// Compiles a request's effective principals for this tree.
    pub fn principal_set<S: AsRef<str>>(&self, principals: &[S]) -> PrincipalSet {
        self.principal_set_iter(principals.iter().map(AsRef::as_ref))
    }

    /// [`ResourceTree::principal_set`] from any iterator of principals.
    pub fn principal_set_iter<'a>(
        &self,
        principals: impl IntoIterator<Item = &'a str>,
    ) -> PrincipalSet {
        let mut bits = principal_set::Bits::with_capacity(self.index.principals.len());
        let mut len = 0;
        for p in principals {
            if let Some(id) = self.index.principals.get(p) {
                bits.insert(*id);
                len += 1;
            }
        }
        PrincipalSet {
            tree_id: self.id,
            bits,
            len,
        }
    }

    /// The compiled check: Pyramid's answer for (context, permission, principals) without
    /// allocating. Handles from another tree deny.
    #[inline]
    pub fn check(&self, node: NodeId, permission: &Permission, principals: &PrincipalSet) -> Check {
        if node.tree != self.id || permission.tree != self.id || principals.tree_id != self.id {
            return Check {
                allowed: false,
                node: FOREIGN,
                ace: 0,
            };
        }
        for e in self.index.list(node.index, permission.column) {
            if principals.bits.contains(e.principal) {
                return Check {
                    allowed: e.ace & ALLOW_BIT != 0,
                    node: e.node,
                    ace: e.ace,
                };
            }
        }
        Check {
            allowed: false,
            node: DEFAULT_DENY,
            ace: 0,
        }
    }

    /// Turns a [`Check`] into a full [`Decision`] (allocates: for messages and logs).
    pub fn explain<S: AsRef<str>>(
        &self,
        check: &Check,
        context: &str,
        permission: &str,
        principals: &[S],
    ) -> Decision {
        let names: Vec<String> = principals.iter().map(|p| p.as_ref().to_owned()).collect();
        let context = path::canonical_path(context);
        if check.node == FOREIGN {
            return Decision::default_deny(permission, context, names, DefaultDeny::NoAcl);
        }
        if check.node == DEFAULT_DENY {
            let start = self.locate(&context);
            let searched: Vec<String> = self
                .lineage(start)
                .filter(|n| n.spec.acl.is_some())
                .map(|n| n.path.clone())
                .collect();
            let why = if searched.is_empty() {
                DefaultDeny::NoAcl
            } else {
                DefaultDeny::NoMatch { searched }
            };
            return Decision::default_deny(permission, context, names, why);
        }
        let index = (check.ace & !ALLOW_BIT) as usize;
        let node = self.nodes.get(check.node as usize);
        match node.and_then(|n| Some((n, n.spec.acl.as_ref()?))) {
            Some((n, acl)) => match acl.entries().get(index) {
                Some(ace) => Decision::by_ace(
                    permission,
                    context,
                    names,
                    AceMatch {
                        ace: ace.clone(),
                        ace_index: index,
                        acl_location: n.path.clone(),
                        acl: acl.clone(),
                    },
                ),
                None => Decision::default_deny(permission, context, names, DefaultDeny::NoAcl),
            },
            None => Decision::default_deny(permission, context, names, DefaultDeny::NoAcl),
        }
    }

    /// Locates, checks and explains in one call.
    pub fn decide<S: AsRef<str>>(
        &self,
        path: &str,
        permission: &str,
        principals: &[S],
    ) -> Decision {
        let check = self.check(
            self.locate(path),
            &self.permission(permission),
            &self.principal_set(principals),
        );
        self.explain(&check, path, permission, principals)
    }

    /// The plain reference evaluator (Pyramid's walk over every ACE of every ancestor). Gives
    /// the same decisions as [`ResourceTree::decide`]; kept for property tests and as the
    /// readable statement of the rules.
    pub fn decide_by_walking<S: AsRef<str>>(
        &self,
        path: &str,
        permission: &str,
        principals: &[S],
    ) -> Decision {
        let steps = self.lineage(self.locate(path)).map(|n| Step {
            acl: n.spec.acl.as_ref().map(Cow::Borrowed),
            location: Cow::Borrowed(n.path.as_str()),
        });
        permits_steps(
            steps,
            false,
            path::canonical_path(path),
            principals,
            permission,
        )
    }

    /// Who holds `permission` at `path` (Pyramid's `principals_allowed_by_permission`).
    pub fn principals_allowed_by_permission(&self, path: &str, permission: &str) -> Vec<String> {
        let mut acls: Vec<Option<&Acl>> = self
            .lineage(self.locate(path))
            .map(|n| n.spec.acl.as_ref())
            .collect();
        acls.reverse();
        allowed_root_first(acls.into_iter(), permission)
    }

    /// The permission and predicate that apply at `path`: for each, the nearest declaration on
    /// the way up, with the path that declared it.
    pub fn requirements(&self, path: &str) -> Requirements<'_> {
        let mut req = Requirements::default();
        for n in self.lineage(self.locate(path)) {
            if req.permission.is_none() {
                req.permission = n.spec.permission.as_deref().map(|p| (p, n.path.as_str()));
            }
            if req.require.is_none() {
                req.require = n.spec.require.as_deref().map(|p| (p, n.path.as_str()));
            }
        }
        req
    }

    /// The name of a node within its parent (`""` for the root).
    pub fn name(&self, node: NodeId) -> &str {
        self.node(node).map_or("", |n| n.name.as_str())
    }

    /// The path of a node.
    pub fn path(&self, node: NodeId) -> &str {
        self.node(node).map_or("/", |n| n.path.as_str())
    }

    /// The ACL declared on a node, if any.
    pub fn acl(&self, node: NodeId) -> Option<&Acl> {
        self.node(node).and_then(|n| n.spec.acl.as_ref())
    }

    /// Every node with its path and spec, root first (implicit intermediate nodes included).
    pub fn resources(&self) -> impl Iterator<Item = (&str, &ResourceSpec)> {
        self.nodes.iter().map(|n| (n.path.as_str(), &n.spec))
    }

    /// Number of nodes (declared and implicit).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the tree has only its implicit root.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1 && !self.nodes.first().is_some_and(|n| n.declared)
    }

    /// Number of entries in the compiled index (its size, for capacity planning).
    pub fn index_entries(&self) -> usize {
        self.index.entries.len()
    }

    fn node(&self, node: NodeId) -> Option<&Node> {
        if node.tree != self.id {
            return None;
        }
        self.nodes.get(node.index as usize)
    }

    fn lineage(&self, start: NodeId) -> impl Iterator<Item = &Node> {
        let mut cur = self.node(start);
        std::iter::from_fn(move || {
            let n = cur?;
            cur = n.parent.and_then(|p| self.nodes.get(p as usize));
            Some(n)
        })
    }
}

/// What a path requires, from [`ResourceTree::requirements`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requirements<'a> {
    /// The nearest declared permission and the path that declared it.
    pub permission: Option<(&'a str, &'a str)>,
    /// The nearest declared predicate expression and the path that declared it.
    pub require: Option<(&'a str, &'a str)>,
}

/// Checks that `path` is acceptable as a policy path.
pub(crate) fn check_policy_path(path: &str) -> Result<(), PathError> {
    path::policy_segments(path).map(|_| ())
}
