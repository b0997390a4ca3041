//! The [`Authorizer`]: one request's path from credentials to a decision.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::response::Response;
use http::request::Parts;
use http::{HeaderName, HeaderValue};
use portcullis_authz::predicate::Predicate;
use portcullis_authz::tree::{ResourceSpec, canonical_path};
use portcullis_authz::{Decision, Resource, ResourceTree};

use crate::denial::{self, Denial, DenialKind, DenialView};
use crate::groupfinder::Groupfinder;
use crate::identity::RequestIdentity;
use crate::policy::{PolicyError, SecurityPolicy};

/// The permission value that makes a path public, overriding the default permission
/// (Pyramid's `NO_PERMISSION_REQUIRED`). Usable in code and in policy files
/// (`permission = "NO_PERMISSION_REQUIRED"`).
pub const NO_PERMISSION_REQUIRED: &str = "NO_PERMISSION_REQUIRED";

/// Environment variable that turns on debug-authorization logging (`1`, `true`, `yes`, `on`).
pub const DEBUG_AUTHORIZATION_ENV: &str = "PORTCULLIS_DEBUG_AUTHORIZATION";

/// Why an [`Authorizer`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The policy file is invalid.
    #[error(transparent)]
    PolicyFile(#[from] portcullis_authz::policy_file::PolicyFileError),
    /// The resource tree is invalid.
    #[error(transparent)]
    Tree(#[from] portcullis_authz::tree::TreeError),
    /// A `require` expression does not parse.
    #[error("predicate at `{path}`: {error}")]
    Predicate {
        /// Where it was declared.
        path: String,
        /// The parse error.
        error: portcullis_authz::predicate::ParseError,
    },
}

/// Security policy + groupfinder + resource tree + requirements + denial views: everything the
/// [`crate::AuthLayer`], the guards and the extractors need. Cheap to clone.
///
/// Requirements are declared by path (in code or in the policy file): the nearest declaration
/// at or above a request's path applies, else the default permission. Route-level guards
/// ([`Authorizer::permission`], [`Authorizer::require`]) add checks on top; to *loosen* a path
/// (make it public) declare it here, so that a forgotten declaration fails closed.
#[derive(Clone)]
pub struct Authorizer {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) policy: Arc<dyn SecurityPolicy>,
    pub(crate) groupfinder: Arc<dyn Groupfinder>,
    pub(crate) tree: Arc<ResourceTree>,
    /// What each node of the tree requires, resolved at build time (index: `NodeId::index`).
    node_requirements: Vec<NodeRequirement>,
    default_permission: Option<String>,
    login_url: String,
    forbidden_view: Option<DenialView>,
    unauthenticated_view: Option<DenialView>,
    pub(crate) debug: bool,
}

/// The requirement of one node: the nearest declared (or default) permission, resolved, and
/// the nearest declared predicate.
struct NodeRequirement {
    permission: Option<(String, portcullis_authz::tree::Permission)>,
    predicate: Option<Predicate>,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer")
            .field("policy", &self.inner.policy.name())
            .field("default_permission", &self.inner.default_permission)
            .field("login_url", &self.inner.login_url)
            .field("debug", &self.inner.debug)
            .finish_non_exhaustive()
    }
}

/// Builds an [`Authorizer`].
pub struct AuthorizerBuilder {
    policy: Arc<dyn SecurityPolicy>,
    groupfinder: Arc<dyn Groupfinder>,
    specs: BTreeMap<String, ResourceSpec>,
    code_predicates: HashMap<String, Predicate>,
    policy_src: Option<String>,
    default_permission: Option<String>,
    login_url: String,
    forbidden_view: Option<DenialView>,
    unauthenticated_view: Option<DenialView>,
    debug: bool,
}

impl std::fmt::Debug for AuthorizerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizerBuilder").finish_non_exhaustive()
    }
}

fn env_flag(name: &str) -> bool {
    std::env::var(name)
        .is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
}

impl AuthorizerBuilder {
    /// Loads resources (ACLs, `permission`, `require`) from a policy file's text; code
    /// declarations made on the builder override the file's `permission`/`require` per path.
    #[must_use]
    pub fn policy_toml(mut self, src: impl Into<String>) -> AuthorizerBuilder {
        self.policy_src = Some(src.into());
        self
    }

    /// Declares the ACL of a resource path.
    #[must_use]
    pub fn acl(mut self, path: &str, acl: portcullis_authz::Acl) -> AuthorizerBuilder {
        self.specs.entry(canonical_path(path)).or_default().acl = Some(acl);
        self
    }

    /// The permission required where no path declares one (Pyramid's default permission).
    /// Without it, undeclared paths require nothing.
    #[must_use]
    pub fn default_permission(mut self, permission: impl Into<String>) -> AuthorizerBuilder {
        self.default_permission = Some(permission.into());
        self
    }

    /// Requests at or below `path` require `permission` on their context.
    #[must_use]
    pub fn permission_at(mut self, path: &str, permission: impl Into<String>) -> AuthorizerBuilder {
        self.specs
            .entry(canonical_path(path))
            .or_default()
            .permission = Some(permission.into());
        self
    }

    /// Requests at or below `path` require nothing ([`NO_PERMISSION_REQUIRED`]).
    #[must_use]
    pub fn public(self, path: &str) -> AuthorizerBuilder {
        self.permission_at(path, NO_PERMISSION_REQUIRED)
    }

    /// Requests at or below `path` must satisfy `predicate` (TurboGears' `allow_only`).
    #[must_use]
    pub fn require_at(mut self, path: &str, predicate: Predicate) -> AuthorizerBuilder {
        let path = canonical_path(path);
        self.specs.entry(path.clone()).or_default().require = Some(predicate.to_string());
        self.code_predicates.insert(path, predicate);
        self
    }

    /// Where anonymous browsers are sent (default `/login`), with `came_from`.
    #[must_use]
    pub fn login_url(mut self, url: impl Into<String>) -> AuthorizerBuilder {
        self.login_url = url.into();
        self
    }

    /// Replaces the 403 view (seed 001's custom sign-in page, for example).
    #[must_use]
    pub fn forbidden_view(
        mut self,
        view: impl Fn(&Parts, &Denial) -> Response + Send + Sync + 'static,
    ) -> AuthorizerBuilder {
        self.forbidden_view = Some(Arc::new(view));
        self
    }

    /// Replaces the 401 / login-redirect view.
    #[must_use]
    pub fn unauthenticated_view(
        mut self,
        view: impl Fn(&Parts, &Denial) -> Response + Send + Sync + 'static,
    ) -> AuthorizerBuilder {
        self.unauthenticated_view = Some(Arc::new(view));
        self
    }

    /// Logs every decision through `tracing` (target `portcullis::authz`, level INFO). Also
    /// on when `PORTCULLIS_DEBUG_AUTHORIZATION=1`.
    #[must_use]
    pub fn debug_authorization(mut self, on: bool) -> AuthorizerBuilder {
        self.debug = on;
        self
    }

    /// Validates everything and builds.
    pub fn build(self) -> Result<Authorizer, BuildError> {
        let mut specs: BTreeMap<String, ResourceSpec> = BTreeMap::new();
        if let Some(src) = &self.policy_src {
            for (path, spec) in portcullis_authz::policy_file::parse(src)? {
                specs.insert(canonical_path(&path), spec);
            }
        }
        for (path, code) in self.specs {
            let spec = specs.entry(path).or_default();
            if code.acl.is_some() {
                spec.acl = code.acl;
            }
            if code.permission.is_some() {
                spec.permission = code.permission;
            }
            if code.require.is_some() {
                spec.require = code.require;
            }
        }
        let mut predicates = HashMap::new();
        for (path, spec) in &specs {
            if let Some(text) = &spec.require {
                let p = match self.code_predicates.get(path) {
                    Some(p) => p.clone(),
                    None => text
                        .parse::<Predicate>()
                        .map_err(|error| BuildError::Predicate {
                            path: path.clone(),
                            error,
                        })?,
                };
                predicates.insert(path.clone(), p);
            }
        }
        let mut tb = ResourceTree::builder();
        for (path, spec) in specs {
            tb = tb.resource(path, spec);
        }
        let tree = tb.build()?;
        let node_requirements = tree
            .resources()
            .map(|(path, _)| {
                let req = tree.requirements(path);
                let permission = req
                    .permission
                    .map(|(p, _)| p)
                    .or(self.default_permission.as_deref())
                    .filter(|p| *p != NO_PERMISSION_REQUIRED)
                    .map(|p| (p.to_owned(), tree.permission(p)));
                let predicate = req.require.and_then(|(_, at)| predicates.get(at).cloned());
                NodeRequirement {
                    permission,
                    predicate,
                }
            })
            .collect();
        Ok(Authorizer {
            inner: Arc::new(Inner {
                policy: self.policy,
                groupfinder: self.groupfinder,
                tree: Arc::new(tree),
                node_requirements,
                default_permission: self.default_permission,
                login_url: self.login_url,
                forbidden_view: self.forbidden_view,
                unauthenticated_view: self.unauthenticated_view,
                debug: self.debug || env_flag(DEBUG_AUTHORIZATION_ENV),
            }),
        })
    }
}

impl Authorizer {
    /// Starts building with a security policy and a groupfinder (the store, usually).
    pub fn builder(
        policy: impl SecurityPolicy,
        groupfinder: impl Groupfinder,
    ) -> AuthorizerBuilder {
        AuthorizerBuilder {
            policy: Arc::new(policy),
            groupfinder: Arc::new(groupfinder),
            specs: BTreeMap::new(),
            code_predicates: HashMap::new(),
            policy_src: None,
            default_permission: None,
            login_url: "/login".to_owned(),
            forbidden_view: None,
            unauthenticated_view: None,
            debug: false,
        }
    }

    /// The resource tree (ACLs and path requirements).
    pub fn tree(&self) -> &ResourceTree {
        &self.inner.tree
    }

    /// The security policy.
    pub fn policy(&self) -> &dyn SecurityPolicy {
        &*self.inner.policy
    }

    /// Identifies a request: policy, then groupfinder. `Err` only when a backend fails.
    pub async fn identify(
        &self,
        parts: &Parts,
    ) -> Result<(RequestIdentity, Vec<(HeaderName, HeaderValue)>), PolicyError> {
        let Some(claim) = self.inner.policy.identify(parts).await? else {
            return Ok((RequestIdentity::anonymous(), Vec::new()));
        };
        match self.inner.groupfinder.principals(&claim.userid).await? {
            Some(principals) => Ok((
                RequestIdentity::authenticated(
                    claim.userid,
                    principals,
                    claim.via,
                    Some(self.inner.groupfinder.clone()),
                ),
                claim.response_headers,
            )),
            None => {
                tracing::debug!(
                    target: "portcullis::authz",
                    userid = %claim.userid,
                    via = claim.via,
                    "valid credentials for a user who does not exist or is blocked: anonymous"
                );
                Ok((RequestIdentity::anonymous(), Vec::new()))
            }
        }
    }

    /// Headers that log `userid` in (Pyramid's `remember`).
    pub async fn remember(
        &self,
        parts: &Parts,
        userid: &str,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, PolicyError> {
        self.inner.policy.remember(parts, userid).await
    }

    /// Headers that log the request's user out (Pyramid's `forget`).
    pub async fn forget(
        &self,
        parts: &Parts,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, PolicyError> {
        self.inner.policy.forget(parts).await
    }

    /// The explained decision for `permission` at `path` (context from the resource tree).
    pub fn decide_path(
        &self,
        identity: &RequestIdentity,
        path: &str,
        permission: &str,
    ) -> Decision {
        self.inner
            .tree
            .decide(path, permission, &identity.principals())
    }

    /// Checks `permission` at `path`, as the layers do (compiled, allocation-free when allowed).
    pub fn check_path(
        &self,
        identity: &RequestIdentity,
        path: &str,
        permission: &str,
    ) -> Result<(), Denial> {
        let tree = &self.inner.tree;
        self.check_node(
            identity,
            tree.locate(path),
            path,
            permission,
            &tree.permission(permission),
        )
    }

    /// The compiled check of a resolved node and permission; explains (allocating) only for
    /// debug logging or a denial.
    fn check_node(
        &self,
        identity: &RequestIdentity,
        node: portcullis_authz::tree::NodeId,
        path: &str,
        name: &str,
        permission: &portcullis_authz::tree::Permission,
    ) -> Result<(), Denial> {
        let tree = &self.inner.tree;
        let check = tree.check(
            node,
            permission,
            &tree.principal_set_iter(identity.principals_iter()),
        );
        if self.inner.debug || !check.allowed() {
            let decision = tree.explain(&check, path, name, &identity.principals());
            self.log_decision(identity, &decision);
            if !check.allowed() {
                return Err(self.acl_denial(identity, name, path, decision));
            }
        }
        Ok(())
    }

    /// Checks `permission` on an application resource (per-instance ACLs).
    pub fn check_resource(
        &self,
        identity: &RequestIdentity,
        context: &dyn Resource,
        permission: &str,
    ) -> Result<Decision, Denial> {
        let decision = portcullis_authz::permits(context, &identity.principals(), permission);
        self.log_decision(identity, &decision);
        if decision.allowed() {
            Ok(decision)
        } else {
            let at = decision.context().to_owned();
            Err(self.acl_denial(identity, permission, &at, decision))
        }
    }

    /// Evaluates a predicate for the request.
    pub async fn check_predicate(
        &self,
        identity: &RequestIdentity,
        predicate: &Predicate,
    ) -> Result<(), Denial> {
        let id = identity.identity().await;
        let verdict = predicate.evaluate(&id);
        if self.inner.debug {
            tracing::info!(
                target: "portcullis::authz",
                user = identity.userid().unwrap_or("<anonymous>"),
                principals = ?identity.principals(),
                predicate = %predicate,
                met = verdict.is_met(),
                message = verdict.message().unwrap_or(""),
                "predicate decision"
            );
        }
        match verdict.not_met() {
            None => Ok(()),
            Some(not_met) => Err(Denial {
                kind: if not_met.is_unauthenticated() {
                    DenialKind::Unauthenticated
                } else {
                    DenialKind::Forbidden
                },
                message: not_met.message().to_owned(),
                permission: None,
                decision: None,
                challenge: self.inner.policy.challenge(),
            }),
        }
    }

    /// What the path requires (declared permission or the default, and the declared
    /// predicate), checked for `identity`: one path walk, one compiled check.
    pub async fn check_path_requirements(
        &self,
        identity: &RequestIdentity,
        path: &str,
    ) -> Result<(), Denial> {
        let tree = &self.inner.tree;
        let node = tree.locate(path);
        let Some(req) = self.inner.node_requirements.get(node.index()) else {
            return Ok(());
        };
        if let Some((name, permission)) = &req.permission {
            self.check_node(identity, node, path, name, permission)?;
        }
        if let Some(p) = &req.predicate {
            self.check_predicate(identity, p).await?;
        }
        Ok(())
    }

    /// The response for a denial: the configured view, or the default one.
    pub fn deny(&self, parts: &Parts, denial: &Denial) -> Response {
        match denial.kind {
            DenialKind::Unauthenticated => match &self.inner.unauthenticated_view {
                Some(view) => view(parts, denial),
                None => denial::default_unauthenticated(&self.inner.login_url, parts, denial),
            },
            DenialKind::Forbidden => match &self.inner.forbidden_view {
                Some(view) => view(parts, denial),
                None => denial::default_forbidden(parts, denial),
            },
        }
    }

    /// The login URL anonymous browsers are sent to.
    pub fn login_url(&self) -> &str {
        &self.inner.login_url
    }

    fn acl_denial(
        &self,
        identity: &RequestIdentity,
        permission: &str,
        path: &str,
        decision: Decision,
    ) -> Denial {
        let (kind, message) = if identity.is_authenticated() {
            (
                DenialKind::Forbidden,
                format!("The \"{permission}\" permission is required for {path}"),
            )
        } else {
            (
                DenialKind::Unauthenticated,
                format!("Log in: the \"{permission}\" permission is required for {path}"),
            )
        };
        Denial {
            kind,
            message,
            permission: Some(permission.to_owned()),
            decision: Some(Box::new(decision)),
            challenge: self.inner.policy.challenge(),
        }
    }

    fn log_decision(&self, identity: &RequestIdentity, decision: &Decision) {
        if self.inner.debug {
            tracing::info!(
                target: "portcullis::authz",
                user = identity.userid().unwrap_or("<anonymous>"),
                principals = ?identity.principals(),
                permission = decision.permission(),
                context = decision.context(),
                allowed = decision.allowed(),
                acl = decision.acl_location().unwrap_or("<default deny>"),
                ace_index = ?decision.ace_index(),
                "{}",
                decision.message()
            );
        }
    }
}
