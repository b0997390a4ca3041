//! The admin API under `/auth/api/admin/` (see `docs/admin.md`), documented as it is
//! routed.

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, Request, State};
use axum::response::Response;
use http::request::Parts;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::access::{self, Admin, check_origin, read_input};
use super::actions::{self, AuditFilter, MAX_TAGS, UserRef, UsersQuery, parse_id};
use super::views::{
    AdminUserAnswer, AuditPage, ForceResetAnswer, GroupAnswer, GroupDetail, GroupsAnswer,
    MembersAnswer, PermissionsAnswer, TaggedAnswer, TagsAnswer, TokenCreated, TokensAnswer,
    UserDetail, UsersPage,
};
use crate::envelope::{ApiError, success};
use crate::openapi::{Access, ApiRoutes, Op};
use crate::state::PortalState;

type ApiResult = Result<Response, ApiError>;

/// The admin API's routes.
pub(crate) fn routes() -> ApiRoutes<PortalState> {
    ApiRoutes::new()
        .route(
            "/auth/api/admin/users",
            vec![
                get(users_list, "Search and page users")
                    .describe("Ordered by id; `q` matches the username, e-mail, first or last name ignoring case.")
                    .query::<UsersQuery>()
                    .answers::<UsersPage>()
                    .errors(&[400]),
            ],
        )
        .route(
            "/auth/api/admin/users/{id}",
            vec![
                get(user_get, "A user with groups, permissions, tags, API tokens and recent audit events")
                    .answers::<UserDetail>()
                    .errors(&[400, 404]),
                Op::delete(user_delete, "Delete a user")
                    .describe("With its memberships, tags and API tokens; ends its sessions. The audit log keeps its events. Refused (409) for your own account.")
                    .access(Access::Admin)
                    .tag("admin")
                    .optional_body::<NoFields>()
                    .also_form()
                    .errors(&[404, 409]),
            ],
        )
        .route(
            "/auth/api/admin/users/{id}/block",
            vec![
                post(user_block, "Block a user")
                    .describe("The user can no longer log in and every session ends. Refused (409) for your own account.")
                    .optional_body::<NoFields>()
                    .answers::<AdminUserAnswer>()
                    .errors(&[404, 409]),
            ],
        )
        .route(
            "/auth/api/admin/users/{id}/unblock",
            vec![
                post(user_unblock, "Unblock a user")
                    .describe("Status `active` again, failed-login counter reset; 409 when the user is not blocked.")
                    .optional_body::<NoFields>()
                    .answers::<AdminUserAnswer>()
                    .errors(&[404, 409]),
            ],
        )
        .route(
            "/auth/api/admin/users/{id}/force_reset",
            vec![
                post(user_force_reset, "Force a password reset")
                    .describe("Removes the password, ends every session and one-time link, and mails a reset link when the user has an address (`mailed`). Audited as `password_reset_forced`. Refused (409) for your own account.")
                    .optional_body::<NoFields>()
                    .answers::<ForceResetAnswer>()
                    .errors(&[404, 409]),
            ],
        )
        .route(
            "/auth/api/admin/users/{id}/tokens",
            vec![
                get(tokens_list, "A user's API tokens (metadata only)")
                    .answers::<TokensAnswer>()
                    .errors(&[400, 404]),
                post(tokens_create, "Create an API token for a user")
                    .describe("The answer's `secret` is shown this once; only its hash is stored.")
                    .body::<NewTokenIn>()
                    .answers::<TokenCreated>()
                    .errors(&[404]),
            ],
        )
        .route(
            "/auth/api/admin/tokens/{id}",
            vec![
                Op::delete(token_delete, "Revoke an API token")
                    .access(Access::Admin)
                    .tag("admin")
                    .optional_body::<NoFields>()
                    .also_form()
                    .errors(&[404]),
            ],
        )
        .route(
            "/auth/api/admin/groups",
            vec![
                get(groups_list, "All groups").answers::<GroupsAnswer>(),
                post(groups_create, "Create a group")
                    .body::<GroupIn>()
                    .answers::<GroupAnswer>()
                    .errors(&[409]),
            ],
        )
        .route(
            "/auth/api/admin/groups/{name}",
            vec![
                get(group_get, "A group with its members and permissions")
                    .answers::<GroupDetail>()
                    .errors(&[400, 404]),
                Op::delete(group_delete, "Delete a group")
                    .describe("With its memberships, permissions and tags.")
                    .access(Access::Admin)
                    .tag("admin")
                    .optional_body::<NoFields>()
                    .also_form()
                    .errors(&[404]),
            ],
        )
        .route(
            "/auth/api/admin/groups/{name}/members",
            vec![
                get(members_list, "The members of a group")
                    .answers::<MembersAnswer>()
                    .errors(&[400, 404]),
                post(members_add, "Add a user to a group")
                    .describe("`user` is an id, or a username or e-mail address.")
                    .body::<MemberIn>()
                    .answers::<AdminUserAnswer>()
                    .errors(&[404, 409]),
            ],
        )
        .route(
            "/auth/api/admin/groups/{name}/members/{user_id}",
            vec![
                Op::delete(member_delete, "Remove a user from a group")
                    .access(Access::Admin)
                    .tag("admin")
                    .optional_body::<NoFields>()
                    .also_form()
                    .errors(&[404]),
            ],
        )
        .route(
            "/auth/api/admin/groups/{name}/permissions",
            vec![
                get(permissions_list, "The permissions a group grants")
                    .answers::<PermissionsAnswer>()
                    .errors(&[400, 404]),
                post(permissions_add, "Grant a permission to a group")
                    .body::<PermissionIn>()
                    .answers::<PermissionsAnswer>()
                    .errors(&[404, 409]),
            ],
        )
        .route(
            "/auth/api/admin/groups/{name}/permissions/{permission}",
            vec![
                Op::put(permission_put, "Grant a permission to a group (idempotent)")
                    .describe("Like `POST .../permissions`, without the 409 when the permission is already granted. The body may be empty or `{}`.")
                    .access(Access::Admin)
                    .tag("admin")
                    .optional_body::<NoFields>()
                    .also_form()
                    .answers::<PermissionsAnswer>()
                    .errors(&[404]),
                Op::delete(permission_delete, "Revoke a permission from a group")
                    .access(Access::Admin)
                    .tag("admin")
                    .optional_body::<NoFields>()
                    .also_form()
                    .answers::<PermissionsAnswer>()
                    .errors(&[404]),
            ],
        )
        .route(
            "/auth/api/admin/tags/{kind}",
            vec![
                get(tags_find, "Find records by tags (paged by id)")
                    .describe("Repeat `tag` for several tags: records carrying all of them (or one, with `any=true`), hierarchically (`a` finds `a/b`). Pass `next_after` as `after` for the next page.")
                    .query::<FindQuery>()
                    .answers::<TaggedAnswer>()
                    .errors(&[400]),
            ],
        )
        .route(
            "/auth/api/admin/tags/{kind}/{id}",
            vec![
                get(tags_get, "The tags of a record")
                    .answers::<TagsAnswer>()
                    .errors(&[400]),
                post(tags_add, "Add tags to a record")
                    .describe("For kinds `users` and `groups` the record must exist (404). Audited as `tags_added`.")
                    .body::<TagsIn>()
                    .answers::<TagsAnswer>()
                    .errors(&[404]),
                Op::delete(tags_remove, "Remove tags from a record")
                    .describe("Removes exactly these tags, not their descendants. Audited as `tags_removed`.")
                    .access(Access::Admin)
                    .tag("admin")
                    .also_form()
                    .body::<TagsIn>()
                    .answers::<TagsAnswer>()
                    .errors(&[404]),
            ],
        )
        .route(
            "/auth/api/admin/audit",
            vec![
                get(audit_list, "The audit log, newest first, filtered and paged")
                    .query::<AuditFilter>()
                    .answers::<AuditPage>()
                    .errors(&[400]),
            ],
        )
}

fn get<H, T>(handler: H, summary: &'static str) -> Op<PortalState>
where
    H: axum::handler::Handler<T, PortalState>,
    T: 'static,
{
    Op::get(handler, summary).access(Access::Admin).tag("admin")
}

fn post<H, T>(handler: H, summary: &'static str) -> Op<PortalState>
where
    H: axum::handler::Handler<T, PortalState>,
    T: 'static,
{
    Op::post(handler, summary)
        .access(Access::Admin)
        .tag("admin")
        .also_form()
}

fn answer<T: Serialize>(message: &str, value: &T) -> Response {
    success(message, serde_json::to_value(value).unwrap_or(Value::Null))
}

fn path_err(e: &PathRejection) -> ApiError {
    ApiError::bad(format!("invalid path: {}", e.body_text()))
}

fn query<T: DeserializeOwned>(parts: &Parts) -> Result<T, ApiError> {
    Query::<T>::try_from_uri(&parts.uri)
        .map(|Query(q)| q)
        .map_err(|e| ApiError::bad(format!("invalid query: {}", e.body_text())))
}

/// A read: the administrator (401/403).
async fn read(st: &PortalState, req: Request) -> Result<(Admin, Parts), ApiError> {
    let (parts, _) = req.into_parts();
    let admin = access::admin(st, &parts).await?;
    Ok((admin, parts))
}

/// A change: trusted `Origin` (when present), the administrator, then the body.
async fn change<T: DeserializeOwned>(
    st: &PortalState,
    req: Request,
) -> Result<(Admin, T), ApiError> {
    let (parts, body): (Parts, Body) = req.into_parts();
    check_origin(st, &parts.headers)?;
    let admin = access::admin(st, &parts).await?;
    let input = read_input(st, &admin, &parts.headers, body).await?;
    Ok((admin, input))
}

/// No fields: the body may be empty or `{}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoFields {}

type IdPath = Result<Path<String>, PathRejection>;

fn id_of(path: IdPath, field: &str) -> Result<i64, ApiError> {
    let Path(raw) = path.map_err(|e| path_err(&e))?;
    parse_id(field, &raw)
}

async fn users_list(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (admin, parts) = read(&st, req).await?;
    let q: UsersQuery = query(&parts)?;
    Ok(answer("", &actions::users_page(&admin, &q).await?))
}

async fn user_get(State(st): State<PortalState>, path: IdPath, req: Request) -> ApiResult {
    let (admin, _) = read(&st, req).await?;
    let id = id_of(path, "id")?;
    Ok(answer("", &actions::user_detail(&admin, id).await?))
}

async fn user_delete(State(st): State<PortalState>, path: IdPath, req: Request) -> ApiResult {
    let (admin, NoFields {}) = change(&st, req).await?;
    let id = id_of(path, "id")?;
    actions::delete_user(&st, &admin, id).await?;
    Ok(success("user deleted", json!({})))
}

async fn user_block(State(st): State<PortalState>, path: IdPath, req: Request) -> ApiResult {
    let (admin, NoFields {}) = change(&st, req).await?;
    let id = id_of(path, "id")?;
    let user = actions::block(&st, &admin, id).await?;
    Ok(answer("user blocked", &AdminUserAnswer { user }))
}

async fn user_unblock(State(st): State<PortalState>, path: IdPath, req: Request) -> ApiResult {
    let (admin, NoFields {}) = change(&st, req).await?;
    let id = id_of(path, "id")?;
    let user = actions::unblock(&admin, id).await?;
    Ok(answer("user unblocked", &AdminUserAnswer { user }))
}

async fn user_force_reset(State(st): State<PortalState>, path: IdPath, req: Request) -> ApiResult {
    let (admin, NoFields {}) = change(&st, req).await?;
    let id = id_of(path, "id")?;
    let a = actions::force_reset(&st, &admin, id).await?;
    let message = if a.mailed {
        "password removed, sessions ended, reset link mailed"
    } else {
        "password removed and sessions ended; no reset link was mailed"
    };
    Ok(answer(message, &a))
}

async fn tokens_list(State(st): State<PortalState>, path: IdPath, req: Request) -> ApiResult {
    let (admin, _) = read(&st, req).await?;
    let id = id_of(path, "id")?;
    Ok(answer("", &actions::tokens(&admin, id).await?))
}

/// A new API token.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTokenIn {
    /// A label (1 to 255 bytes).
    #[schemars(length(min = 1, max = 255))]
    name: String,
    /// Lifetime in days (1 to 3650); without it the token does not expire.
    #[serde(default)]
    #[schemars(with = "Option<u32>", range(min = 1, max = 3650))]
    expires_in_days: Option<Value>,
}

/// A whole number from JSON (a number) or a form (its decimal text; empty: none).
fn whole_number(field: &str, v: &Value) -> Result<Option<u32>, ApiError> {
    let n = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.is_empty() => return Ok(None),
        Value::String(s) => s.parse::<u64>().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    };
    n.and_then(|n| u32::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| ApiError::bad("invalid input").field(field, "must be a whole number"))
}

async fn tokens_create(State(st): State<PortalState>, path: IdPath, req: Request) -> ApiResult {
    let (admin, t): (Admin, NewTokenIn) = change(&st, req).await?;
    let id = id_of(path, "id")?;
    let days = match &t.expires_in_days {
        Some(v) => whole_number("expires_in_days", v)?,
        None => None,
    };
    let created = actions::create_token(&admin, id, &t.name, days).await?;
    Ok(answer(
        "API token created: copy the secret now, it is not shown again",
        &created,
    ))
}

async fn token_delete(State(st): State<PortalState>, path: IdPath, req: Request) -> ApiResult {
    let (admin, NoFields {}) = change(&st, req).await?;
    let id = id_of(path, "id")?;
    actions::revoke_token(&admin, id).await?;
    Ok(success("API token revoked", json!({})))
}

async fn groups_list(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (admin, _) = read(&st, req).await?;
    let groups = actions::groups(&admin).await?;
    Ok(answer("", &GroupsAnswer { groups }))
}

/// A new group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupIn {
    /// The name (1 to 255 bytes; principals are `group:NAME`).
    #[schemars(length(min = 1, max = 255))]
    name: String,
    /// Free text (at most 1000 bytes).
    #[serde(default)]
    #[schemars(length(max = 1000))]
    description: String,
}

async fn groups_create(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (admin, g): (Admin, GroupIn) = change(&st, req).await?;
    let group = actions::create_group(&admin, &g.name, &g.description).await?;
    Ok(answer("group created", &GroupAnswer { group }))
}

type NamePath = Result<Path<String>, PathRejection>;

fn name_of(path: NamePath) -> Result<String, ApiError> {
    path.map(|Path(n)| n).map_err(|e| path_err(&e))
}

async fn group_get(State(st): State<PortalState>, path: NamePath, req: Request) -> ApiResult {
    let (admin, _) = read(&st, req).await?;
    let name = name_of(path)?;
    Ok(answer("", &actions::group_detail(&admin, &name).await?))
}

async fn group_delete(State(st): State<PortalState>, path: NamePath, req: Request) -> ApiResult {
    let (admin, NoFields {}) = change(&st, req).await?;
    let name = name_of(path)?;
    actions::delete_group(&admin, &name).await?;
    Ok(success("group deleted", json!({})))
}

async fn members_list(State(st): State<PortalState>, path: NamePath, req: Request) -> ApiResult {
    let (admin, _) = read(&st, req).await?;
    let name = name_of(path)?;
    Ok(answer("", &actions::members(&admin, &name).await?))
}

/// A user to add to a group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberIn {
    /// The user's id, or username or e-mail address.
    #[schemars(with = "UserRef")]
    user: Value,
}

async fn members_add(State(st): State<PortalState>, path: NamePath, req: Request) -> ApiResult {
    let (admin, m): (Admin, MemberIn) = change(&st, req).await?;
    let name = name_of(path)?;
    let user_ref = match m.user {
        Value::Number(n) => UserRef::Id(
            n.as_i64()
                .filter(|n| *n > 0)
                .ok_or_else(|| ApiError::bad("invalid input").field("user", "not a valid id"))?,
        ),
        Value::String(s) => UserRef::Name(s),
        _ => {
            return Err(ApiError::bad("invalid input")
                .field("user", "an id, or a username or e-mail address"));
        }
    };
    let user = actions::add_member(&admin, &name, &user_ref).await?;
    Ok(answer("member added", &AdminUserAnswer { user }))
}

type TwoPath = Result<Path<(String, String)>, PathRejection>;

async fn member_delete(State(st): State<PortalState>, path: TwoPath, req: Request) -> ApiResult {
    let (admin, NoFields {}) = change(&st, req).await?;
    let Path((name, user)) = path.map_err(|e| path_err(&e))?;
    let user_id = parse_id("user_id", &user)?;
    actions::remove_member(&admin, &name, user_id).await?;
    Ok(success("member removed", json!({})))
}

async fn permissions_list(
    State(st): State<PortalState>,
    path: NamePath,
    req: Request,
) -> ApiResult {
    let (admin, _) = read(&st, req).await?;
    let name = name_of(path)?;
    Ok(answer("", &actions::permissions(&admin, &name).await?))
}

/// A permission to grant.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PermissionIn {
    /// The permission's name (1 to 255 bytes).
    #[schemars(length(min = 1, max = 255))]
    permission: String,
}

async fn permissions_add(State(st): State<PortalState>, path: NamePath, req: Request) -> ApiResult {
    let (admin, p): (Admin, PermissionIn) = change(&st, req).await?;
    let name = name_of(path)?;
    let a = actions::grant(&admin, &name, &p.permission, true).await?;
    Ok(answer("permission granted", &a))
}

async fn permission_put(State(st): State<PortalState>, path: TwoPath, req: Request) -> ApiResult {
    let (admin, NoFields {}) = change(&st, req).await?;
    let Path((name, permission)) = path.map_err(|e| path_err(&e))?;
    let a = actions::grant(&admin, &name, &permission, false).await?;
    Ok(answer("permission granted", &a))
}

async fn permission_delete(
    State(st): State<PortalState>,
    path: TwoPath,
    req: Request,
) -> ApiResult {
    let (admin, NoFields {}) = change(&st, req).await?;
    let Path((name, permission)) = path.map_err(|e| path_err(&e))?;
    let a = actions::revoke(&admin, &name, &permission).await?;
    Ok(answer("permission revoked", &a))
}

/// Tags to add or remove.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TagsIn {
    /// 1 to 100 tags (`a/b/c`).
    #[schemars(length(min = 1, max = 100))]
    tags: Vec<String>,
}

/// The query of a tag find (documentation of the parameters; `tag` repeats).
#[derive(Debug, Deserialize, JsonSchema)]
#[allow(dead_code)]
pub(crate) struct FindQuery {
    /// A tag; repeat the parameter for several (1 to 100).
    #[schemars(length(min = 1, max = 100))]
    tag: Vec<String>,
    /// `true`: records carrying any of the tags; default: all of them.
    #[serde(default)]
    any: Option<bool>,
    /// Only ids greater than this (the previous page's `next_after`).
    #[serde(default)]
    after: Option<i64>,
    /// Ids per page (default 100, at most 1000).
    #[serde(default)]
    #[schemars(range(min = 1, max = 1000))]
    limit: Option<u32>,
}

async fn tags_find(State(st): State<PortalState>, path: NamePath, req: Request) -> ApiResult {
    let (admin, parts) = read(&st, req).await?;
    let kind = name_of(path)?;
    let pairs: Vec<(String, String)> = query(&parts)?;
    let mut tags = Vec::new();
    let (mut any, mut after, mut limit) = (false, 0i64, 100u32);
    let bad = |f: &str, why: &str| ApiError::bad("invalid query").field(f, why);
    for (k, v) in pairs {
        match k.as_str() {
            "tag" if tags.len() < MAX_TAGS => tags.push(v),
            "tag" => return Err(bad("tag", "at most 100 tags")),
            "any" => {
                any = match v.as_str() {
                    "true" | "1" | "on" | "yes" => true,
                    "false" | "0" | "off" | "no" | "" => false,
                    _ => return Err(bad("any", "must be `true` or `false`")),
                }
            }
            "after" => {
                after = v
                    .parse::<i64>()
                    .map_err(|_| bad("after", "must be an integer"))?;
            }
            "limit" => {
                limit = v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| bad("limit", "must be a whole number from 1 to 1000"))?;
            }
            other => {
                return Err(ApiError::bad(format!(
                    "invalid query: unknown parameter `{}`",
                    other.chars().take(40).collect::<String>().escape_debug()
                )));
            }
        }
    }
    if tags.is_empty() {
        return Err(bad("tag", "at least one tag is needed"));
    }
    Ok(answer(
        "",
        &actions::find_tagged(&admin, &kind, &tags, any, after, limit).await?,
    ))
}

fn kind_id(path: TwoPath) -> Result<(String, i64), ApiError> {
    let Path((kind, id)) = path.map_err(|e| path_err(&e))?;
    Ok((kind, parse_id("id", &id)?))
}

async fn tags_get(State(st): State<PortalState>, path: TwoPath, req: Request) -> ApiResult {
    let (admin, _) = read(&st, req).await?;
    let (kind, id) = kind_id(path)?;
    Ok(answer("", &actions::tags(&admin, &kind, id).await?))
}

async fn tags_add(State(st): State<PortalState>, path: TwoPath, req: Request) -> ApiResult {
    let (admin, t): (Admin, TagsIn) = change(&st, req).await?;
    let (kind, id) = kind_id(path)?;
    Ok(answer(
        "tags added",
        &actions::add_tags(&admin, &kind, id, &t.tags).await?,
    ))
}

async fn tags_remove(State(st): State<PortalState>, path: TwoPath, req: Request) -> ApiResult {
    let (admin, t): (Admin, TagsIn) = change(&st, req).await?;
    let (kind, id) = kind_id(path)?;
    Ok(answer(
        "tags removed",
        &actions::remove_tags(&admin, &kind, id, &t.tags).await?,
    ))
}

async fn audit_list(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (admin, parts) = read(&st, req).await?;
    let f: AuditFilter = query(&parts)?;
    Ok(answer("", &actions::audit_page(&admin, &f).await?))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_is_under_the_admin_prefix() {
        let (_, docs) = super::routes().into_parts();
        assert!(docs.len() >= 20);
        for d in docs {
            assert!(d.path.starts_with("/auth/api/admin/"), "{}", d.path);
        }
    }
}
