//! Bulk import of users with existing password hashes, and their groups.
//!
//! [`Store::import_batch`] writes one batch in ONE transaction: either every user of the
//! batch (with its memberships) is stored, or none is. A process killed mid-import thus
//! leaves whole batches only; importing the same file again skips the users already
//! present (matched by any unique field: username, e-mail, SSO id) and continues, so an
//! interrupted import is resumed by running it again.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::json;
use sqlx::Row;

use crate::audit::AuditEvent;
use crate::backend::{BeginWrite, on_pool};
use crate::error::{Result, StoreError};
use crate::groups::check_group_name;
use crate::model::UserStatus;
use crate::store::Store;
use crate::users::{check_username, normalize_email};

/// One user to import.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImportUser {
    /// Login name (required).
    pub username: String,
    /// E-mail address.
    pub email: Option<String>,
    /// The existing password hash (any format the password module verifies), stored as is.
    #[serde(alias = "password")]
    pub password_hash: Option<String>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Single-sign-on id.
    pub sso_id: Option<String>,
    /// `active` (default), `pending` or `blocked`.
    pub status: Option<String>,
    /// Group names; missing groups are created.
    pub groups: Vec<String>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportStats {
    /// Users inserted.
    pub inserted: u64,
    /// Users skipped because one already had the username, e-mail or SSO id.
    pub skipped: u64,
    /// Groups created.
    pub groups_created: u64,
    /// Memberships added.
    pub memberships: u64,
}

impl ImportStats {
    /// Adds another batch's figures.
    pub fn add(&mut self, other: ImportStats) {
        self.inserted += other.inserted;
        self.skipped += other.skipped;
        self.groups_created += other.groups_created;
        self.memberships += other.memberships;
    }
}

struct Checked<'a> {
    user: &'a ImportUser,
    email_norm: Option<String>,
    status: UserStatus,
}

fn check(user: &ImportUser) -> Result<Checked<'_>> {
    check_username(&user.username)?;
    let email_norm = user
        .email
        .as_deref()
        .filter(|e| !e.is_empty())
        .map(normalize_email)
        .transpose()?;
    let status = match user.status.as_deref() {
        None | Some("") => UserStatus::Active,
        Some(s) => UserStatus::parse(s).ok_or_else(|| {
            StoreError::invalid("status", format!("`{s}` is not active, pending or blocked"))
        })?,
    };
    for g in &user.groups {
        check_group_name("group", g)?;
    }
    Ok(Checked {
        user,
        email_norm,
        status,
    })
}

impl Store {
    /// Imports `users` in one transaction (see the module docs). Validation errors name the
    /// user and abort the batch before anything is written.
    pub async fn import_batch(&self, users: &[ImportUser]) -> Result<ImportStats> {
        let mut checked = Vec::with_capacity(users.len());
        for u in users {
            checked.push(check(u).map_err(|e| match e {
                StoreError::InvalidInput { field, reason } => StoreError::InvalidInput {
                    field,
                    reason: format!("{reason} (user `{}`)", u.username),
                },
                other => other,
            })?);
        }
        let now = self.now_unix();
        let stats = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let mut tx = pool.begin_write().await?;
                    let mut stats = ImportStats::default();
                    let mut group_ids: HashMap<&str, i64> = HashMap::new();
                    for c in &checked {
                        let u = c.user;
                        let row = sqlx::query(
                            "INSERT INTO users (username, email, email_norm, password_hash, first_name, \
                             last_name, sso_id, status, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
                             ON CONFLICT DO NOTHING RETURNING id",
                        )
                        .bind(&u.username)
                        .bind(u.email.as_deref().filter(|e| !e.is_empty()))
                        .bind(&c.email_norm)
                        .bind(u.password_hash.as_deref().filter(|h| !h.is_empty()))
                        .bind(&u.first_name)
                        .bind(&u.last_name)
                        .bind(u.sso_id.as_deref().filter(|s| !s.is_empty()))
                        .bind(c.status.as_str())
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await?;
                        let Some(row) = row else {
                            stats.skipped += 1;
                            continue;
                        };
                        stats.inserted += 1;
                        let user_id: i64 = row.try_get("id")?;
                        for g in &u.groups {
                            let gid = match group_ids.get(g.as_str()) {
                                Some(id) => *id,
                                None => {
                                    stats.groups_created += sqlx::query(
                                        "INSERT INTO groups (name, description, created_at) \
                                         VALUES ($1, '', $2) ON CONFLICT DO NOTHING",
                                    )
                                    .bind(g)
                                    .bind(now)
                                    .execute(&mut *tx)
                                    .await?
                                    .rows_affected();
                                    let id: i64 = sqlx::query("SELECT id FROM groups WHERE name = $1")
                                        .bind(g)
                                        .fetch_one(&mut *tx)
                                        .await?
                                        .try_get("id")?;
                                    group_ids.insert(g.as_str(), id);
                                    id
                                }
                            };
                            stats.memberships += sqlx::query(
                                "INSERT INTO memberships (user_id, group_id, created_at) \
                                 VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                            )
                            .bind(user_id)
                            .bind(gid)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                        }
                    }
                    self.audit_in(&mut *tx, AuditEvent::new("import_batch").details(json!({
                        "inserted": stats.inserted,
                        "skipped": stats.skipped,
                        "groups_created": stats.groups_created,
                    }))).await?;
                    tx.commit().await?;
                    Ok(stats)
                })
            })
            .await?;
        if stats.inserted > 0 {
            self.invalidate_all_principals();
        }
        Ok(stats)
    }
}
