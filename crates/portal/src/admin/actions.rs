//! One function per admin action and per page of data: the API and the UI both call
//! these, after parsing their own input (JSON or form), so validation, conflicts, audit
//! and side effects (sessions, mail) are written once.

use std::time::Duration;

use http::StatusCode;
use portcullis_store::{
    ActionPurpose, AuditEvent, AuditQuery, GROUPS, Tag, TagMatch, USERS, User, UserQuery,
    UserStatus, Without,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::ADMIN_PERMISSION;
use super::access::{Admin, store_err};
use super::views::{
    AdminUser, AuditOut, AuditPage, ForceResetAnswer, GroupDetail, GroupOut, MemberOut,
    MembersAnswer, Paging, PermissionsAnswer, TaggedAnswer, TagsAnswer, TokenCreated, TokenOut,
    TokensAnswer, UserDetail, UsersPage, parse_instant,
};
use crate::envelope::{ApiError, Checks};
use crate::mailer::OutgoingMail;
use crate::state::PortalState;

type R<T> = Result<T, ApiError>;

const MAX_NAME: usize = 255;
const MAX_DESCRIPTION: usize = 1000;
const MAX_SEARCH: usize = 255;
/// Page numbers above this are refused (400), not scanned.
pub(crate) const MAX_PAGE: u64 = 1_000_000;
/// The largest `per_page`.
pub(crate) const MAX_PER_PAGE: u64 = 200;
const DEFAULT_PER_PAGE: u64 = 50;
/// The most tags one request may add or remove.
pub(crate) const MAX_TAGS: usize = 100;
/// The longest API token lifetime, in days.
pub(crate) const MAX_TOKEN_DAYS: u32 = 3650;

fn bad(field: &str, why: impl Into<String>) -> ApiError {
    ApiError::bad("invalid input").field(field, why)
}

/// A shortened copy of user input for a message.
fn shown(raw: &str) -> String {
    let mut s: String = raw.chars().take(40).collect();
    if s.len() < raw.len() {
        s.push('…');
    }
    s.escape_debug().to_string()
}

/// A record id from a path or a form: a positive 64-bit integer.
pub(crate) fn parse_id(field: &str, raw: &str) -> R<i64> {
    match raw.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(bad(field, format!("`{}` is not a valid id", shown(raw)))),
    }
}

fn parse_count(field: &str, raw: Option<&str>, default: u64, max: u64) -> R<u64> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => match s.parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(bad(
                field,
                format!("must be a whole number from 1 to {max}"),
            )),
        },
    }
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// The query of a users listing (API and UI).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UsersQuery {
    /// Case-insensitive substring of the username, e-mail, first or last name.
    #[serde(default)]
    #[schemars(length(max = 255))]
    pub(crate) q: Option<String>,
    /// `active`, `pending` or `blocked` (empty: any).
    #[serde(default)]
    #[schemars(regex(pattern = "^(active|pending|blocked)?$"))]
    pub(crate) status: Option<String>,
    /// Only members of this group.
    #[serde(default)]
    pub(crate) group: Option<String>,
    /// The page, from 1 (default 1, at most 1 000 000).
    #[serde(default)]
    #[schemars(with = "Option<u64>", range(min = 1, max = 1_000_000))]
    pub(crate) page: Option<String>,
    /// Users per page (default 50, at most 200).
    #[serde(default)]
    #[schemars(with = "Option<u64>", range(min = 1, max = 200))]
    pub(crate) per_page: Option<String>,
}

/// A page of users matching `q`, ordered by id, with the total.
pub(crate) async fn users_page(admin: &Admin, q: &UsersQuery) -> R<UsersPage> {
    let mut checks = Checks::default();
    if let Some(s) = non_empty(&q.q) {
        checks.len("q", s, MAX_SEARCH);
    }
    if let Some(g) = non_empty(&q.group) {
        checks.len("group", g, MAX_NAME);
    }
    checks.finish()?;
    let status = match non_empty(&q.status) {
        None => None,
        Some(s) => Some(
            UserStatus::parse(s)
                .ok_or_else(|| bad("status", "must be `active`, `pending` or `blocked`"))?,
        ),
    };
    let page = parse_count("page", q.page.as_deref(), 1, MAX_PAGE)?;
    let per_page = parse_count(
        "per_page",
        q.per_page.as_deref(),
        DEFAULT_PER_PAGE,
        MAX_PER_PAGE,
    )?;
    let query = UserQuery {
        search: non_empty(&q.q).map(str::to_owned),
        status,
        group: non_empty(&q.group).map(str::to_owned),
        after_id: 0,
        limit: u32::try_from(per_page).ok(),
    };
    let (users, total) = admin
        .store
        .search_users(&query, (page - 1) * per_page)
        .await
        .map_err(store_err)?;
    Ok(UsersPage {
        users: users.iter().map(AdminUser::from).collect(),
        paging: Paging::new(page, per_page, total),
    })
}

async fn require_user(admin: &Admin, id: i64) -> R<User> {
    admin
        .store
        .get_user(id)
        .await
        .map_err(store_err)?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("user {id} not found")))
}

/// A user with groups, permissions, tags, tokens and recent audit events.
pub(crate) async fn user_detail(admin: &Admin, id: i64) -> R<UserDetail> {
    let user = require_user(admin, id).await?;
    let s = &admin.store;
    let groups = s.groups_of(id).await.map_err(store_err)?;
    let permissions = s.permissions_for(id).await.map_err(store_err)?;
    let tags = s.get_tags(USERS, id).await.map_err(store_err)?;
    let tokens = s.list_api_tokens(Some(id)).await.map_err(store_err)?;
    let audit = s
        .list_audit(&AuditQuery {
            user_id: Some(id),
            limit: Some(20),
            ..AuditQuery::default()
        })
        .await
        .map_err(store_err)?;
    Ok(UserDetail {
        user: AdminUser::from(&user),
        groups: groups.into_iter().map(|g| g.name).collect(),
        permissions,
        tags: tags.iter().map(|t| t.as_str().to_owned()).collect(),
        tokens: tokens.iter().map(TokenOut::from).collect(),
        audit: audit.iter().map(AuditOut::from).collect(),
    })
}

fn not_self(admin: &Admin, id: i64, what: &str) -> R<()> {
    if admin.user.id == id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("you cannot {what} your own account"),
        ));
    }
    Ok(())
}

async fn end_sessions(st: &PortalState, id: i64) {
    if let Err(e) = st.inner.sessions.revoke_user(&id.to_string()).await {
        tracing::warn!(error = %e, user = id, "cannot end the sessions of a user");
    }
}

/// Blocks user `id` (refused for oneself) and ends their sessions.
pub(crate) async fn block(st: &PortalState, admin: &Admin, id: i64) -> R<AdminUser> {
    not_self(admin, id, "block")?;
    require_user(admin, id).await?;
    let user = admin.store.block_user(id).await.map_err(store_err)?;
    end_sessions(st, id).await;
    Ok(AdminUser::from(&user))
}

/// Unblocks user `id` (409 when not blocked).
pub(crate) async fn unblock(admin: &Admin, id: i64) -> R<AdminUser> {
    let user = require_user(admin, id).await?;
    if user.status != UserStatus::Blocked {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("user {id} is not blocked (status `{}`)", user.status),
        ));
    }
    let user = admin.store.unblock_user(id).await.map_err(store_err)?;
    Ok(AdminUser::from(&user))
}

/// Removes the password of user `id`, ends every session, and mails a reset link when
/// the user has an address (refused for oneself). Audited as `password_reset_forced`.
pub(crate) async fn force_reset(st: &PortalState, admin: &Admin, id: i64) -> R<ForceResetAnswer> {
    not_self(admin, id, "force a password reset of")?;
    let user = require_user(admin, id).await?;
    admin
        .store
        .invalidate_password(id)
        .await
        .map_err(store_err)?;
    end_sessions(st, id).await;
    let mut mailed = false;
    if let Some(email) = user
        .email
        .as_deref()
        .filter(|_| user.status != UserStatus::Blocked)
    {
        let token = admin
            .store
            .create_action_token(id, ActionPurpose::ResetPassword, st.reset_ttl())
            .await
            .map_err(store_err)?;
        let url = format!(
            "{}{}?token={token}",
            st.inner.config.base_url(),
            crate::flows::RESET_PAGE
        );
        let mail = OutgoingMail {
            to: email.to_owned(),
            subject: "Choose a new password".to_owned(),
            text: format!(
                "An administrator has reset the password of your account `{}`. Open this link to choose a new one:\n\n{url}\n\nThe link works once and expires in {} minutes.\n",
                user.username,
                st.inner.config.reset_ttl_secs / 60
            ),
            html: None,
        };
        match st.inner.mailer.send(mail).await {
            Ok(()) => mailed = true,
            Err(e) => {
                tracing::warn!(error = %e, "cannot send mail");
                admin
                    .audit(
                        AuditEvent::new("mail_failed")
                            .user(id)
                            .details(json!({"subject": "Choose a new password"})),
                    )
                    .await;
            }
        }
    }
    admin
        .audit(
            AuditEvent::new("password_reset_forced")
                .user(id)
                .details(json!({"mailed": mailed})),
        )
        .await;
    Ok(ForceResetAnswer { mailed })
}

/// Deletes user `id` (refused for oneself) and ends their sessions.
pub(crate) async fn delete_user(st: &PortalState, admin: &Admin, id: i64) -> R<()> {
    not_self(admin, id, "delete")?;
    if !admin.store.delete_user(id).await.map_err(store_err)? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("user {id} not found"),
        ));
    }
    end_sessions(st, id).await;
    Ok(())
}

/// All groups, by name.
pub(crate) async fn groups(admin: &Admin) -> R<Vec<GroupOut>> {
    let groups = admin.store.list_groups().await.map_err(store_err)?;
    Ok(groups.iter().map(GroupOut::from).collect())
}

fn check_name(field: &str, value: &str) -> R<()> {
    let mut checks = Checks::default();
    checks.required(field, value, MAX_NAME);
    checks.finish()?;
    if value.trim() != value {
        return Err(bad(field, "must not start or end with whitespace"));
    }
    Ok(())
}

fn no_group(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("group `{}` not found", shown(name)),
    )
}

async fn require_group(admin: &Admin, name: &str) -> R<portcullis_store::Group> {
    check_name("group", name)?;
    admin
        .store
        .get_group(name)
        .await
        .map_err(store_err)?
        .ok_or_else(|| no_group(name))
}

/// Creates a group (409 when the name is taken).
pub(crate) async fn create_group(admin: &Admin, name: &str, description: &str) -> R<GroupOut> {
    check_name("name", name)?;
    Checks::default()
        .len("description", description, MAX_DESCRIPTION)
        .finish()?;
    match admin.store.create_group(name, description).await {
        Ok(g) => Ok(GroupOut::from(&g)),
        Err(portcullis_store::StoreError::Conflict { .. }) => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("a group named `{}` already exists", shown(name)),
        )
        .field("name", "already taken")),
        Err(e) => Err(store_err(e)),
    }
}

/// Refuses (409) a change that would leave no active user holding
/// [`ADMIN_PERMISSION`]: nobody could administer the portal from the web any more (the
/// CLI still could, with `portcullis permission grant`). The acting administrator
/// counts, so blocking or deleting *another* administrator never trips this; revoking,
/// leaving or deleting the last granting group does.
async fn keep_an_administrator(admin: &Admin, without: Without<'_>) -> R<()> {
    let left = admin
        .store
        .count_permission_holders(ADMIN_PERMISSION, without)
        .await
        .map_err(store_err)?;
    if left == 0 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "this would leave no active administrator: grant `{ADMIN_PERMISSION}` to another user's group first"
            ),
        ));
    }
    Ok(())
}

/// Deletes a group with its memberships and permissions.
pub(crate) async fn delete_group(admin: &Admin, name: &str) -> R<()> {
    check_name("group", name)?;
    keep_an_administrator(admin, Without::Group(name)).await?;
    if admin.store.delete_group(name).await.map_err(store_err)? {
        Ok(())
    } else {
        Err(no_group(name))
    }
}

/// The members of a group, by id.
pub(crate) async fn members(admin: &Admin, group: &str) -> R<MembersAnswer> {
    let g = require_group(admin, group).await?;
    let query = UserQuery {
        group: Some(g.name.clone()),
        limit: Some(10_000),
        ..UserQuery::default()
    };
    let users = admin.store.list_users(&query).await.map_err(store_err)?;
    Ok(MembersAnswer {
        group: g.name,
        members: users
            .iter()
            .map(|u| MemberOut {
                id: u.id,
                username: u.username.clone(),
                status: u.status.as_str().to_owned(),
            })
            .collect(),
    })
}

/// A group with its members and permissions.
pub(crate) async fn group_detail(admin: &Admin, group: &str) -> R<GroupDetail> {
    let g = require_group(admin, group).await?;
    let members = members(admin, group).await?.members;
    let permissions = admin
        .store
        .group_permissions(group)
        .await
        .map_err(store_err)?;
    Ok(GroupDetail {
        group: GroupOut::from(&g),
        members,
        permissions,
    })
}

/// A user named by an administrator: an id, or a username or e-mail address.
#[derive(Debug, Clone, JsonSchema)]
#[serde(untagged)]
pub(crate) enum UserRef {
    /// The user id.
    Id(i64),
    /// An id in decimal, a username or an e-mail address.
    Name(String),
}

/// The user `r` names (404 when none).
pub(crate) async fn resolve(admin: &Admin, field: &str, r: &UserRef) -> R<User> {
    match r {
        UserRef::Id(id) => require_user(admin, *id).await,
        UserRef::Name(name) => {
            Checks::default().required(field, name, 320).finish()?;
            admin.store.resolve_user(name).await.map_err(store_err)
        }
    }
}

/// Adds a user to a group (409 when already a member).
pub(crate) async fn add_member(admin: &Admin, group: &str, user: &UserRef) -> R<AdminUser> {
    let g = require_group(admin, group).await?;
    let u = resolve(admin, "user", user).await?;
    if admin
        .store
        .add_member(u.id, &g.name)
        .await
        .map_err(store_err)?
    {
        Ok(AdminUser::from(&u))
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("`{}` is already a member of `{}`", u.username, shown(group)),
        ))
    }
}

/// Removes a user from a group (404 when not a member).
pub(crate) async fn remove_member(admin: &Admin, group: &str, user_id: i64) -> R<()> {
    let g = require_group(admin, group).await?;
    keep_an_administrator(
        admin,
        Without::Membership {
            user_id,
            group: &g.name,
        },
    )
    .await?;
    if admin
        .store
        .remove_member(user_id, &g.name)
        .await
        .map_err(store_err)?
    {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("user {user_id} is not a member of `{}`", shown(group)),
        ))
    }
}

/// The permissions of a group.
pub(crate) async fn permissions(admin: &Admin, group: &str) -> R<PermissionsAnswer> {
    let g = require_group(admin, group).await?;
    let permissions = admin
        .store
        .group_permissions(&g.name)
        .await
        .map_err(store_err)?;
    Ok(PermissionsAnswer {
        group: g.name,
        permissions,
    })
}

/// Grants a permission to a group; when it is already granted, 409 if `strict`, else
/// nothing (an idempotent `PUT`).
pub(crate) async fn grant(
    admin: &Admin,
    group: &str,
    permission: &str,
    strict: bool,
) -> R<PermissionsAnswer> {
    check_name("permission", permission)?;
    let g = require_group(admin, group).await?;
    let granted = admin
        .store
        .grant_permission(&g.name, permission)
        .await
        .map_err(store_err)?;
    if !granted && strict {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("`{}` already grants `{}`", shown(group), shown(permission)),
        ));
    }
    permissions(admin, group).await
}

/// Revokes a permission from a group (404 when not granted).
pub(crate) async fn revoke(admin: &Admin, group: &str, permission: &str) -> R<PermissionsAnswer> {
    check_name("permission", permission)?;
    let g = require_group(admin, group).await?;
    if permission == ADMIN_PERMISSION {
        keep_an_administrator(admin, Without::Group(&g.name)).await?;
    }
    if !admin
        .store
        .revoke_permission(&g.name, permission)
        .await
        .map_err(store_err)?
    {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("`{}` does not grant `{}`", shown(group), shown(permission)),
        ));
    }
    permissions(admin, group).await
}

fn check_kind(kind: &str) -> R<()> {
    let ok = !kind.is_empty()
        && kind.len() <= 64
        && !kind.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok {
        Ok(())
    } else {
        Err(bad(
            "kind",
            "must be 1 to 64 bytes without whitespace or control characters",
        ))
    }
}

fn parse_tags(raw: &[String]) -> R<Vec<Tag>> {
    if raw.is_empty() {
        return Err(bad("tags", "at least one tag is needed"));
    }
    if raw.len() > MAX_TAGS {
        return Err(bad("tags", format!("at most {MAX_TAGS} tags at once")));
    }
    raw.iter()
        .map(|t| Tag::new(t).map_err(|e| bad("tags", e.to_string())))
        .collect()
}

/// 404 unless record `id` of `kind` exists (checked for `users` and `groups`; other
/// kinds belong to applications and are not checked).
async fn require_record(admin: &Admin, kind: &str, id: i64) -> R<()> {
    if kind == USERS {
        require_user(admin, id).await?;
    } else if kind == GROUPS {
        let groups = admin.store.list_groups().await.map_err(store_err)?;
        if !groups.iter().any(|g| g.id == id) {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("group {id} not found"),
            ));
        }
    }
    Ok(())
}

/// The tags of record `id` of `kind`.
pub(crate) async fn tags(admin: &Admin, kind: &str, id: i64) -> R<TagsAnswer> {
    check_kind(kind)?;
    let tags = admin.store.get_tags(kind, id).await.map_err(store_err)?;
    Ok(TagsAnswer {
        kind: kind.to_owned(),
        id,
        tags: tags.iter().map(|t| t.as_str().to_owned()).collect(),
    })
}

/// Adds tags to a record; answers its tags. Audited as `tags_added`.
pub(crate) async fn add_tags(admin: &Admin, kind: &str, id: i64, raw: &[String]) -> R<TagsAnswer> {
    change_tags(admin, kind, id, raw, TagChange::Add).await
}

/// Removes tags (exactly those, not their descendants) from a record; answers its tags.
/// Audited as `tags_removed`.
pub(crate) async fn remove_tags(
    admin: &Admin,
    kind: &str,
    id: i64,
    raw: &[String],
) -> R<TagsAnswer> {
    change_tags(admin, kind, id, raw, TagChange::Remove).await
}

/// Which way tags change.
#[derive(Debug, Clone, Copy)]
enum TagChange {
    Add,
    Remove,
}

/// Adds or removes tags; audits how many changed (`added` / `removed`); answers the
/// record's tags.
async fn change_tags(
    admin: &Admin,
    kind: &str,
    id: i64,
    raw: &[String],
    change: TagChange,
) -> R<TagsAnswer> {
    check_kind(kind)?;
    let tags = parse_tags(raw)?;
    require_record(admin, kind, id).await?;
    let store = &admin.store;
    let (event, key, changed) = match change {
        TagChange::Add => ("tags_added", "added", store.add_tags(kind, id, &tags).await),
        TagChange::Remove => (
            "tags_removed",
            "removed",
            store.remove_tags(kind, id, &tags).await,
        ),
    };
    let changed = changed.map_err(store_err)?;
    let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
    let mut details = json!({"kind": kind, "id": id, "tags": names});
    details[key] = json!(changed);
    let mut ev = AuditEvent::new(event).details(details);
    if kind == USERS {
        ev = ev.user(id);
    }
    admin.audit(ev).await;
    self::tags(admin, kind, id).await
}

/// A page of the records of `kind` carrying all (or, with `any`, one) of `tags`.
pub(crate) async fn find_tagged(
    admin: &Admin,
    kind: &str,
    raw: &[String],
    any: bool,
    after: i64,
    limit: u32,
) -> R<TaggedAnswer> {
    check_kind(kind)?;
    let tags = parse_tags(raw)?;
    let mode = if any { TagMatch::Any } else { TagMatch::All };
    // One more than asked tells whether there is a next page.
    let mut ids = admin
        .store
        .find_tagged_page(kind, &tags, mode, after, Some(limit.saturating_add(1)))
        .await
        .map_err(store_err)?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = ids.len() > limit;
    ids.truncate(limit);
    Ok(TaggedAnswer {
        kind: kind.to_owned(),
        next_after: if more { ids.last().copied() } else { None },
        ids,
    })
}

/// The API tokens of user `id`.
pub(crate) async fn tokens(admin: &Admin, id: i64) -> R<TokensAnswer> {
    require_user(admin, id).await?;
    let tokens = admin
        .store
        .list_api_tokens(Some(id))
        .await
        .map_err(store_err)?;
    Ok(TokensAnswer {
        tokens: tokens.iter().map(TokenOut::from).collect(),
    })
}

/// Creates an API token for user `id`; the secret is in the answer, and nowhere else.
pub(crate) async fn create_token(
    admin: &Admin,
    id: i64,
    name: &str,
    expires_in_days: Option<u32>,
) -> R<TokenCreated> {
    check_name("name", name)?;
    let ttl = match expires_in_days {
        None => None,
        Some(d) if (1..=MAX_TOKEN_DAYS).contains(&d) => {
            Some(Duration::from_secs(u64::from(d) * 86_400))
        }
        Some(_) => {
            return Err(bad(
                "expires_in_days",
                format!("must be from 1 to {MAX_TOKEN_DAYS}"),
            ));
        }
    };
    require_user(admin, id).await?;
    let t = admin
        .store
        .create_api_token(id, name, ttl)
        .await
        .map_err(store_err)?;
    Ok(TokenCreated {
        token: TokenOut::from(&t.token),
        secret: t.secret,
    })
}

/// Revokes API token `id` (404 when unknown or already revoked).
pub(crate) async fn revoke_token(admin: &Admin, id: i64) -> R<()> {
    if admin.store.revoke_api_token(id).await.map_err(store_err)? {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("API token {id} not found or already revoked"),
        ))
    }
}

/// The query of an audit listing (API and UI).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditFilter {
    /// Only events about this user: an id, or a username or e-mail of an existing user.
    #[serde(default)]
    pub(crate) user: Option<String>,
    /// Only events of this kind (`login_failed`, ...).
    #[serde(default)]
    pub(crate) event: Option<String>,
    /// Only events by this actor (`admin:NAME`, `portal`, `cli`, ...).
    #[serde(default)]
    pub(crate) actor: Option<String>,
    /// Only events at or after this instant: Unix seconds or `YYYY-MM-DD` (UTC).
    #[serde(default)]
    pub(crate) since: Option<String>,
    /// Only events before this instant: Unix seconds, or `YYYY-MM-DD` (that day included).
    #[serde(default)]
    pub(crate) until: Option<String>,
    /// The page, from 1 (default 1, at most 1 000 000).
    #[serde(default)]
    #[schemars(with = "Option<u64>", range(min = 1, max = 1_000_000))]
    pub(crate) page: Option<String>,
    /// Events per page (default 50, at most 200).
    #[serde(default)]
    #[schemars(with = "Option<u64>", range(min = 1, max = 200))]
    pub(crate) per_page: Option<String>,
}

/// A page of the audit log, newest first, with the total.
pub(crate) async fn audit_page(admin: &Admin, f: &AuditFilter) -> R<AuditPage> {
    let mut checks = Checks::default();
    for (field, v) in [("user", &f.user), ("event", &f.event), ("actor", &f.actor)] {
        if let Some(s) = non_empty(v) {
            checks.len(field, s, MAX_NAME);
        }
    }
    checks.finish()?;
    let page = parse_count("page", f.page.as_deref(), 1, MAX_PAGE)?;
    let per_page = parse_count(
        "per_page",
        f.per_page.as_deref(),
        DEFAULT_PER_PAGE,
        MAX_PER_PAGE,
    )?;
    let instant = |field: &str, v: &Option<String>, end: bool| -> R<Option<i64>> {
        match non_empty(v) {
            None => Ok(None),
            Some(s) => parse_instant(s, end)
                .map(Some)
                .ok_or_else(|| bad(field, "must be Unix seconds or a date `YYYY-MM-DD`")),
        }
    };
    let since = instant("since", &f.since, false)?;
    let until = instant("until", &f.until, true)?;
    let user_id = match non_empty(&f.user) {
        None => None,
        Some(s) => match s.parse::<i64>() {
            // Events outlive their users: an id is taken as is.
            Ok(id) => Some(id),
            Err(_) => Some(
                admin
                    .store
                    .get_user_by_login(s)
                    .await
                    .map_err(store_err)?
                    .ok_or_else(|| bad("user", format!("no user `{}`", shown(s))))?
                    .id,
            ),
        },
    };
    let q = AuditQuery {
        user_id,
        kind: non_empty(&f.event).map(str::to_owned),
        actor: non_empty(&f.actor).map(str::to_owned),
        since,
        until,
        limit: u32::try_from(per_page).ok(),
        offset: (page - 1) * per_page,
        ..AuditQuery::default()
    };
    let total = admin.store.count_audit(&q).await.map_err(store_err)?;
    let events = admin.store.list_audit(&q).await.map_err(store_err)?;
    Ok(AuditPage {
        events: events.iter().map(AuditOut::from).collect(),
        paging: Paging::new(page, per_page, total),
    })
}
