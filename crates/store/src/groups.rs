//! Groups, memberships and per-group permissions.

use serde_json::json;
use sqlx::Row;

use crate::audit::AuditEvent;
use crate::backend::{AnnounceChange, BeginWrite, Changed, on_pool};
use crate::clock::from_unix;
use crate::error::{Result, StoreError};
use crate::model::Group;
use crate::store::Store;
use crate::tags::TagIndex as _;

macro_rules! group_from_row {
    ($row:expr) => {{
        let row = $row;
        Group {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            created_at: from_unix(row.try_get("created_at")?),
        }
    }};
}

/// Checks a group or permission name: 1..=255 bytes, no control characters.
pub(crate) fn check_group_name(field: &'static str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(StoreError::invalid(field, "must not be empty"));
    }
    if name.len() > 255 {
        return Err(StoreError::invalid(field, "longer than 255 bytes"));
    }
    if name.chars().any(char::is_control) || name.trim() != name {
        return Err(StoreError::invalid(
            field,
            format!(
                "`{}` contains a control character or surrounding whitespace",
                name.escape_debug()
            ),
        ));
    }
    Ok(())
}

impl Store {
    /// Creates a group. [`StoreError::Conflict`] (`group`) when the name is taken.
    pub async fn create_group(&self, name: &str, description: &str) -> Result<Group> {
        check_group_name("group", name)?;
        let now = self.now_unix();
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let mut tx = pool.begin_write().await?;
                let row = sqlx::query(
                    "INSERT INTO groups (name, description, created_at) VALUES ($1, $2, $3) \
                     RETURNING id, name, description, created_at",
                )
                .bind(name)
                .bind(description)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                let g = group_from_row!(&row);
                self.audit_in(&mut *tx, AuditEvent::new("group_created")
                    .details(json!({"group": name}))).await?;
                tx.commit().await?;
                Ok(g)
            })
        })
        .await
    }

    /// The group named `name`.
    pub async fn get_group(&self, name: &str) -> Result<Option<Group>> {
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let row = sqlx::query(
                    "SELECT id, name, description, created_at FROM groups WHERE name = $1",
                )
                .bind(name)
                .fetch_optional(pool)
                .await?;
                Ok(match row {
                    Some(r) => Some(group_from_row!(&r)),
                    None => None,
                })
            })
        })
        .await
    }

    async fn require_group(&self, name: &str) -> Result<Group> {
        self.get_group(name)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("group `{name}`")))
    }

    /// All groups, by name.
    pub async fn list_groups(&self) -> Result<Vec<Group>> {
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let rows = sqlx::query(
                    "SELECT id, name, description, created_at FROM groups ORDER BY name",
                )
                .fetch_all(pool)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    out.push(group_from_row!(r));
                }
                Ok(out)
            })
        })
        .await
    }

    /// Deletes a group with its memberships, permissions and `groups` tags; returns false
    /// when there was no such group. Invalidates every cached principal set.
    pub async fn delete_group(&self, name: &str) -> Result<bool> {
        let deleted = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let mut tx = pool.begin_write().await?;
                    let row = sqlx::query("DELETE FROM groups WHERE name = $1 RETURNING id")
                        .bind(name)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(row) = row else {
                        return Ok(false);
                    };
                    let id: i64 = row.try_get("id")?;
                    tx.delete_record_tags(crate::tags::GROUPS, id).await?;
                    self.audit_in(&mut *tx, AuditEvent::new("group_deleted")
                        .details(json!({"group": name}))).await?;
                    tx.principals_changed(Changed::All).await?;
                    tx.commit().await?;
                    Ok(true)
                })
            })
            .await?;
        if deleted {
            self.invalidate_all_principals();
        }
        Ok(deleted)
    }

    /// Adds user `user_id` to group `group`; returns false when already a member.
    pub async fn add_member(&self, user_id: i64, group: &str) -> Result<bool> {
        let g = self.require_group(group).await?;
        let now = self.now_unix();
        let added = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let mut tx = pool.begin_write().await?;
                    let exists = sqlx::query("SELECT 1 AS one FROM users WHERE id = $1")
                        .bind(user_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if exists.is_none() {
                        return Err(StoreError::not_found(format!("user {user_id}")));
                    }
                    let n = sqlx::query(
                        "INSERT INTO memberships (user_id, group_id, created_at) VALUES ($1, $2, $3) \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(user_id)
                    .bind(g.id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 1 {
                        self.audit_in(&mut *tx, AuditEvent::new("member_added")
                            .user(user_id)
                            .details(json!({"group": group}))).await?;
                        tx.principals_changed(Changed::User(user_id)).await?;
                    }
                    tx.commit().await?;
                    Ok(n == 1)
                })
            })
            .await?;
        self.invalidate_principals(user_id);
        Ok(added)
    }

    /// Removes user `user_id` from group `group`; returns false when not a member.
    pub async fn remove_member(&self, user_id: i64, group: &str) -> Result<bool> {
        let g = self.require_group(group).await?;
        let removed = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let mut tx = pool.begin_write().await?;
                    let n = sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND group_id = $2")
                        .bind(user_id)
                        .bind(g.id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if n == 1 {
                        self.audit_in(&mut *tx, AuditEvent::new("member_removed")
                            .user(user_id)
                            .details(json!({"group": group}))).await?;
                        tx.principals_changed(Changed::User(user_id)).await?;
                    }
                    tx.commit().await?;
                    Ok(n == 1)
                })
            })
            .await?;
        self.invalidate_principals(user_id);
        Ok(removed)
    }

    /// The groups of user `user_id`, by name.
    pub async fn groups_of(&self, user_id: i64) -> Result<Vec<Group>> {
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let rows = sqlx::query(
                    "SELECT g.id, g.name, g.description, g.created_at FROM memberships m \
                     JOIN groups g ON g.id = m.group_id WHERE m.user_id = $1 ORDER BY g.name",
                )
                .bind(user_id)
                .fetch_all(pool)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    out.push(group_from_row!(r));
                }
                Ok(out)
            })
        })
        .await
    }

    /// The ids of the members of `group`, ascending.
    pub async fn members_of(&self, group: &str) -> Result<Vec<i64>> {
        let g = self.require_group(group).await?;
        on_pool!(&self.inner.backend, pool => {
            let rows = sqlx::query("SELECT user_id FROM memberships WHERE group_id = $1 ORDER BY user_id")
                .bind(g.id)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| r.try_get::<i64, _>("user_id").map_err(StoreError::from))
                .collect()
        })
    }

    /// Grants `permission` to `group`; returns false when already granted.
    pub async fn grant_permission(&self, group: &str, permission: &str) -> Result<bool> {
        check_group_name("permission", permission)?;
        let g = self.require_group(group).await?;
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let mut tx = pool.begin_write().await?;
                let n = sqlx::query(
                    "INSERT INTO group_permissions (group_id, permission) VALUES ($1, $2) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(g.id)
                .bind(permission)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 1 {
                    self.audit_in(&mut *tx, AuditEvent::new("permission_granted")
                        .details(json!({"group": group, "permission": permission}))).await?;
                }
                tx.commit().await?;
                Ok(n == 1)
            })
        })
        .await
    }

    /// Revokes `permission` from `group`; returns false when it was not granted.
    pub async fn revoke_permission(&self, group: &str, permission: &str) -> Result<bool> {
        let g = self.require_group(group).await?;
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let mut tx = pool.begin_write().await?;
                let n = sqlx::query(
                    "DELETE FROM group_permissions WHERE group_id = $1 AND permission = $2",
                )
                .bind(g.id)
                .bind(permission)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 1 {
                    self.audit_in(&mut *tx, AuditEvent::new("permission_revoked")
                        .details(json!({"group": group, "permission": permission}))).await?;
                }
                tx.commit().await?;
                Ok(n == 1)
            })
        })
        .await
    }

    /// How many active users hold `permission` through their groups, leaving out what
    /// `without` names: the question "would anyone still hold it after this change?",
    /// asked before revoking a permission, removing a membership or deleting a group
    /// (the portal refuses to remove the last administrator this way).
    pub async fn count_permission_holders(
        &self,
        permission: &str,
        without: Without<'_>,
    ) -> Result<i64> {
        let (group, user) = match without {
            Without::Nothing => (None, None),
            Without::Group(g) => (Some(g), None),
            Without::Membership { user_id, group } => (Some(group), Some(user_id)),
        };
        // Without a user, a named group is left out entirely; with one, only that
        // user's membership in it.
        on_pool!(&self.inner.backend, pool => {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(DISTINCT u.id) FROM users u \
                 JOIN memberships m ON m.user_id = u.id \
                 JOIN groups g ON g.id = m.group_id \
                 JOIN group_permissions p ON p.group_id = g.id \
                 WHERE p.permission = $1 AND u.status = 'active' \
                 AND NOT (g.name = COALESCE($2, '') AND ($3 IS NULL OR u.id = $3))",
            )
            .bind(permission)
            .bind(group)
            .bind(user)
            .fetch_one(pool)
            .await?;
            Ok(n)
        })
    }

    /// The permissions granted to `group`, sorted.
    pub async fn group_permissions(&self, group: &str) -> Result<Vec<String>> {
        let g = self.require_group(group).await?;
        on_pool!(&self.inner.backend, pool => {
            let rows = sqlx::query(
                "SELECT permission FROM group_permissions WHERE group_id = $1 ORDER BY permission",
            )
            .bind(g.id)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| r.try_get::<String, _>("permission").map_err(StoreError::from))
                .collect()
        })
    }
}

/// What [`Store::count_permission_holders`] leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Without<'a> {
    /// Nothing: the holders as they are.
    Nothing,
    /// Every membership in this group (as if it no longer granted the permission).
    Group(&'a str),
    /// One user's membership in one group.
    Membership {
        /// The user.
        user_id: i64,
        /// The group.
        group: &'a str,
    },
}
