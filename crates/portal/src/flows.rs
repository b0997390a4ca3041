//! The account flows, shared by the JSON API (`api.rs`) and the HTML pages (`pages/`).
//!
//! Each flow takes its typed input and the request's [`Ctx`] and returns a typed outcome
//! or an [`ApiError`] (status, message, per-field messages). The adapters only parse the
//! request and shape the answer: every security rule (no enumeration, throttling, token
//! handling, current-password checks, audit, mail) lives here once.
//!
//! Logged-in flows take the [`User`] the adapter found (`ctx::require_user`); the adapter
//! decides what "not logged in" looks like (401 or a redirect to the login page).

use portcullis_store::{
    ActionPurpose, AuditEvent, NewUser, StoreError, User, UserStatus, UserUpdate,
};
use portcullis_web::session::Session;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::ctx::{Ctx, session_err, store_err};
use crate::envelope::{ApiError, Checks};
use crate::mail::TemplateMail;
use crate::state::PortalState;

pub(crate) const MAX_NAME: usize = 255;
pub(crate) const MAX_PASSWORD: usize = 1024;
pub(crate) const MAX_TOKEN: usize = 256;
const PENDING_EMAIL: &str = "pending_email:";

/// Path of the HTML page that verifies an e-mail address (link in mails).
pub(crate) const VERIFY_PAGE: &str = "/auth/verify_email";
/// Path of the HTML page that sets a new password with a reset token (link in mails).
pub(crate) const RESET_PAGE: &str = "/auth/reset_password";
/// Path of the HTML page that signs in with a magic-link token (link in mails).
pub(crate) const MAGIC_LOGIN_PAGE: &str = "/auth/magic_login";
/// Lifetime of a magic sign-in link: short, since the link alone logs in.
pub(crate) const MAGIC_LINK_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

// ---------------------------------------------------------------------------------------
// Inputs (also the JSON bodies of the API: their schemas are in the OpenAPI document)

/// `register`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterIn {
    /// The e-mail address (verified by mail when `verify_email` is on).
    #[schemars(email, length(min = 3, max = 320))]
    pub(crate) email: String,
    /// The password (the policy's minimum length, common passwords refused).
    #[schemars(length(min = 1, max = 1024))]
    pub(crate) password: String,
    /// The password again; must equal `password` when given.
    #[serde(default)]
    #[schemars(length(max = 1024))]
    pub(crate) password2: Option<String>,
    /// The username; the e-mail address when left out.
    #[serde(default)]
    #[schemars(length(min = 1, max = 255))]
    pub(crate) username: Option<String>,
    /// Given name.
    #[serde(default)]
    #[schemars(length(max = 255))]
    pub(crate) first_name: String,
    /// Family name.
    #[serde(default)]
    #[schemars(length(max = 255))]
    pub(crate) last_name: String,
}

/// `login`: `email` or `username` (either may hold the username or the e-mail address).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginIn {
    /// The username or e-mail address (give this or `username`, not both).
    #[serde(default)]
    #[schemars(length(min = 1, max = 320))]
    pub(crate) email: Option<String>,
    /// The username or e-mail address (give this or `email`, not both).
    #[serde(default)]
    #[schemars(length(min = 1, max = 320))]
    pub(crate) username: Option<String>,
    /// The password.
    #[schemars(length(min = 1, max = 1024))]
    pub(crate) password: String,
    /// Keep the session cookie after the browser closes (`Max-Age` up to the session's
    /// absolute expiry); server-side lifetimes are unchanged.
    #[serde(default)]
    pub(crate) remember: Option<bool>,
}

/// `logout`: no fields.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Empty {}

/// `profile` (POST).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfileIn {
    /// New given name (unchanged when left out).
    #[serde(default)]
    #[schemars(length(max = 255))]
    pub(crate) first_name: Option<String>,
    /// New family name (unchanged when left out).
    #[serde(default)]
    #[schemars(length(max = 255))]
    pub(crate) last_name: Option<String>,
}

/// `change_password`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangePasswordIn {
    /// The current password.
    #[schemars(length(min = 1, max = 1024))]
    pub(crate) old_password: String,
    /// The new password (the policy's rules).
    #[schemars(length(min = 1, max = 1024))]
    pub(crate) new_password: String,
    /// The new password again; must equal `new_password` when given.
    #[serde(default)]
    #[schemars(length(max = 1024))]
    pub(crate) new_password2: Option<String>,
}

/// `change_email`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangeEmailIn {
    /// The current password.
    #[schemars(length(min = 1, max = 1024))]
    pub(crate) password: String,
    /// The new address; it replaces the old one once its mailed link is used.
    #[schemars(email, length(min = 3, max = 320))]
    pub(crate) new_email: String,
}

/// `verify_email`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenIn {
    /// The token from the mailed link.
    #[schemars(length(min = 1, max = 256))]
    pub(crate) token: String,
}

/// `request_reset_password`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetRequestIn {
    /// The account's e-mail address.
    #[schemars(email, length(min = 3, max = 320))]
    pub(crate) email: String,
}

/// `reset_password`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetIn {
    /// The token from the mailed link.
    #[schemars(length(min = 1, max = 256))]
    pub(crate) token: String,
    /// The new password (the policy's rules).
    #[schemars(length(min = 1, max = 1024))]
    pub(crate) new_password: String,
    /// The new password again; must equal `new_password` when given.
    #[serde(default)]
    #[schemars(length(max = 1024))]
    pub(crate) new_password2: Option<String>,
}

/// `request_magic_link`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MagicLinkIn {
    /// The account's e-mail address.
    #[schemars(email, length(min = 3, max = 320))]
    pub(crate) email: String,
    /// Where the sign-in page sends the browser afterwards (a local path or a trusted
    /// origin; anything else is dropped). Carried in the mailed link.
    #[serde(default)]
    #[schemars(length(max = 2048))]
    pub(crate) came_from: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Outcomes

/// What `register` did, as far as the requester may know (never whether the account
/// existed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Registered {
    /// The account must be verified through the mailed link.
    CheckMail,
    /// The account is usable now (`verify_email` off).
    Done,
}

/// A successful login: the user and the `Set-Cookie` value of the new session.
#[derive(Debug)]
pub(crate) struct LoggedIn {
    pub(crate) user: User,
    pub(crate) cookie: String,
}

/// What a verification link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verified {
    /// A new account's address is verified (the account is active).
    Account,
    /// A pending e-mail change took effect.
    EmailChanged,
}

// ---------------------------------------------------------------------------------------
// Helpers

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn link(st: &PortalState, path: &str, token: &str) -> String {
    format!("{}{path}?token={token}", st.inner.config.base_url())
}

fn page(st: &PortalState, path: &str) -> String {
    format!("{}{path}", st.inner.config.base_url())
}

fn verify_minutes(st: &PortalState) -> u64 {
    st.inner.config.verify_ttl_secs / 60
}

fn reset_minutes(st: &PortalState) -> u64 {
    st.inner.config.reset_ttl_secs / 60
}

/// Whether a mail counts against [`crate::mail::MailLimit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// The requester chose the recipient (registration, reset request, e-mail change).
    Requester,
    /// A notice to the account's own address about a change to it.
    Notice,
}

/// Renders `mail` through the templates and sends it. Failures and refusals are logged
/// and audited, never answered (the answer must not depend on whether mail went out).
async fn send(st: &PortalState, ctx: &Ctx, to: &str, mail: TemplateMail<'_>, trigger: Trigger) {
    let name = mail.name();
    if trigger == Trigger::Requester
        && let Err(why) = st.inner.mail_limit.admit(to, ctx.addr, st.now())
    {
        tracing::warn!(template = name, limit = why.as_str(), "mail throttled");
        ctx.audit(
            AuditEvent::new("mail_throttled")
                .details(json!({"template": name, "to": to, "limit": why.as_str()})),
        )
        .await;
        return;
    }
    let msg = match st.inner.mail_templates.render(to, &mail) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "cannot render mail");
            ctx.audit(AuditEvent::new("mail_failed").details(json!({"template": name})))
                .await;
            return;
        }
    };
    if let Err(e) = st.inner.mailer.send(msg).await {
        tracing::warn!(error = %e, "cannot send mail");
        ctx.audit(AuditEvent::new("mail_failed").details(json!({"template": name})))
            .await;
    }
}

/// The 429 answer of a throttled password guess.
pub(crate) fn throttled(wait: u64) -> ApiError {
    ApiError {
        retry_after: Some(wait),
        ..ApiError::new(
            http::StatusCode::TOO_MANY_REQUESTS,
            format!("too many failed attempts, retry in {wait} seconds"),
        )
    }
}

/// Percent-encodes all but RFC 3986's unreserved characters (a query value).
pub(crate) fn query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn magic_links_disabled() -> ApiError {
    ApiError::new(http::StatusCode::FORBIDDEN, "magic links are disabled")
}

/// Starts a session for `user` on a fresh id (no fixation: an existing session is
/// rotated), audited as `session_started` with `details`.
async fn start_session(
    st: &PortalState,
    ctx: &Ctx,
    user: User,
    remember: bool,
    details: serde_json::Value,
) -> Result<LoggedIn, ApiError> {
    let sessions = &st.inner.sessions;
    let existing = sessions.load(ctx.cookie()).await.ok().flatten();
    let (_, cookie) = sessions
        .remember_persistent(existing, &user.id.to_string(), remember)
        .await
        .map_err(session_err)?;
    ctx.audit(
        AuditEvent::new("session_started")
            .user(user.id)
            .details(details),
    )
    .await;
    Ok(LoggedIn { user, cookie })
}

fn bad_token() -> ApiError {
    ApiError::bad("invalid or expired token").field("token", "invalid or expired")
}

fn check_new_password(
    st: &PortalState,
    field: &str,
    password: &str,
    context: &[&str],
) -> Result<(), ApiError> {
    Checks::default()
        .required(field, password, MAX_PASSWORD)
        .finish()?;
    st.inner
        .policy
        .check(password, context)
        .map_err(|v| ApiError::bad("invalid input").field(field, v.to_string()))
}

/// Verifies the current password of `user` without touching login bookkeeping; guesses
/// are throttled like logins.
async fn check_current_password(
    st: &PortalState,
    ctx: &Ctx,
    user: &User,
    field: &str,
    password: &str,
) -> Result<(), ApiError> {
    let now = st.now();
    if let Err(wait) = st.inner.throttle.check(Some(&user.username), ctx.addr, now) {
        return Err(throttled(wait));
    }
    let hasher = ctx.store.hasher();
    let ok = match &user.password_hash {
        Some(h) => hasher
            .verify(password, h)
            .await
            .map(|v| v.is_match())
            .unwrap_or(false),
        None => {
            let _ = hasher.dummy_verify(password).await;
            false
        }
    };
    if ok {
        return Ok(());
    }
    st.inner
        .throttle
        .record_failure(Some(&user.username), ctx.addr, now);
    ctx.audit(AuditEvent::new("password_check_failed").user(user.id))
        .await;
    Err(
        ApiError::new(http::StatusCode::FORBIDDEN, "the current password is wrong")
            .field(field, "wrong password"),
    )
}

// ---------------------------------------------------------------------------------------
// The flows

/// Registers an account. Answers the same whether or not the e-mail or username is
/// taken: the owner of the address is told by mail instead.
pub(crate) async fn register(
    st: &PortalState,
    ctx: &Ctx,
    r: RegisterIn,
) -> Result<Registered, ApiError> {
    if !st.inner.config.registration {
        return Err(ApiError::new(
            http::StatusCode::FORBIDDEN,
            "registration is disabled",
        ));
    }
    let username = r.username.clone().unwrap_or_else(|| r.email.clone());
    let mut checks = Checks::default();
    checks
        .email("email", &r.email)
        .required("username", &username, MAX_NAME)
        .len("first_name", &r.first_name, MAX_NAME)
        .len("last_name", &r.last_name, MAX_NAME);
    if r.password2.as_ref().is_some_and(|p| *p != r.password) {
        checks.add("password2", "passwords do not match");
    }
    checks.finish()?;
    check_new_password(st, "password", &r.password, &[&username, &r.email])?;
    let verify = st.inner.config.verify_email;
    let new = NewUser::new(username)
        .email(r.email.clone())
        .password(r.password.clone())
        .name(r.first_name, r.last_name)
        .status(if verify {
            UserStatus::Pending
        } else {
            UserStatus::Active
        });
    match ctx.store.create_user(new).await {
        Ok(user) => {
            if verify {
                let token = ctx
                    .store
                    .create_action_token(user.id, ActionPurpose::VerifyEmail, st.verify_ttl())
                    .await
                    .map_err(store_err)?;
                let url = link(st, VERIFY_PAGE, &token);
                let mail = TemplateMail::VerifyEmail {
                    link: &url,
                    expires_minutes: verify_minutes(st),
                };
                send(st, ctx, &r.email, mail, Trigger::Requester).await;
            }
            ctx.audit(AuditEvent::new("registered").user(user.id)).await;
        }
        Err(StoreError::Conflict { field }) => {
            // Same answer as a success; the address owner learns what happened.
            if field == "email" {
                let url = page(st, "/auth/request_reset_password");
                let mail = TemplateMail::AccountExists { link: &url };
                send(st, ctx, &r.email, mail, Trigger::Requester).await;
            } else {
                let url = page(st, "/auth/register");
                let mail = TemplateMail::UsernameTaken { link: &url };
                send(st, ctx, &r.email, mail, Trigger::Requester).await;
            }
            ctx.audit(AuditEvent::new("register_conflict").details(json!({"field": field})))
                .await;
        }
        Err(e) => return Err(store_err(e)),
    }
    Ok(if verify {
        Registered::CheckMail
    } else {
        Registered::Done
    })
}

/// Logs in (`email` or `username` holds the username or the e-mail address) and starts
/// a session (a fresh id: no fixation).
pub(crate) async fn login(st: &PortalState, ctx: &Ctx, r: LoginIn) -> Result<LoggedIn, ApiError> {
    let login = match (&r.email, &r.username) {
        (Some(e), None) => e.clone(),
        (None, Some(u)) => u.clone(),
        (Some(_), Some(_)) => {
            return Err(ApiError::bad("give `email` or `username`, not both")
                .field("username", "give either email or username"));
        }
        (None, None) => {
            return Err(ApiError::bad("invalid input").field("email", "required"));
        }
    };
    let field = if r.email.is_some() {
        "email"
    } else {
        "username"
    };
    Checks::default()
        .required(field, &login, 320)
        .required("password", &r.password, MAX_PASSWORD)
        .finish()?;
    let now = st.now();
    if let Err(wait) = st.inner.throttle.check(Some(&login), ctx.addr, now) {
        ctx.audit(AuditEvent::new("login_throttled").details(json!({"login": login})))
            .await;
        return Err(throttled(wait));
    }
    let user = ctx
        .store
        .verify_password(&login, &r.password)
        .await
        .map_err(store_err)?;
    let Some(user) = user else {
        st.inner
            .throttle
            .record_failure(Some(&login), ctx.addr, now);
        return Err(ApiError::new(
            http::StatusCode::UNAUTHORIZED,
            "invalid credentials",
        ));
    };
    if user.status == UserStatus::Pending {
        return Err(ApiError::new(
            http::StatusCode::FORBIDDEN,
            "the e-mail address of this account is not verified yet",
        ));
    }
    st.inner.throttle.record_success(&login, ctx.addr, now);
    // "Keep me logged in": the cookie then outlives the browser (up to the session's
    // absolute expiry); the server-side lifetimes are the same either way.
    let remember = r.remember.unwrap_or(false);
    start_session(st, ctx, user, remember, json!({"remember": remember})).await
}

/// Ends the session (if any); returns the `Set-Cookie` value that clears the cookie.
pub(crate) async fn logout(
    st: &PortalState,
    ctx: &Ctx,
    user: Option<&User>,
) -> Result<String, ApiError> {
    if let Some(user) = user {
        ctx.audit(AuditEvent::new("logout").user(user.id)).await;
    }
    st.inner
        .sessions
        .forget(ctx.cookie())
        .await
        .map_err(session_err)
}

/// Changes first and last name.
pub(crate) async fn update_profile(ctx: &Ctx, user: &User, r: ProfileIn) -> Result<User, ApiError> {
    let mut checks = Checks::default();
    if let Some(v) = &r.first_name {
        checks.len("first_name", v, MAX_NAME);
    }
    if let Some(v) = &r.last_name {
        checks.len("last_name", v, MAX_NAME);
    }
    checks.finish()?;
    let update = UserUpdate {
        first_name: r.first_name,
        last_name: r.last_name,
        ..UserUpdate::default()
    };
    let user = ctx
        .store
        .update_user(user.id, &update)
        .await
        .map_err(store_err)?;
    ctx.audit(AuditEvent::new("profile_updated").user(user.id))
        .await;
    Ok(user)
}

/// Changes the password (the current one is required). Ends every stored session of
/// the user and every one-time token; returns the `Set-Cookie` value of a new session
/// for this browser.
pub(crate) async fn change_password(
    st: &PortalState,
    ctx: &Ctx,
    user: &User,
    r: ChangePasswordIn,
) -> Result<String, ApiError> {
    let mut checks = Checks::default();
    checks.required("old_password", &r.old_password, MAX_PASSWORD);
    if r.new_password2
        .as_ref()
        .is_some_and(|p| *p != r.new_password)
    {
        checks.add("new_password2", "passwords do not match");
    }
    checks.finish()?;
    check_new_password(
        st,
        "new_password",
        &r.new_password,
        &[&user.username, user.email.as_deref().unwrap_or("")],
    )?;
    check_current_password(st, ctx, user, "old_password", &r.old_password).await?;
    ctx.store
        .set_password(user.id, &r.new_password)
        .await
        .map_err(store_err)?;
    let (_, cookie) = st
        .inner
        .sessions
        .remember(None::<Session>, &user.id.to_string())
        .await
        .map_err(session_err)?;
    if let Some(email) = &user.email {
        let mail = TemplateMail::PasswordChanged { by_reset: false };
        send(st, ctx, email, mail, Trigger::Notice).await;
    }
    Ok(cookie)
}

/// Starts an e-mail change (the current password is required): the new address gets a
/// confirmation link; it replaces the old one only when the link is followed.
pub(crate) async fn change_email(
    st: &PortalState,
    ctx: &Ctx,
    user: &User,
    r: ChangeEmailIn,
) -> Result<(), ApiError> {
    Checks::default()
        .required("password", &r.password, MAX_PASSWORD)
        .email("new_email", &r.new_email)
        .finish()?;
    if user
        .email
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case(&r.new_email))
    {
        return Err(ApiError::bad("invalid input")
            .field("new_email", "this is already your e-mail address"));
    }
    check_current_password(st, ctx, user, "password", &r.password).await?;
    let taken = ctx
        .store
        .get_user_by_email(&r.new_email)
        .await
        .map_err(store_err)?
        .is_some();
    if taken {
        send(
            st,
            ctx,
            &r.new_email,
            TemplateMail::EmailInUse,
            Trigger::Requester,
        )
        .await;
    } else {
        let token = ctx
            .store
            .create_action_token(user.id, ActionPurpose::VerifyEmail, st.verify_ttl())
            .await
            .map_err(store_err)?;
        let pending = format!("{PENDING_EMAIL}{}:{}", sha256_hex(&token), r.new_email);
        let update = UserUpdate {
            action_token: Some(Some(pending)),
            ..UserUpdate::default()
        };
        ctx.store
            .update_user(user.id, &update)
            .await
            .map_err(store_err)?;
        let url = link(st, VERIFY_PAGE, &token);
        let mail = TemplateMail::ConfirmNewEmail {
            link: &url,
            expires_minutes: verify_minutes(st),
        };
        send(st, ctx, &r.new_email, mail, Trigger::Requester).await;
    }
    ctx.audit(AuditEvent::new("email_change_requested").user(user.id))
        .await;
    Ok(())
}

/// Follows a verification link: activates a pending account, or applies the pending
/// e-mail change bound to this very token (and notifies the old address).
pub(crate) async fn verify_email(
    st: &PortalState,
    ctx: &Ctx,
    token: &str,
) -> Result<Verified, ApiError> {
    Checks::default()
        .required("token", token, MAX_TOKEN)
        .finish()?;
    let Some(uid) = ctx
        .store
        .consume_action_token(ActionPurpose::VerifyEmail, token)
        .await
        .map_err(store_err)?
    else {
        ctx.audit(AuditEvent::new("verify_email_failed")).await;
        return Err(bad_token());
    };
    let user = ctx
        .store
        .get_user(uid)
        .await
        .map_err(store_err)?
        .ok_or_else(bad_token)?;
    let pending = user
        .action_token
        .as_deref()
        .and_then(|a| a.strip_prefix(PENDING_EMAIL))
        .and_then(|rest| rest.split_once(':'))
        .filter(|(hash, _)| *hash == sha256_hex(token))
        .map(|(_, email)| email.to_owned());
    if let Some(new_email) = pending {
        let update = UserUpdate {
            email: Some(Some(new_email.clone())),
            action_token: Some(None),
            ..UserUpdate::default()
        };
        ctx.store
            .update_user(uid, &update)
            .await
            .map_err(store_err)?;
        if let Some(old) = &user.email {
            let mail = TemplateMail::EmailChangedNotice {
                new_email: &new_email,
            };
            send(st, ctx, old, mail, Trigger::Notice).await;
        }
        ctx.audit(
            AuditEvent::new("email_verified")
                .user(uid)
                .details(json!({"change": true})),
        )
        .await;
        return Ok(Verified::EmailChanged);
    }
    if user.status == UserStatus::Pending {
        ctx.store
            .set_status(uid, UserStatus::Active)
            .await
            .map_err(store_err)?;
    }
    ctx.audit(AuditEvent::new("email_verified").user(uid)).await;
    Ok(Verified::Account)
}

/// The account a requested link (reset, sign-in) is mailed for, with its address: the
/// account with that e-mail, unless it is blocked or has no address. `None` is not told
/// to the requester (no account enumeration).
async fn mail_recipient(ctx: &Ctx, email: &str) -> Result<Option<(User, String)>, ApiError> {
    let user = ctx
        .store
        .get_user_by_email(email)
        .await
        .map_err(store_err)?
        .filter(|u| u.status != UserStatus::Blocked);
    Ok(user.and_then(|u| u.email.clone().map(|e| (u, e))))
}

/// Mails a reset link when the address has an (unblocked) account; answers the same
/// either way.
pub(crate) async fn request_reset(
    st: &PortalState,
    ctx: &Ctx,
    r: ResetRequestIn,
) -> Result<(), ApiError> {
    Checks::default().email("email", &r.email).finish()?;
    match mail_recipient(ctx, &r.email).await? {
        Some((user, email)) => {
            let token = ctx
                .store
                .create_action_token(user.id, ActionPurpose::ResetPassword, st.reset_ttl())
                .await
                .map_err(store_err)?;
            let url = link(st, RESET_PAGE, &token);
            let mail = TemplateMail::ResetPassword {
                link: &url,
                expires_minutes: reset_minutes(st),
            };
            send(st, ctx, &email, mail, Trigger::Requester).await;
            ctx.audit(AuditEvent::new("password_reset_requested").user(user.id))
                .await;
        }
        None => {
            ctx.audit(
                AuditEvent::new("password_reset_requested").details(json!({"unknown": r.email})),
            )
            .await;
        }
    }
    Ok(())
}

/// Sets a new password with a reset token. The password is checked before the token is
/// spent, so a refused password does not burn the link.
pub(crate) async fn reset_password(
    st: &PortalState,
    ctx: &Ctx,
    r: ResetIn,
) -> Result<(), ApiError> {
    let mut checks = Checks::default();
    checks.required("token", &r.token, MAX_TOKEN);
    if r.new_password2
        .as_ref()
        .is_some_and(|p| *p != r.new_password)
    {
        checks.add("new_password2", "passwords do not match");
    }
    checks.finish()?;
    check_new_password(st, "new_password", &r.new_password, &[])?;
    let Some(uid) = ctx
        .store
        .consume_action_token(ActionPurpose::ResetPassword, &r.token)
        .await
        .map_err(store_err)?
    else {
        ctx.audit(AuditEvent::new("password_reset_failed")).await;
        return Err(bad_token());
    };
    // Ends every stored session of the user and every other one-time token.
    ctx.store
        .set_password(uid, &r.new_password)
        .await
        .map_err(store_err)?;
    let user = ctx.store.get_user(uid).await.map_err(store_err)?;
    if let Some(user) = &user {
        // The link arrived by e-mail: the address is proven.
        if user.status == UserStatus::Pending {
            ctx.store
                .set_status(uid, UserStatus::Active)
                .await
                .map_err(store_err)?;
        }
        if let Some(email) = &user.email {
            let mail = TemplateMail::PasswordChanged { by_reset: true };
            send(st, ctx, email, mail, Trigger::Notice).await;
        }
    }
    ctx.audit(AuditEvent::new("password_reset").user(uid)).await;
    Ok(())
}

/// Mails a one-time sign-in link when the address has an account that may log in
/// (active or pending, not blocked); answers the same either way. The mail counts
/// against the mail limit like any mail a requester triggers.
pub(crate) async fn request_magic_link(
    st: &PortalState,
    ctx: &Ctx,
    r: MagicLinkIn,
) -> Result<(), ApiError> {
    if !st.inner.config.magic_links {
        return Err(magic_links_disabled());
    }
    Checks::default().email("email", &r.email).finish()?;
    match mail_recipient(ctx, &r.email).await? {
        Some((user, email)) => {
            let token = ctx
                .store
                .create_action_token(user.id, ActionPurpose::MagicLink, MAGIC_LINK_TTL)
                .await
                .map_err(store_err)?;
            let came_from = r
                .came_from
                .as_deref()
                .and_then(|c| st.inner.config.safe_came_from(c));
            // `token` comes last so that the whole rest of the link is the token.
            let url = match came_from {
                Some(c) => format!(
                    "{}{MAGIC_LOGIN_PAGE}?came_from={}&token={token}",
                    st.inner.config.base_url(),
                    query_value(&c)
                ),
                None => link(st, MAGIC_LOGIN_PAGE, &token),
            };
            let mail = TemplateMail::MagicLink {
                link: &url,
                expires_minutes: MAGIC_LINK_TTL.as_secs() / 60,
            };
            send(st, ctx, &email, mail, Trigger::Requester).await;
            ctx.audit(AuditEvent::new("magic_link_requested").user(user.id))
                .await;
        }
        None => {
            ctx.audit(AuditEvent::new("magic_link_requested").details(json!({"unknown": r.email})))
                .await;
        }
    }
    Ok(())
}

/// Signs in with a magic-link token: spends it (single use, expiring; the store keeps
/// only its hash) and starts a session like `login` (a fresh session id). A blocked
/// account is refused. A pending account is activated: the link was mailed to its
/// address, which proves the address exactly as a verification link does.
/// Failed tokens count as failures of the client address in the login throttle.
pub(crate) async fn magic_login(
    st: &PortalState,
    ctx: &Ctx,
    token: &str,
) -> Result<LoggedIn, ApiError> {
    if !st.inner.config.magic_links {
        return Err(magic_links_disabled());
    }
    Checks::default()
        .required("token", token, MAX_TOKEN)
        .finish()?;
    let now = st.now();
    if let Err(wait) = st.inner.throttle.check(None, ctx.addr, now) {
        ctx.audit(AuditEvent::new("login_throttled").details(json!({"method": "magic_link"})))
            .await;
        return Err(throttled(wait));
    }
    let uid = ctx
        .store
        .consume_action_token(ActionPurpose::MagicLink, token)
        .await
        .map_err(store_err)?;
    let user = match uid {
        Some(uid) => ctx.store.get_user(uid).await.map_err(store_err)?,
        None => None,
    };
    let Some(mut user) = user else {
        st.inner.throttle.record_failure(None, ctx.addr, now);
        ctx.audit(AuditEvent::new("magic_login_failed")).await;
        return Err(bad_token());
    };
    if user.status == UserStatus::Blocked {
        ctx.audit(
            AuditEvent::new("magic_login_refused")
                .user(user.id)
                .details(json!({"status": "blocked"})),
        )
        .await;
        return Err(ApiError::new(
            http::StatusCode::FORBIDDEN,
            "this account is blocked",
        ));
    }
    if user.status == UserStatus::Pending {
        user = ctx
            .store
            .set_status(user.id, UserStatus::Active)
            .await
            .map_err(store_err)?;
        ctx.audit(
            AuditEvent::new("email_verified")
                .user(user.id)
                .details(json!({"by": "magic_link"})),
        )
        .await;
    }
    start_session(
        st,
        ctx,
        user,
        false,
        json!({"remember": false, "method": "magic_link"}),
    )
    .await
}
