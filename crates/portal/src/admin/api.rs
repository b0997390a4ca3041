//! The admin API under `/auth/api/admin/` (see `docs/admin.md`), documented as it is
//! routed.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::access::{Admin, Change, Params};
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
                delete(user_delete, "Delete a user")
                    .describe("With its memberships, tags and API tokens; ends its sessions. The audit log keeps its events. Refused (409) for your own account.")
                    .optional_body::<NoFields>()
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
                delete(token_delete, "Revoke an API token")
                    .optional_body::<NoFields>()
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
                delete(group_delete, "Delete a group")
                    .describe("With its memberships, permissions and tags. 409 when no active administrator would be left.")
                    .optional_body::<NoFields>()
                    .errors(&[404, 409]),
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
                delete(member_delete, "Remove a user from a group")
                    .describe("409 when no active administrator would be left.")
                    .optional_body::<NoFields>()
                    .errors(&[404, 409]),
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
                put(permission_put, "Grant a permission to a group (idempotent)")
                    .describe("Like `POST .../permissions`, without the 409 when the permission is already granted. The body may be empty or `{}`.")
                    .optional_body::<NoFields>()
                    .answers::<PermissionsAnswer>()
                    .errors(&[404]),
                delete(permission_delete, "Revoke a permission from a group")
                    .describe("Revoking `admin` answers 409 when no active administrator would be left.")
                    .optional_body::<NoFields>()
                    .answers::<PermissionsAnswer>()
                    .errors(&[404, 409]),
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
                delete(tags_remove, "Remove tags from a record")
                    .describe("Removes exactly these tags, not their descendants. Audited as `tags_removed`.")
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
    change(Op::post(handler, summary))
}

fn put<H, T>(handler: H, summary: &'static str) -> Op<PortalState>
where
    H: axum::handler::Handler<T, PortalState>,
    T: 'static,
{
    change(Op::put(handler, summary))
}

fn delete<H, T>(handler: H, summary: &'static str) -> Op<PortalState>
where
    H: axum::handler::Handler<T, PortalState>,
    T: 'static,
{
    change(Op::delete(handler, summary))
}

/// A change: for administrators, JSON or a form with the CSRF token.
fn change(op: Op<PortalState>) -> Op<PortalState> {
    op.access(Access::Admin).tag("admin").also_form()
}

/// An answer in the success envelope, with `message`.
fn answer<T: Serialize>(message: &str, value: &T) -> ApiResult {
    Ok(success(
        message,
        serde_json::to_value(value).unwrap_or(Value::Null),
    ))
}

/// A read's answer: the action's result, without a message.
fn found<T: Serialize>(value: Result<T, ApiError>) -> ApiResult {
    answer("", &value?)
}

/// A change that answers no data: `{}` with `message`.
fn done(message: &str) -> ApiResult {
    Ok(success(message, json!({})))
}

/// The path's parameters, read after the administrator and the body were checked (so
/// that 401/403 and body errors come first); 400 `invalid path: ...`.
type Args<T> = Result<Path<T>, PathRejection>;

fn args<T>(path: Args<T>) -> Result<T, ApiError> {
    path.map(|Path(p)| p)
        .map_err(|e| ApiError::bad(format!("invalid path: {}", e.body_text())))
}

/// The record id in the path (field `id`).
fn id(path: Args<String>) -> Result<i64, ApiError> {
    parse_id("id", &args(path)?)
}

/// `{kind}/{id}` in the path.
fn kind_id(path: Args<(String, String)>) -> Result<(String, i64), ApiError> {
    let (kind, id) = args(path)?;
    Ok((kind, parse_id("id", &id)?))
}

/// No fields: the body may be empty or `{}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoFields {}

/// A change without fields.
type Action = Change<NoFields>;

async fn users_list(admin: Admin, Params(q): Params<UsersQuery>) -> ApiResult {
    found(actions::users_page(&admin, &q).await)
}

async fn user_get(admin: Admin, path: Args<String>) -> ApiResult {
    found(actions::user_detail(&admin, id(path)?).await)
}

async fn user_delete(State(st): State<PortalState>, path: Args<String>, c: Action) -> ApiResult {
    actions::delete_user(&st, &c.admin, id(path)?).await?;
    done("user deleted")
}

async fn user_block(State(st): State<PortalState>, path: Args<String>, c: Action) -> ApiResult {
    let user = actions::block(&st, &c.admin, id(path)?).await?;
    answer("user blocked", &AdminUserAnswer { user })
}

async fn user_unblock(path: Args<String>, c: Action) -> ApiResult {
    let user = actions::unblock(&c.admin, id(path)?).await?;
    answer("user unblocked", &AdminUserAnswer { user })
}

async fn user_force_reset(
    State(st): State<PortalState>,
    path: Args<String>,
    c: Action,
) -> ApiResult {
    let a = actions::force_reset(&st, &c.admin, id(path)?).await?;
    let message = if a.mailed {
        "password removed, sessions ended, reset link mailed"
    } else {
        "password removed and sessions ended; no reset link was mailed"
    };
    answer(message, &a)
}

async fn tokens_list(admin: Admin, path: Args<String>) -> ApiResult {
    found(actions::tokens(&admin, id(path)?).await)
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

async fn tokens_create(path: Args<String>, c: Change<NewTokenIn>) -> ApiResult {
    let id = id(path)?;
    let t = c.input;
    let days = match &t.expires_in_days {
        Some(v) => whole_number("expires_in_days", v)?,
        None => None,
    };
    let created = actions::create_token(&c.admin, id, &t.name, days).await?;
    answer(
        "API token created: copy the secret now, it is not shown again",
        &created,
    )
}

async fn token_delete(path: Args<String>, c: Action) -> ApiResult {
    actions::revoke_token(&c.admin, id(path)?).await?;
    done("API token revoked")
}

async fn groups_list(admin: Admin) -> ApiResult {
    let groups = actions::groups(&admin).await?;
    answer("", &GroupsAnswer { groups })
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

async fn groups_create(c: Change<GroupIn>) -> ApiResult {
    let g = c.input;
    let group = actions::create_group(&c.admin, &g.name, &g.description).await?;
    answer("group created", &GroupAnswer { group })
}

async fn group_get(admin: Admin, path: Args<String>) -> ApiResult {
    found(actions::group_detail(&admin, &args(path)?).await)
}

async fn group_delete(path: Args<String>, c: Action) -> ApiResult {
    actions::delete_group(&c.admin, &args(path)?).await?;
    done("group deleted")
}

async fn members_list(admin: Admin, path: Args<String>) -> ApiResult {
    found(actions::members(&admin, &args(path)?).await)
}

/// A user to add to a group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberIn {
    /// The user's id, or username or e-mail address.
    #[schemars(with = "UserRef")]
    user: Value,
}

async fn members_add(path: Args<String>, c: Change<MemberIn>) -> ApiResult {
    let name = args(path)?;
    let user_ref = match c.input.user {
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
    let user = actions::add_member(&c.admin, &name, &user_ref).await?;
    answer("member added", &AdminUserAnswer { user })
}

async fn member_delete(path: Args<(String, String)>, c: Action) -> ApiResult {
    let (name, user) = args(path)?;
    let user_id = parse_id("user_id", &user)?;
    actions::remove_member(&c.admin, &name, user_id).await?;
    done("member removed")
}

async fn permissions_list(admin: Admin, path: Args<String>) -> ApiResult {
    found(actions::permissions(&admin, &args(path)?).await)
}

/// A permission to grant.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PermissionIn {
    /// The permission's name (1 to 255 bytes).
    #[schemars(length(min = 1, max = 255))]
    permission: String,
}

async fn permissions_add(path: Args<String>, c: Change<PermissionIn>) -> ApiResult {
    let name = args(path)?;
    let a = actions::grant(&c.admin, &name, &c.input.permission, true).await?;
    answer("permission granted", &a)
}

async fn permission_put(path: Args<(String, String)>, c: Action) -> ApiResult {
    let (name, permission) = args(path)?;
    answer(
        "permission granted",
        &actions::grant(&c.admin, &name, &permission, false).await?,
    )
}

async fn permission_delete(path: Args<(String, String)>, c: Action) -> ApiResult {
    let (name, permission) = args(path)?;
    answer(
        "permission revoked",
        &actions::revoke(&c.admin, &name, &permission).await?,
    )
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

async fn tags_find(
    admin: Admin,
    path: Args<String>,
    query: Result<Params<Vec<(String, String)>>, ApiError>,
) -> ApiResult {
    let kind = args(path)?;
    let Params(pairs) = query?;
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
    found(actions::find_tagged(&admin, &kind, &tags, any, after, limit).await)
}

async fn tags_get(admin: Admin, path: Args<(String, String)>) -> ApiResult {
    let (kind, id) = kind_id(path)?;
    found(actions::tags(&admin, &kind, id).await)
}

async fn tags_add(path: Args<(String, String)>, c: Change<TagsIn>) -> ApiResult {
    let (kind, id) = kind_id(path)?;
    let tags = actions::add_tags(&c.admin, &kind, id, &c.input.tags).await?;
    answer("tags added", &tags)
}

async fn tags_remove(path: Args<(String, String)>, c: Change<TagsIn>) -> ApiResult {
    let (kind, id) = kind_id(path)?;
    let tags = actions::remove_tags(&c.admin, &kind, id, &c.input.tags).await?;
    answer("tags removed", &tags)
}

async fn audit_list(admin: Admin, Params(f): Params<AuditFilter>) -> ApiResult {
    found(actions::audit_page(&admin, &f).await)
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
