//! The store's error type.

use std::time::Duration;

/// Everything that can go wrong in the store.
///
/// Messages are lowercase without a trailing period; user input is quoted in backticks.
/// No database driver type appears here: driver errors are translated into text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A uniqueness rule was violated: `field` is `username`, `email`, `sso_id`, `group`,
    /// `token`, ...
    #[error("a record with this {field} already exists")]
    Conflict {
        /// The field whose value is already taken.
        field: &'static str,
    },
    /// The named record does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked up, for example "user `alice`".
        what: String,
    },
    /// The database could not be reached or opened.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database stayed locked (SQLite `SQLITE_BUSY`) after the busy timeout and retries.
    #[error("database is locked (gave up after {waited:?})")]
    Locked {
        /// Roughly how long the store waited.
        waited: Duration,
    },
    /// An argument was rejected before reaching the database.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The argument.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The database URL is not understood.
    #[error("unsupported database url `{url}`: {reason}")]
    InvalidUrl {
        /// The URL, with any password removed.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The schema in the database is newer than this build knows.
    #[error("database schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew {
        /// The version found in the database.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// A migration failed.
    #[error("migration {version} failed: {reason}")]
    Migration {
        /// The migration's version.
        version: i64,
        /// The database's message.
        reason: String,
    },
    /// Password hashing or policy failed.
    #[error(transparent)]
    Password(#[from] crate::password::PasswordError),
    /// A new password was refused by the password policy.
    #[error(transparent)]
    PasswordPolicy(crate::password::PolicyViolation),
    /// Any other database error (message from the driver).
    #[error("database error: {0}")]
    Database(String),
    /// Stored data could not be decoded (a corrupt row or an incompatible schema).
    #[error("corrupt data in column `{column}`: {reason}")]
    Corrupt {
        /// The column.
        column: &'static str,
        /// What was wrong.
        reason: String,
    },
}

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    pub(crate) fn not_found(what: impl Into<String>) -> StoreError {
        StoreError::NotFound { what: what.into() }
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> StoreError {
        StoreError::InvalidInput {
            field,
            reason: reason.into(),
        }
    }

    /// True for errors worth retrying unchanged (a busy SQLite database).
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Locked { .. })
    }
}

/// The unique indexes of the schema and the field each one protects.
const UNIQUE_FIELDS: &[(&str, &str)] = &[
    ("users_username_key", "username"),
    ("users.username", "username"),
    ("users_email_key", "email"),
    ("users.email_norm", "email"),
    ("users_sso_id_key", "sso_id"),
    ("users.sso_id", "sso_id"),
    ("groups_name_key", "group"),
    ("groups.name", "group"),
    ("api_tokens", "token"),
    ("action_tokens", "token"),
    ("tags", "tag"),
    ("memberships", "membership"),
    ("group_permissions", "permission"),
];

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> StoreError {
        match err {
            sqlx::Error::Database(db) => {
                if db.is_unique_violation() {
                    let text = format!("{} {}", db.constraint().unwrap_or(""), db.message());
                    let field = UNIQUE_FIELDS
                        .iter()
                        .find(|(needle, _)| text.contains(needle))
                        .map_or("value", |(_, field)| *field);
                    return StoreError::Conflict { field };
                }
                // SQLite: SQLITE_BUSY (5) and its extended codes, SQLITE_LOCKED (6).
                let code = db.code();
                let code = code.as_deref().unwrap_or("");
                let primary = code.parse::<i64>().map(|c| c & 0xff).unwrap_or(-1);
                if primary == 5 || primary == 6 {
                    return StoreError::Locked {
                        waited: Duration::ZERO,
                    };
                }
                // PostgreSQL: connection exceptions (08xxx), the server ending the session
                // (57P01 admin shutdown, 57P02 crash shutdown, 57P05 idle session timeout),
                // cannot connect now (57P03), too many connections (53300).
                if code.starts_with("08")
                    || matches!(code, "57P01" | "57P02" | "57P03" | "57P05" | "53300")
                {
                    return StoreError::Unavailable(db.message().to_owned());
                }
                StoreError::Database(db.message().to_owned())
            }
            sqlx::Error::PoolTimedOut => {
                StoreError::Unavailable("timed out waiting for a database connection".into())
            }
            sqlx::Error::PoolClosed => StoreError::Unavailable("the store was closed".into()),
            sqlx::Error::Io(e) => StoreError::Unavailable(e.to_string()),
            sqlx::Error::Tls(e) => StoreError::Unavailable(format!("tls: {e}")),
            sqlx::Error::Configuration(e) => StoreError::Unavailable(e.to_string()),
            sqlx::Error::WorkerCrashed => {
                StoreError::Unavailable("the sqlite worker thread stopped".into())
            }
            other => StoreError::Database(other.to_string()),
        }
    }
}
