//! Users: create, read, list, update, passwords, status, deletion, login bookkeeping.

use serde_json::json;
use sqlx::{AssertSqlSafe, Row};

use crate::audit::AuditEvent;
use crate::backend::{AnnounceChange, BeginWrite, Changed, on_pool};
use crate::clock::from_unix;
use crate::error::{Result, StoreError};
use crate::model::{NewUser, User, UserQuery, UserStatus, UserUpdate};
use crate::store::Store;
use crate::tags::TagIndex as _;

pub(crate) const USER_COLUMNS: &str = "id, username, email, password_hash, first_name, last_name, \
     sso_id, action_token, status, failed_logins, created_at, updated_at, last_login_at";

/// Decodes a `users` row selected with [`USER_COLUMNS`].
macro_rules! user_from_row {
    ($row:expr) => {{
        let row = $row;
        let status: String = row.try_get("status")?;
        let last: Option<i64> = row.try_get("last_login_at")?;
        $crate::model::User {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            email: row.try_get("email")?,
            password_hash: row.try_get("password_hash")?,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            sso_id: row.try_get("sso_id")?,
            action_token: row.try_get("action_token")?,
            status: $crate::model::UserStatus::parse(&status).ok_or_else(|| {
                $crate::error::StoreError::Corrupt {
                    column: "users.status",
                    reason: format!("unknown status `{status}`"),
                }
            })?,
            failed_logins: row.try_get("failed_logins")?,
            created_at: from_unix(row.try_get("created_at")?),
            updated_at: from_unix(row.try_get("updated_at")?),
            last_login_at: last.map(from_unix),
        }
    }};
}
pub(crate) use user_from_row;

/// Checks a username: 1..=255 bytes, no control characters, no surrounding whitespace.
pub(crate) fn check_username(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(StoreError::invalid("username", "must not be empty"));
    }
    if name.len() > 255 {
        return Err(StoreError::invalid("username", "longer than 255 bytes"));
    }
    if name.chars().any(char::is_control) {
        return Err(StoreError::invalid(
            "username",
            format!("`{}` contains a control character", name.escape_debug()),
        ));
    }
    if name.trim() != name {
        return Err(StoreError::invalid(
            "username",
            format!("`{name}` starts or ends with whitespace"),
        ));
    }
    Ok(())
}

/// Checks an e-mail address (shape only) and returns its normalized (lowercase) form.
pub(crate) fn normalize_email(email: &str) -> Result<String> {
    let bad = |reason: &str| StoreError::invalid("email", format!("`{email}` {reason}"));
    if email.len() > 320 {
        return Err(bad("is longer than 320 bytes"));
    }
    if email.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("contains whitespace or a control character"));
    }
    match email.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {}
        _ => return Err(bad("is not an e-mail address")),
    }
    Ok(email.to_lowercase())
}

fn check_name(field: &'static str, value: &str) -> Result<()> {
    if value.len() > 255 {
        return Err(StoreError::invalid(field, "longer than 255 bytes"));
    }
    if value.chars().any(char::is_control) {
        return Err(StoreError::invalid(field, "contains a control character"));
    }
    Ok(())
}

impl Store {
    /// Creates a user. A plaintext password is checked against the password policy and
    /// hashed with argon2id; an existing hash is stored verbatim.
    ///
    /// Errors: [`StoreError::Conflict`] with `field` `username`, `email` or `sso_id` when
    /// taken (e-mail compared ignoring case), [`StoreError::InvalidInput`] for bad values.
    pub async fn create_user(&self, new: NewUser) -> Result<User> {
        check_username(&new.username)?;
        let email_norm = new.email.as_deref().map(normalize_email).transpose()?;
        check_name("first_name", &new.first_name)?;
        check_name("last_name", &new.last_name)?;
        let hash = match (&new.password, &new.password_hash) {
            (Some(pw), _) => Some(crate::credentials::hash_new(self, pw, &new.username).await?),
            (None, Some(h)) => Some(h.clone()),
            (None, None) => None,
        };
        let now = self.now_unix();
        let status = new.status.unwrap_or(UserStatus::Active);
        let user = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let mut tx = pool.begin_write().await?;
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "INSERT INTO users (username, email, email_norm, password_hash, first_name, \
                         last_name, sso_id, status, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING {USER_COLUMNS}"
                    )))
                    .bind(&new.username)
                    .bind(&new.email)
                    .bind(&email_norm)
                    .bind(&hash)
                    .bind(&new.first_name)
                    .bind(&new.last_name)
                    .bind(&new.sso_id)
                    .bind(status.as_str())
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    let user = user_from_row!(&row);
                    self.audit_in(&mut *tx, AuditEvent::new("user_created")
                        .user(user.id)
                        .details(json!({"username": user.username}))).await?;
                    tx.commit().await?;
                    Ok(user)
                })
            })
            .await?;
        self.invalidate_principals(user.id);
        Ok(user)
    }

    async fn user_where(&self, clause: &str, value: Value<'_>) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {clause}");
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let q = sqlx::query(AssertSqlSafe(sql.clone()));
                let q = match value {
                    Value::Int(i) => q.bind(i),
                    Value::Text(s) => q.bind(s.to_owned()),
                };
                match q.fetch_optional(pool).await? {
                    Some(row) => Ok(Some(user_from_row!(&row))),
                    None => Ok(None),
                }
            })
        })
        .await
    }

    /// The user with id `id`.
    pub async fn get_user(&self, id: i64) -> Result<Option<User>> {
        self.user_where("id = $1", Value::Int(id)).await
    }

    /// The user named exactly `username`.
    pub async fn get_user_by_username(&self, username: &str) -> Result<Option<User>> {
        self.user_where("username = $1", Value::Text(username))
            .await
    }

    /// The user with e-mail `email` (ignoring case).
    pub async fn get_user_by_email(&self, email: &str) -> Result<Option<User>> {
        self.user_where("email_norm = $1", Value::Text(&email.to_lowercase()))
            .await
    }

    /// The user whose username is `login`, else whose e-mail is `login` (ignoring case).
    pub async fn get_user_by_login(&self, login: &str) -> Result<Option<User>> {
        if let Some(u) = self.get_user_by_username(login).await? {
            return Ok(Some(u));
        }
        if login.contains('@') {
            return self.get_user_by_email(login).await;
        }
        Ok(None)
    }

    /// Finds a user by a reference as typed by an administrator: a decimal id, else a
    /// username, else an e-mail address.
    pub async fn resolve_user(&self, reference: &str) -> Result<User> {
        if let Ok(id) = reference.parse::<i64>()
            && let Some(u) = self.get_user(id).await?
        {
            return Ok(u);
        }
        self.get_user_by_login(reference)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("user `{reference}`")))
    }

    /// Lists users ordered by id, filtered and paged by `query`.
    pub async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>> {
        let limit = i64::from(query.limit.unwrap_or(100).min(10_000));
        let (filter, pattern) = user_filter(query);
        let mut sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE {filter}");
        sql.push_str(" ORDER BY id LIMIT $5");
        let status = query.status.map(UserStatus::as_str);
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let rows = sqlx::query(AssertSqlSafe(sql.clone()))
                    .bind(query.after_id)
                    .bind(pattern.clone())
                    .bind(status)
                    .bind(query.group.clone())
                    .bind(limit)
                    .fetch_all(pool)
                    .await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in &rows {
                    out.push(user_from_row!(row));
                }
                Ok(out)
            })
        })
        .await
    }

    /// One page of the users matching `query` (search, status, group; `after_id` too),
    /// ordered by id, skipping the first `offset` matches and returning at most
    /// `query.limit` (default 100, capped at 10 000), with the number of all matches.
    ///
    /// For the admin UI's numbered pages; large offsets cost a scan of the skipped rows,
    /// so keyset paging ([`Store::list_users`] with `after_id`) suits exports better.
    pub async fn search_users(&self, query: &UserQuery, offset: u64) -> Result<(Vec<User>, i64)> {
        let limit = i64::from(query.limit.unwrap_or(100).min(10_000));
        let offset = i64::try_from(offset)
            .map_err(|_| StoreError::invalid("offset", "larger than the largest 64-bit integer"))?;
        let (filter, pattern) = user_filter(query);
        let list = format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE {filter} ORDER BY id LIMIT $5 OFFSET $6"
        );
        let count = format!("SELECT COUNT(*) AS n FROM users u WHERE {filter}");
        let status = query.status.map(UserStatus::as_str);
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let rows = sqlx::query(AssertSqlSafe(list.clone()))
                    .bind(query.after_id)
                    .bind(pattern.clone())
                    .bind(status)
                    .bind(query.group.clone())
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(pool)
                    .await?;
                let mut out = Vec::with_capacity(rows.len());
                for row in &rows {
                    out.push(user_from_row!(row));
                }
                let total: i64 = sqlx::query(AssertSqlSafe(count.clone()))
                .bind(query.after_id)
                .bind(pattern.clone())
                .bind(status)
                .bind(query.group.clone())
                .fetch_one(pool)
                .await?
                .try_get("n")?;
                Ok((out, total))
            })
        })
        .await
    }

    /// Removes the password of user `id` (nobody can log in with one until a new one is
    /// set, for example through a reset link), ends every session of the user kept in
    /// this store and deletes their one-time action tokens, in one transaction audited as
    /// `password_invalidated`. An administrator's "force password reset".
    pub async fn invalidate_password(&self, id: i64) -> Result<()> {
        self.replace_password_hash(id, None, |id, sessions| {
            AuditEvent::new("password_invalidated")
                .user(id)
                .details(json!({"sessions_ended": sessions}))
        })
        .await
    }

    /// Sets (or, with `None`, removes) user `id`'s password hash and, in the same
    /// transaction, deletes the user's one-time action tokens and the sessions kept in
    /// this store, audited with `event(id, sessions ended)`.
    async fn replace_password_hash(
        &self,
        id: i64,
        hash: Option<&str>,
        event: fn(i64, u64) -> AuditEvent,
    ) -> Result<()> {
        let now = self.now_unix();
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let mut tx = pool.begin_write().await?;
                let n = sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n == 0 {
                    return Err(StoreError::not_found(format!("user {id}")));
                }
                sqlx::query("DELETE FROM action_tokens WHERE user_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                self.audit_in(&mut *tx, event(id, sessions)).await?;
                tx.commit().await?;
                Ok(())
            })
        })
        .await
    }

    /// The number of users.
    pub async fn count_users(&self) -> Result<i64> {
        on_pool!(&self.inner.backend, pool => {
            let row = sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(pool).await?;
            Ok(row.try_get::<i64, _>("n")?)
        })
    }

    /// Updates profile fields. Changing the e-mail invalidates pending action tokens.
    pub async fn update_user(&self, id: i64, update: &UserUpdate) -> Result<User> {
        if let Some(name) = &update.username {
            check_username(name)?;
        }
        let email_norm = match &update.email {
            Some(Some(e)) => Some(Some(normalize_email(e)?)),
            Some(None) => Some(None),
            None => None,
        };
        if let Some(v) = &update.first_name {
            check_name("first_name", v)?;
        }
        if let Some(v) = &update.last_name {
            check_name("last_name", v)?;
        }
        let now = self.now_unix();
        let user = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let mut tx = pool.begin_write().await?;
                    let old = sqlx::query(AssertSqlSafe(format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
                    )))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(old) = old else {
                        return Err(StoreError::not_found(format!("user {id}")));
                    };
                    let old = user_from_row!(&old);
                    let email = update.email.clone().unwrap_or(old.email.clone());
                    let email_norm = email_norm.clone().unwrap_or_else(|| {
                        old.email.as_deref().map(str::to_lowercase)
                    });
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "UPDATE users SET username = $2, email = $3, email_norm = $4, \
                         first_name = $5, last_name = $6, sso_id = $7, action_token = $8, \
                         updated_at = $9 WHERE id = $1 RETURNING {USER_COLUMNS}"
                    )))
                    .bind(id)
                    .bind(update.username.clone().unwrap_or(old.username.clone()))
                    .bind(&email)
                    .bind(&email_norm)
                    .bind(update.first_name.clone().unwrap_or(old.first_name.clone()))
                    .bind(update.last_name.clone().unwrap_or(old.last_name.clone()))
                    .bind(update.sso_id.clone().unwrap_or(old.sso_id.clone()))
                    .bind(update.action_token.clone().unwrap_or(old.action_token.clone()))
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    let user = user_from_row!(&row);
                    if user.email != old.email {
                        sqlx::query("DELETE FROM action_tokens WHERE user_id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                        self.audit_in(&mut *tx, AuditEvent::new("email_changed")
                            .user(id)
                            .details(json!({"old": old.email, "new": user.email}))).await?;
                    }
                    if user.username != old.username {
                        self.audit_in(&mut *tx, AuditEvent::new("username_changed")
                            .user(id)
                            .details(json!({"old": old.username, "new": user.username}))).await?;
                        tx.principals_changed(Changed::User(id)).await?;
                    }
                    tx.commit().await?;
                    Ok(user)
                })
            })
            .await?;
        self.invalidate_principals(id);
        Ok(user)
    }

    /// Sets a new password (policy-checked, argon2id) and invalidates the user's
    /// one-time action tokens (reset links, magic links, e-mail verification).
    pub async fn set_password(&self, id: i64, password: &str) -> Result<()> {
        let user = self
            .get_user(id)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("user {id}")))?;
        let hash = crate::credentials::hash_new(self, password, &user.username).await?;
        self.set_password_hash(id, &hash).await
    }

    /// Stores `hash` verbatim as the user's password hash (administrative import) and
    /// invalidates the user's one-time action tokens and their server-side sessions kept in
    /// this store (a stolen session dies with the old password; sessions kept in Redis are
    /// revoked with `SessionManager::revoke_user` in `portcullis-web`).
    pub async fn set_password_hash(&self, id: i64, hash: &str) -> Result<()> {
        self.replace_password_hash(id, Some(hash), |id, _| {
            AuditEvent::new("password_changed").user(id)
        })
        .await
    }

    /// Sets the account status (block, unblock, activate after verification).
    pub async fn set_status(&self, id: i64, status: UserStatus) -> Result<User> {
        let now = self.now_unix();
        let user = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let mut tx = pool.begin_write().await?;
                    let row = sqlx::query(AssertSqlSafe(format!(
                        "UPDATE users SET status = $2, updated_at = $3 WHERE id = $1 \
                         RETURNING {USER_COLUMNS}"
                    )))
                    .bind(id)
                    .bind(status.as_str())
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(row) = row else {
                        return Err(StoreError::not_found(format!("user {id}")));
                    };
                    let user = user_from_row!(&row);
                    self.audit_in(&mut *tx, AuditEvent::new("status_changed")
                        .user(id)
                        .details(json!({"status": status.as_str()}))).await?;
                    tx.principals_changed(Changed::User(id)).await?;
                    tx.commit().await?;
                    Ok(user)
                })
            })
            .await?;
        self.invalidate_principals(id);
        Ok(user)
    }

    /// Blocks a user: logins fail and [`Store::principals_for`] answers `None`.
    pub async fn block_user(&self, id: i64) -> Result<User> {
        self.set_status(id, UserStatus::Blocked).await
    }

    /// Unblocks a user (status `active`) and resets the failed-login counter.
    pub async fn unblock_user(&self, id: i64) -> Result<User> {
        self.set_status(id, UserStatus::Active).await?;
        self.reset_failed_logins(id).await
    }

    async fn reset_failed_logins(&self, id: i64) -> Result<User> {
        on_pool!(&self.inner.backend, pool => {
            let row = sqlx::query(AssertSqlSafe(format!(
                "UPDATE users SET failed_logins = 0 WHERE id = $1 RETURNING {USER_COLUMNS}"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or_else(|| StoreError::not_found(format!("user {id}")))?;
            Ok(user_from_row!(&row))
        })
    }

    /// Deletes a user with its memberships, tokens and `users` tags. The audit log keeps
    /// its events. Returns false when there was no such user.
    pub async fn delete_user(&self, id: i64) -> Result<bool> {
        let deleted = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let mut tx = pool.begin_write().await?;
                    let row = sqlx::query("DELETE FROM users WHERE id = $1 RETURNING username")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(row) = row else {
                        return Ok(false);
                    };
                    let username: String = row.try_get("username")?;
                    tx.delete_record_tags(crate::tags::USERS, id).await?;
                    self.audit_in(&mut *tx, AuditEvent::new("user_deleted")
                        .user(id)
                        .details(json!({"username": username}))).await?;
                    tx.principals_changed(Changed::User(id)).await?;
                    tx.commit().await?;
                    Ok(true)
                })
            })
            .await?;
        self.invalidate_principals(id);
        Ok(deleted)
    }

    /// Checks `password` for the user whose username or e-mail is `login`.
    ///
    /// Returns the user on success (status `active` or `pending`; check `status` before
    /// starting a session), `None` on a wrong password, an unknown login (after a dummy
    /// verification of equal cost, so timing does not reveal which logins exist), a user
    /// without a password, or a blocked user. A success resets the failed-login counter,
    /// sets `last_login_at` and, when the stored hash is a legacy format or has outdated
    /// parameters, re-hashes the password with argon2id; a failure increments the counter
    /// and never re-hashes. Both are written to the audit log.
    pub async fn verify_password(&self, login: &str, password: &str) -> Result<Option<User>> {
        let user = self.get_user_by_login(login).await?;
        let Some(user) = user else {
            crate::credentials::dummy(self, password).await;
            self.audit(
                AuditEvent::new("login_failed")
                    .details(json!({"login": login, "reason": "unknown_login"})),
            )
            .await?;
            return Ok(None);
        };
        let Some(hash) = user.password_hash.clone() else {
            crate::credentials::dummy(self, password).await;
            self.record_login_failure(user.id, "no_password").await?;
            return Ok(None);
        };
        let outcome = crate::credentials::verify(self, password, &hash).await?;
        if !outcome.matched {
            self.record_login_failure(user.id, "wrong_password").await?;
            return Ok(None);
        }
        if user.status == UserStatus::Blocked {
            self.record_login_failure(user.id, "blocked").await?;
            return Ok(None);
        }
        let new_hash = if outcome.needs_rehash {
            Some(crate::credentials::rehash(self, password).await?)
        } else {
            None
        };
        self.record_login_success(user.id, Some(&hash), new_hash.as_deref())
            .await
            .map(Some)
    }

    /// Records a successful login: resets the failed counter, sets `last_login_at`, and
    /// when `new_hash` is given replaces the stored hash, but only if it is still
    /// `old_hash` (a password changed meanwhile is never overwritten).
    pub async fn record_login_success(
        &self,
        id: i64,
        old_hash: Option<&str>,
        new_hash: Option<&str>,
    ) -> Result<User> {
        let now = self.now_unix();
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let mut tx = pool.begin_write().await?;
                let row = sqlx::query(AssertSqlSafe(format!(
                    "UPDATE users SET failed_logins = 0, last_login_at = $2 WHERE id = $1 \
                     RETURNING {USER_COLUMNS}"
                )))
                .bind(id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found(format!("user {id}")))?;
                let mut user = user_from_row!(&row);
                if let (Some(old), Some(new)) = (old_hash, new_hash) {
                    let n = sqlx::query(
                        "UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3",
                    )
                    .bind(id)
                    .bind(new)
                    .bind(old)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 1 {
                        user.password_hash = Some(new.to_owned());
                        self.audit_in(&mut *tx, AuditEvent::new("password_rehashed").user(id)).await?;
                    }
                }
                self.audit_in(&mut *tx, AuditEvent::new("login_succeeded").user(id)).await?;
                tx.commit().await?;
                Ok(user)
            })
        })
        .await
    }

    /// Records a failed login (increments the counter); `reason` goes to the audit log.
    pub async fn record_login_failure(&self, id: i64, reason: &str) -> Result<i64> {
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let mut tx = pool.begin_write().await?;
                let row = sqlx::query(
                    "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 \
                     RETURNING failed_logins",
                )
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found(format!("user {id}")))?;
                let n: i64 = row.try_get("failed_logins")?;
                self.audit_in(&mut *tx, AuditEvent::new("login_failed")
                    .user(id)
                    .details(json!({"reason": reason, "failed_logins": n}))).await?;
                tx.commit().await?;
                Ok(n)
            })
        })
        .await
    }
}

/// The WHERE clause of a [`UserQuery`] (parameters `$1` after_id, `$2` search pattern,
/// `$3` status, `$4` group) and the LIKE pattern of its search.
fn user_filter(query: &UserQuery) -> (String, Option<String>) {
    let mut sql = String::from("id > $1");
    let pattern = query.search.as_ref().map(|s| {
        let escaped = s
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    if pattern.is_some() {
        sql.push_str(
            " AND (LOWER(username) LIKE $2 ESCAPE '\\' OR email_norm LIKE $2 ESCAPE '\\' \
             OR LOWER(first_name) LIKE $2 ESCAPE '\\' OR LOWER(last_name) LIKE $2 ESCAPE '\\')",
        );
    } else {
        sql.push_str(" AND $2 IS NULL");
    }
    sql.push_str(" AND ($3 IS NULL OR status = $3)");
    sql.push_str(
        " AND ($4 IS NULL OR EXISTS (SELECT 1 FROM memberships m JOIN groups g \
         ON g.id = m.group_id WHERE m.user_id = u.id AND g.name = $4))",
    );
    (sql, pattern)
}

#[derive(Clone, Copy)]
enum Value<'a> {
    Int(i64),
    Text(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email("Alice@Example.COM").unwrap(),
            "alice@example.com"
        );
        assert!(normalize_email("no-at-sign").is_err());
        assert!(normalize_email("a b@c").is_err());
        assert!(normalize_email("@c").is_err());
    }

    #[test]
    fn usernames_are_checked() {
        assert!(check_username("alice").is_ok());
        assert!(check_username("Ünïcode name").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username(" alice").is_err());
        assert!(check_username("a\nb").is_err());
        assert!(check_username(&"x".repeat(256)).is_err());
    }
}
