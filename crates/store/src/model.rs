//! The records the store hands out.

use std::fmt;

use time::OffsetDateTime;

/// A user's account status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserStatus {
    /// May log in and authenticates.
    Active,
    /// Registered, not yet verified (e-mail verification pending). Authenticates nobody
    /// unless [`crate::PrincipalsConfig::pending_authenticates`] is set.
    Pending,
    /// Blocked by an administrator: cannot log in, authenticates nobody.
    Blocked,
}

impl UserStatus {
    /// The stored form: `active`, `pending` or `blocked`.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Pending => "pending",
            UserStatus::Blocked => "blocked",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<UserStatus> {
        match s {
            "active" => Some(UserStatus::Active),
            "pending" => Some(UserStatus::Pending),
            "blocked" => Some(UserStatus::Blocked),
            _ => None,
        }
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user (py4web's `auth_user`, plus status and login bookkeeping).
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// The user id; `principals_for` uses its decimal form as the user's principal.
    pub id: i64,
    /// The login name, unique, compared exactly as given.
    pub username: String,
    /// The e-mail address as given; unique ignoring case.
    pub email: Option<String>,
    /// The PHC (or legacy) password hash; `None` for accounts without a password (SSO only).
    pub password_hash: Option<String>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// The identifier at a single-sign-on provider, unique when set.
    pub sso_id: Option<String>,
    /// py4web's `action_token` column (kept for compatibility and import).
    pub action_token: Option<String>,
    /// Account status.
    pub status: UserStatus,
    /// Failed logins since the last successful one.
    pub failed_logins: i64,
    /// When the account was created.
    pub created_at: OffsetDateTime,
    /// When the account last changed.
    pub updated_at: OffsetDateTime,
    /// The last successful login.
    pub last_login_at: Option<OffsetDateTime>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("email", &self.email)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("sso_id", &self.sso_id)
            .field("status", &self.status)
            .field("failed_logins", &self.failed_logins)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("last_login_at", &self.last_login_at)
            .finish_non_exhaustive()
    }
}

/// What [`crate::Store::create_user`] needs. Build with [`NewUser::new`] and the setters.
#[derive(Clone, Default)]
pub struct NewUser {
    /// Login name (required, 1..=255 bytes, no control characters).
    pub username: String,
    /// E-mail address (optional, unique ignoring case).
    pub email: Option<String>,
    /// A plaintext password to hash (checked against the password policy).
    pub password: Option<String>,
    /// An existing password hash to store as is (import); ignored when `password` is set.
    pub password_hash: Option<String>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Single-sign-on identifier.
    pub sso_id: Option<String>,
    /// Initial status (default `active`).
    pub status: Option<UserStatus>,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("email", &self.email)
            .field("first_name", &self.first_name)
            .field("last_name", &self.last_name)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl NewUser {
    /// A new active user named `username`, without e-mail or password.
    pub fn new(username: impl Into<String>) -> NewUser {
        NewUser {
            username: username.into(),
            ..NewUser::default()
        }
    }

    /// Sets the e-mail address.
    pub fn email(mut self, email: impl Into<String>) -> NewUser {
        self.email = Some(email.into());
        self
    }

    /// Sets a plaintext password (hashed with argon2id before storing).
    pub fn password(mut self, password: impl Into<String>) -> NewUser {
        self.password = Some(password.into());
        self
    }

    /// Sets an existing hash (stored verbatim; legacy formats are upgraded at the next login).
    pub fn password_hash(mut self, hash: impl Into<String>) -> NewUser {
        self.password_hash = Some(hash.into());
        self
    }

    /// Sets first and last name.
    pub fn name(mut self, first: impl Into<String>, last: impl Into<String>) -> NewUser {
        self.first_name = first.into();
        self.last_name = last.into();
        self
    }

    /// Sets the initial status.
    pub fn status(mut self, status: UserStatus) -> NewUser {
        self.status = Some(status);
        self
    }
}

/// A profile update: `None` fields stay unchanged.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// New username.
    pub username: Option<String>,
    /// New e-mail (`Some(None)` removes it). Changing it invalidates action tokens.
    pub email: Option<Option<String>>,
    /// New first name.
    pub first_name: Option<String>,
    /// New last name.
    pub last_name: Option<String>,
    /// New single-sign-on identifier (`Some(None)` removes it).
    pub sso_id: Option<Option<String>>,
    /// New py4web action token column value.
    pub action_token: Option<Option<String>>,
}

/// A page of [`crate::Store::list_users`].
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Case-insensitive substring of username, e-mail, first or last name.
    pub search: Option<String>,
    /// Only users with this status.
    pub status: Option<UserStatus>,
    /// Only members of this group.
    pub group: Option<String>,
    /// Users with an id greater than this (keyset paging; 0 = from the start).
    pub after_id: i64,
    /// At most this many (default 100, capped at 10 000).
    pub limit: Option<u32>,
}

/// A group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group id.
    pub id: i64,
    /// The unique name; principals are `group:NAME`.
    pub name: String,
    /// Free text.
    pub description: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

/// A TurboGears-style identity: the user, its group names and the groups' permissions.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The user.
    pub user: User,
    /// Group names, sorted.
    pub groups: Vec<String>,
    /// Permission names granted to any of the groups, sorted, without duplicates.
    pub permissions: Vec<String>,
}

/// How [`crate::Store::find_tagged`] combines several tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TagMatch {
    /// Records carrying (a tag within) every one of the tags.
    #[default]
    All,
    /// Records carrying (a tag within) at least one of the tags.
    Any,
}
