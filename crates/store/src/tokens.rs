//! API tokens and one-time action tokens.
//!
//! Both are 32 random bytes from the operating system, shown to the caller once, and
//! stored only as the SHA-256 of the token string (hex). An API token looks like
//! `pct_<43 base64url chars>`; its first 12 characters (`pct_` + 8) are kept as a
//! non-secret prefix for listing. Action tokens (e-mail verification, password reset,
//! magic link) expire, are consumed atomically by a single `UPDATE ... RETURNING`
//! (two concurrent redemptions cannot both succeed), and are deleted when the user's
//! password or e-mail changes.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use serde_json::json;
use sha2::Digest as _;
use sqlx::Row;
use time::OffsetDateTime;

use crate::audit::AuditEvent;
use crate::backend::{BeginWrite, on_pool};
use crate::clock::from_unix;
use crate::error::{Result, StoreError};
use crate::model::{User, UserStatus};
use crate::store::Store;
use crate::users::{USER_COLUMNS, user_from_row};

const API_PREFIX: &str = "pct_";
const ACTION_PREFIX: &str = "pca_";

fn random_token(prefix: &str) -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Database(format!("random: {e}")))?;
    let mut s = String::with_capacity(prefix.len() + 43);
    s.push_str(prefix);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(bytes, &mut s);
    Ok(s)
}

/// SHA-256 of the token string, hex: the stored form.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// An API token as listed (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// The token id (used to revoke it).
    pub id: i64,
    /// The owner.
    pub user_id: i64,
    /// A label.
    pub name: String,
    /// The token's first 12 characters, for recognizing it.
    pub prefix: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it stops working, if ever.
    pub expires_at: Option<OffsetDateTime>,
    /// When it was last used.
    pub last_used_at: Option<OffsetDateTime>,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
}

/// A freshly created API token: `secret` is shown once and never stored.
#[derive(Clone)]
pub struct NewApiToken {
    /// The stored record.
    pub token: ApiToken,
    /// The bearer token to hand to the client.
    pub secret: String,
}

impl fmt::Debug for NewApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewApiToken")
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// What a one-time action token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionPurpose {
    /// Confirms an e-mail address.
    VerifyEmail,
    /// Allows setting a new password.
    ResetPassword,
    /// Logs in without a password.
    MagicLink,
}

impl ActionPurpose {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionPurpose::VerifyEmail => "verify_email",
            ActionPurpose::ResetPassword => "reset_password",
            ActionPurpose::MagicLink => "magic_link",
        }
    }
}

macro_rules! api_token_from_row {
    ($row:expr) => {{
        let r = $row;
        let expires: Option<i64> = r.try_get("expires_at")?;
        let used: Option<i64> = r.try_get("last_used_at")?;
        let revoked: Option<i64> = r.try_get("revoked_at")?;
        ApiToken {
            id: r.try_get("id")?,
            user_id: r.try_get("user_id")?,
            name: r.try_get("name")?,
            prefix: r.try_get("prefix")?,
            created_at: from_unix(r.try_get("created_at")?),
            expires_at: expires.map(from_unix),
            last_used_at: used.map(from_unix),
            revoked_at: revoked.map(from_unix),
        }
    }};
}

const TOKEN_COLUMNS: &str =
    "id, user_id, name, prefix, created_at, expires_at, last_used_at, revoked_at";

impl Store {
    /// Creates an API token for `user_id`, valid for `ttl` (forever when `None`).
    pub async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        ttl: Option<Duration>,
    ) -> Result<NewApiToken> {
        let secret = random_token(API_PREFIX)?;
        let prefix: String = secret.chars().take(API_PREFIX.len() + 8).collect();
        let hash = token_hash(&secret);
        let now = self.now_unix();
        let expires =
            ttl.map(|d| now.saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)));
        let token = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let mut tx = pool.begin_write().await?;
                    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO api_tokens (user_id, name, prefix, token_hash, created_at, expires_at) \
                         SELECT id, $2, $3, $4, $5, $6 FROM users WHERE id = $1 RETURNING {TOKEN_COLUMNS}"
                    )))
                    .bind(user_id)
                    .bind(name)
                    .bind(&prefix)
                    .bind(&hash)
                    .bind(now)
                    .bind(expires)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::not_found(format!("user {user_id}")))?;
                    let t = api_token_from_row!(&row);
                    self.audit_in(&mut *tx, AuditEvent::new("api_token_created")
                        .user(user_id)
                        .details(json!({"token_id": t.id, "prefix": t.prefix, "name": name}))).await?;
                    tx.commit().await?;
                    Ok(t)
                })
            })
            .await?;
        Ok(NewApiToken { token, secret })
    }

    /// The API tokens of `user_id` (all users when `None`), newest first.
    pub async fn list_api_tokens(&self, user_id: Option<i64>) -> Result<Vec<ApiToken>> {
        on_pool!(&self.inner.backend, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE ($1 IS NULL OR user_id = $1) ORDER BY id DESC"
            )))
            .bind(user_id)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                out.push(api_token_from_row!(r));
            }
            Ok(out)
        })
    }

    /// Revokes API token `id`; returns false when there is none or it was already revoked.
    pub async fn revoke_api_token(&self, id: i64) -> Result<bool> {
        let now = self.now_unix();
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let mut tx = pool.begin_write().await?;
                let row = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL \
                     RETURNING user_id",
                )
                .bind(id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    return Ok(false);
                };
                let user_id: i64 = row.try_get("user_id")?;
                self.audit_in(&mut *tx, AuditEvent::new("api_token_revoked")
                    .user(user_id)
                    .details(json!({"token_id": id}))).await?;
                tx.commit().await?;
                Ok(true)
            })
        })
        .await
    }

    /// The owner of API token `secret` if the token is known, not revoked, not expired,
    /// and its owner is active; records the use.
    pub async fn authenticate_api_token(&self, secret: &str) -> Result<Option<User>> {
        if !secret.starts_with(API_PREFIX) {
            return Ok(None);
        }
        let hash = token_hash(secret);
        let now = self.now_unix();
        let user_cols = USER_COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT t.id AS token_id, {user_cols} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL \
             AND (t.expires_at IS NULL OR t.expires_at > $2)"
        );
        let found = self
            .retry(|| async {
                on_pool!(&self.inner.backend, pool => {
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                        .bind(&hash)
                        .bind(now)
                        .fetch_optional(pool)
                        .await?;
                    let Some(row) = row else {
                        return Ok(None);
                    };
                    let token_id: i64 = row.try_get("token_id")?;
                    let user = user_from_row!(&row);
                    sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                        .bind(token_id)
                        .bind(now)
                        .execute(pool)
                        .await?;
                    Ok(Some(user))
                })
            })
            .await?;
        Ok(found.filter(|u| u.status == UserStatus::Active))
    }

    /// Creates a one-time token for `purpose`, valid for `ttl`. Returns the secret to
    /// send (by e-mail); only its hash is stored.
    pub async fn create_action_token(
        &self,
        user_id: i64,
        purpose: ActionPurpose,
        ttl: Duration,
    ) -> Result<String> {
        let secret = random_token(ACTION_PREFIX)?;
        let hash = token_hash(&secret);
        let now = self.now_unix();
        let expires = now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let mut tx = pool.begin_write().await?;
                let n = sqlx::query(
                    "INSERT INTO action_tokens (user_id, purpose, token_hash, created_at, expires_at) \
                     SELECT id, $2, $3, $4, $5 FROM users WHERE id = $1",
                )
                .bind(user_id)
                .bind(purpose.as_str())
                .bind(&hash)
                .bind(now)
                .bind(expires)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(StoreError::not_found(format!("user {user_id}")));
                }
                self.audit_in(&mut *tx, AuditEvent::new("action_token_created")
                    .user(user_id)
                    .details(json!({"purpose": purpose.as_str()}))).await?;
                tx.commit().await?;
                Ok(())
            })
        })
        .await?;
        Ok(secret)
    }

    /// Redeems a one-time token: atomically marks it used and returns its user id, or
    /// `None` when it is unknown, for another purpose, expired or already used.
    pub async fn consume_action_token(
        &self,
        purpose: ActionPurpose,
        secret: &str,
    ) -> Result<Option<i64>> {
        let hash = token_hash(secret);
        let now = self.now_unix();
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let mut tx = pool.begin_write().await?;
                let row = sqlx::query(
                    "UPDATE action_tokens SET consumed_at = $3 \
                     WHERE token_hash = $1 AND purpose = $2 AND consumed_at IS NULL AND expires_at > $3 \
                     RETURNING user_id",
                )
                .bind(&hash)
                .bind(purpose.as_str())
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let user_id: i64 = row.try_get("user_id")?;
                self.audit_in(&mut *tx, AuditEvent::new("action_token_consumed")
                    .user(user_id)
                    .details(json!({"purpose": purpose.as_str()}))).await?;
                tx.commit().await?;
                Ok(Some(user_id))
            })
        })
        .await
    }

    /// Deletes expired and consumed action tokens older than `now`; returns how many.
    pub async fn purge_action_tokens(&self) -> Result<u64> {
        let now = self.now_unix();
        on_pool!(&self.inner.backend, pool => {
            Ok(sqlx::query("DELETE FROM action_tokens WHERE expires_at <= $1 OR consumed_at IS NOT NULL")
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected())
        })
    }
}
