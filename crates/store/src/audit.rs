//! The append-only audit log of security events.
//!
//! The store writes an event, in the same transaction as the change, for: `user_created`,
//! `user_deleted`, `username_changed`, `email_changed`, `password_changed`,
//! `password_rehashed`, `password_invalidated`, `status_changed`, `login_succeeded`, `login_failed`,
//! `group_created`, `group_deleted`, `member_added`, `member_removed`,
//! `permission_granted`, `permission_revoked`, `api_token_created`, `api_token_revoked`,
//! `action_token_created`, `action_token_consumed`, `import_batch`. Applications add
//! their own with [`Store::audit`]. The database refuses UPDATE and DELETE on the table
//! (triggers), so history can only grow.

use serde_json::Value;
use sqlx::{AssertSqlSafe, Row};

use crate::backend::on_pool;
use crate::clock::from_unix;
use crate::error::{Result, StoreError};
use crate::store::Store;

/// An event to append to the audit log.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// The event kind (`login_failed`, ...).
    pub kind: String,
    /// The user concerned, if any.
    pub user_id: Option<i64>,
    /// Who acted (an admin name, `cli`, `self`); defaults to the store's actor.
    pub actor: Option<String>,
    /// The client's address; defaults to the store's.
    pub client_addr: Option<String>,
    /// Details (a JSON object).
    pub details: Value,
}

impl AuditEvent {
    /// An event of kind `kind` with no user and empty details.
    pub fn new(kind: impl Into<String>) -> AuditEvent {
        AuditEvent {
            kind: kind.into(),
            user_id: None,
            actor: None,
            client_addr: None,
            details: Value::Object(serde_json::Map::new()),
        }
    }

    /// Sets the user concerned.
    pub fn user(mut self, user_id: i64) -> AuditEvent {
        self.user_id = Some(user_id);
        self
    }

    /// Sets the actor.
    pub fn actor(mut self, actor: impl Into<String>) -> AuditEvent {
        self.actor = Some(actor.into());
        self
    }

    /// Sets the client address.
    pub fn client_addr(mut self, addr: impl Into<String>) -> AuditEvent {
        self.client_addr = Some(addr.into());
        self
    }

    /// Sets the details.
    pub fn details(mut self, details: Value) -> AuditEvent {
        self.details = details;
        self
    }
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Sequence number (increasing).
    pub id: i64,
    /// When it was written.
    pub at: time::OffsetDateTime,
    /// The event kind.
    pub kind: String,
    /// The user concerned.
    pub user_id: Option<i64>,
    /// Who acted.
    pub actor: Option<String>,
    /// The client's address.
    pub client_addr: Option<String>,
    /// Details (JSON).
    pub details: Value,
}

/// Filters for [`Store::list_audit`].
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only events of this user.
    pub user_id: Option<i64>,
    /// Only events of this kind.
    pub kind: Option<String>,
    /// Only events with an id below this (paging backwards; `None` = newest).
    pub before_id: Option<i64>,
    /// At most this many (default 100).
    pub limit: Option<u32>,
    /// Only events by this actor.
    pub actor: Option<String>,
    /// Only events at or after this instant (Unix seconds).
    pub since: Option<i64>,
    /// Only events before this instant (Unix seconds, exclusive).
    pub until: Option<i64>,
    /// Skips this many of the matching events (numbered pages; 0 = none).
    pub offset: u64,
}

/// The WHERE clause of an [`AuditQuery`], on parameters `$1` to `$6`.
const AUDIT_FILTER: &str = "($1 IS NULL OR user_id = $1) AND ($2 IS NULL OR event = $2) \
     AND ($3 IS NULL OR id < $3) AND ($4 IS NULL OR actor = $4) \
     AND ($5 IS NULL OR at >= $5) AND ($6 IS NULL OR at < $6)";

const INSERT: &str = "INSERT INTO audit_log (at, event, user_id, actor, client_addr, details) \
                      VALUES ($1, $2, $3, $4, $5, $6)";

/// A connection (or transaction) an audit row can be written on.
pub(crate) trait AuditExec {
    async fn insert_audit(self, at: i64, ev: &AuditEvent, details: String) -> Result<()>;
}

macro_rules! impl_audit_exec {
    ($conn:ty) => {
        impl AuditExec for &mut $conn {
            async fn insert_audit(self, at: i64, ev: &AuditEvent, details: String) -> Result<()> {
                sqlx::query(INSERT)
                    .bind(at)
                    .bind(&ev.kind)
                    .bind(ev.user_id)
                    .bind(&ev.actor)
                    .bind(&ev.client_addr)
                    .bind(details)
                    .execute(self)
                    .await?;
                Ok(())
            }
        }
    };
}
impl_audit_exec!(sqlx::SqliteConnection);
impl_audit_exec!(sqlx::PgConnection);

impl Store {
    fn complete(&self, mut ev: AuditEvent) -> AuditEvent {
        if ev.actor.is_none() {
            ev.actor.clone_from(&self.actor.actor);
        }
        if ev.client_addr.is_none() {
            ev.client_addr.clone_from(&self.actor.client_addr);
        }
        ev
    }

    /// Writes `ev` on `conn` (inside the caller's transaction).
    pub(crate) async fn audit_in(&self, conn: impl AuditExec, ev: AuditEvent) -> Result<()> {
        let ev = self.complete(ev);
        let details = ev.details.to_string();
        conn.insert_audit(self.now_unix(), &ev, details).await
    }

    /// Appends an event to the audit log.
    pub async fn audit(&self, ev: AuditEvent) -> Result<()> {
        let ev = self.complete(ev);
        let details = ev.details.to_string();
        let at = self.now_unix();
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let mut conn = pool.acquire().await?;
                (&mut *conn).insert_audit(at, &ev, details.clone()).await
            })
        })
        .await
    }

    /// Reads the audit log, newest first: the events matching `q`, skipping `q.offset`,
    /// at most `q.limit`.
    pub async fn list_audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>> {
        let limit = i64::from(q.limit.unwrap_or(100).min(10_000));
        let offset = i64::try_from(q.offset)
            .map_err(|_| StoreError::invalid("offset", "larger than the largest 64-bit integer"))?;
        let sql = format!(
            "SELECT id, at, event, user_id, actor, client_addr, details FROM audit_log \
             WHERE {AUDIT_FILTER} ORDER BY id DESC LIMIT $7 OFFSET $8"
        );
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let rows = sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(q.user_id)
                .bind(&q.kind)
                .bind(q.before_id)
                .bind(&q.actor)
                .bind(q.since)
                .bind(q.until)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let details: String = r.try_get("details")?;
                    out.push(AuditRecord {
                        id: r.try_get("id")?,
                        at: from_unix(r.try_get("at")?),
                        kind: r.try_get("event")?,
                        user_id: r.try_get("user_id")?,
                        actor: r.try_get("actor")?,
                        client_addr: r.try_get("client_addr")?,
                        details: serde_json::from_str(&details).map_err(|e| StoreError::Corrupt {
                            column: "audit_log.details",
                            reason: e.to_string(),
                        })?,
                    });
                }
                Ok(out)
            })
        })
        .await
    }

    /// How many events match `q` (its filters, `before_id` included; not `offset` or
    /// `limit`).
    pub async fn count_audit(&self, q: &AuditQuery) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) AS n FROM audit_log WHERE {AUDIT_FILTER}");
        self.retry(|| async {
            on_pool!(&self.inner.backend, pool => {
                let row = sqlx::query(AssertSqlSafe(sql.clone()))
                    .bind(q.user_id)
                    .bind(&q.kind)
                    .bind(q.before_id)
                    .bind(&q.actor)
                    .bind(q.since)
                    .bind(q.until)
                    .fetch_one(pool)
                    .await?;
                Ok(row.try_get::<i64, _>("n")?)
            })
        })
        .await
    }
}
