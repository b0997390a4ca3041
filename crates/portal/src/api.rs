//! The `/auth/api/` handlers.

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::response::Response;
use http::request::Parts;
use http::{StatusCode, header};
use portcullis_store::{
    ActionPurpose, AuditEvent, NewUser, StoreError, User, UserStatus, UserUpdate,
};
use portcullis_web::csrf::SessionCsrfStorage;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::ctx::{Ctx, current, require_user, store_err};
use crate::envelope::{
    ApiError, Checks, Incoming, form_to, parse_json, read_body, success, with_cookie,
};
use crate::mailer::OutgoingMail;
use crate::openapi::{Access, ApiRoutes, Op};
use crate::state::PortalState;

const MAX_NAME: usize = 255;
const MAX_PASSWORD: usize = 1024;
const MAX_TOKEN: usize = 256;
const PENDING_EMAIL: &str = "pending_email:";

/// The REST API under `/auth/api/` (see the crate docs for the endpoints), documented as
/// it is routed.
pub(crate) fn routes() -> ApiRoutes<PortalState> {
    ApiRoutes::new()
        .route(
            "/auth/api/register",
            vec![
                Op::post(register, "Register a new account")
                    .describe("Answers the same whether or not the e-mail or username is taken (the owner of the address is told by mail instead); with `verify_email` on, the account stays pending until the e-mailed link is followed.")
                    .body::<RegisterIn>()
                    .also_form()
                    .errors(&[403, 429]),
            ],
        )
        .route(
            "/auth/api/login",
            vec![
                Op::post(login, "Log in and start a session")
                    .describe("`email` or `username` may hold either the username or the e-mail address. Sets the session cookie.")
                    .body::<LoginIn>()
                    .also_form()
                    .answers::<UserAnswer>()
                    .errors(&[401, 403, 429]),
            ],
        )
        .route(
            "/auth/api/logout",
            vec![
                Op::post(logout, "End the session")
                    .describe("The body may be empty or `{}`.")
                    .optional_body::<Empty>()
                    .also_form()
                    .errors(&[403]),
            ],
        )
        .route(
            "/auth/api/request_reset_password",
            vec![
                Op::post(request_reset_password, "Mail a password-reset link")
                    .describe("Answers the same whether or not the address has an account.")
                    .body::<ResetRequestIn>()
                    .also_form()
                    .errors(&[403, 429]),
            ],
        )
        .route(
            "/auth/api/reset_password",
            vec![
                Op::post(reset_password, "Set a new password with a reset token")
                    .body::<ResetIn>()
                    .also_form()
                    .errors(&[403]),
            ],
        )
        .route(
            "/auth/api/verify_email",
            vec![
                Op::get(verify_email_get, "Verify an e-mail address (link from the mail)")
                    .query::<TokenIn>()
                    .errors(&[400]),
                Op::post(verify_email_post, "Verify an e-mail address")
                    .body::<TokenIn>()
                    .also_form()
                    .errors(&[403]),
            ],
        )
        .route(
            "/auth/api/profile",
            vec![
                Op::get(profile_get, "The logged-in user's profile")
                    .access(Access::User)
                    .answers::<UserAnswer>(),
                Op::post(profile_post, "Change the profile")
                    .access(Access::User)
                    .body::<ProfileIn>()
                    .also_form()
                    .answers::<UserAnswer>()
                    .errors(&[403]),
            ],
        )
        .route(
            "/auth/api/change_password",
            vec![
                Op::post(change_password, "Change the password (needs the current one)")
                    .describe("Ends every other session of the user.")
                    .access(Access::User)
                    .body::<ChangePasswordIn>()
                    .also_form()
                    .errors(&[403, 429]),
            ],
        )
        .route(
            "/auth/api/change_email",
            vec![
                Op::post(change_email, "Change the e-mail address (needs the password)")
                    .describe("The new address is verified by mail before it replaces the old one, which is then notified.")
                    .access(Access::User)
                    .body::<ChangeEmailIn>()
                    .also_form()
                    .errors(&[403, 409, 429]),
            ],
        )
        .route(
            "/auth/api/config",
            vec![
                Op::get(config, "Enabled features, identity providers and the CSRF token")
                    .describe("Starts a session when there is none, so that `csrf_token` can be used in form posts.")
                    .answers::<ConfigAnswer>(),
            ],
        )
}

type ApiResult = Result<Response, ApiError>;

/// The form field that carries the CSRF token (Pyramid's name).
const CSRF_FIELD: &str = "csrf_token";

/// Reads a POST: trusted Origin (when present), then the strict body. JSON needs no CSRF
/// token; a urlencoded form must carry the session's token in `csrf_token` (get it from
/// `config`).
async fn json_post<T: DeserializeOwned>(
    st: &PortalState,
    req: Request,
) -> Result<(Ctx, T), ApiError> {
    let (parts, body): (Parts, Body) = req.into_parts();
    if let Some(origin) = parts.headers.get(header::ORIGIN) {
        let trusted = origin
            .to_str()
            .is_ok_and(|o| st.inner.config.origin_trusted(o));
        if !trusted {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "cross-origin request refused: untrusted `Origin`",
            ));
        }
    }
    let ctx = Ctx::new(st, &parts);
    match read_body(&parts.headers, body, st.inner.config.max_body_bytes).await? {
        Incoming::Json(text) => Ok((ctx, parse_json(&text)?)),
        Incoming::Form(mut pairs) => {
            let supplied = pairs
                .iter()
                .position(|(k, _)| k == CSRF_FIELD)
                .map(|i| pairs.remove(i).1);
            let session = st.inner.sessions.load(ctx.cookie()).await.ok().flatten();
            let ok = supplied
                .is_some_and(|t| SessionCsrfStorage::new().check_token(session.as_ref(), &t));
            if !ok {
                ctx.audit(AuditEvent::new("csrf_refused")).await;
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "form posts need the session's csrf token in `csrf_token` (see `config`)",
                ));
            }
            Ok((ctx, form_to(pairs)?))
        }
    }
}

/// A user as the API shows it.
#[derive(Serialize, JsonSchema)]
pub(crate) struct UserOut {
    id: i64,
    username: String,
    email: Option<String>,
    first_name: String,
    last_name: String,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> UserOut {
        UserOut {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
        }
    }
}

/// The answer of `login` and `profile`: the user.
#[derive(Serialize, JsonSchema)]
pub(crate) struct UserAnswer {
    user: UserOut,
}

fn user_answer(u: &User) -> Value {
    serde_json::to_value(UserAnswer { user: u.into() }).unwrap_or(Value::Null)
}

/// The answer of `config`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct ConfigAnswer {
    /// The features and whether they are enabled.
    features: std::collections::BTreeMap<&'static str, bool>,
    /// The configured identity providers (names).
    identity_providers: Vec<String>,
    /// The session's CSRF token, for urlencoded form posts (`csrf_token`).
    csrf_token: String,
}

async fn send_mail(st: &PortalState, ctx: &Ctx, to: &str, subject: &str, text: String) {
    let msg = OutgoingMail {
        to: to.to_owned(),
        subject: subject.to_owned(),
        text,
        html: None,
    };
    if let Err(e) = st.inner.mailer.send(msg).await {
        tracing::warn!(error = %e, "cannot send mail");
        ctx.audit(AuditEvent::new("mail_failed").details(json!({"subject": subject})))
            .await;
    }
}

fn link(st: &PortalState, path: &str, token: &str) -> String {
    format!("{}{path}?token={token}", st.inner.config.base_url())
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
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
        ApiError::new(StatusCode::FORBIDDEN, "the current password is wrong")
            .field(field, "wrong password"),
    )
}

fn throttled(wait: u64) -> ApiError {
    ApiError {
        retry_after: Some(wait),
        ..ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many failed attempts, retry in {wait} seconds"),
        )
    }
}

// ---------------------------------------------------------------------------------------

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RegisterIn {
    email: String,
    password: String,
    #[serde(default)]
    password2: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
}

const REGISTERED: &str = "registration received: check your inbox to verify your e-mail address";

async fn register(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, r): (Ctx, RegisterIn) = json_post(&st, req).await?;
    if !st.inner.config.registration {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
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
    check_new_password(&st, "password", &r.password, &[&username, &r.email])?;
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
                let url = link(&st, "/auth/api/verify_email", &token);
                send_mail(
                    &st,
                    &ctx,
                    &r.email,
                    "Verify your e-mail address",
                    format!("Welcome! Open this link to verify your e-mail address:\n\n{url}\n\nThe link works once and expires in {} hours.\n", st.inner.config.verify_ttl_secs / 3600),
                )
                .await;
            }
            ctx.audit(AuditEvent::new("registered").user(user.id)).await;
        }
        Err(StoreError::Conflict { field }) => {
            // Same answer as a success; the address owner learns what happened.
            let text = if field == "email" {
                format!(
                    "Someone tried to register a new account with this e-mail address, which already has one.\nIf it was you and you forgot your password, reset it here: {}/auth/request_reset_password\n",
                    st.inner.config.base_url()
                )
            } else {
                "Someone tried to register an account with this e-mail address, but the chosen username is taken. Please register again with another username.\n".to_owned()
            };
            send_mail(&st, &ctx, &r.email, "Your registration", text).await;
            ctx.audit(AuditEvent::new("register_conflict").details(json!({"field": field})))
                .await;
        }
        Err(e) => return Err(store_err(e)),
    }
    let message = if verify {
        REGISTERED
    } else {
        "registration received"
    };
    Ok(success(message, json!({})))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct LoginIn {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    username: Option<String>,
    password: String,
    #[serde(default)]
    remember: Option<bool>,
}

async fn login(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, r): (Ctx, LoginIn) = json_post(&st, req).await?;
    let _ = r.remember;
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
            StatusCode::UNAUTHORIZED,
            "invalid credentials",
        ));
    };
    if user.status == UserStatus::Pending {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the e-mail address of this account is not verified yet",
        ));
    }
    st.inner.throttle.record_success(&login, ctx.addr, now);
    let sessions = &st.inner.sessions;
    let existing = sessions.load(ctx.cookie()).await.ok().flatten();
    let (_, cookie) = sessions
        .remember(existing, &user.id.to_string())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "session failure");
            ApiError::internal()
        })?;
    ctx.audit(AuditEvent::new("session_started").user(user.id))
        .await;
    Ok(with_cookie(
        success("logged in", user_answer(&user)),
        &cookie,
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Empty {}

async fn logout(State(st): State<PortalState>, req: Request) -> ApiResult {
    // An empty body is fine; a body must be an empty JSON object.
    let (parts, body) = req.into_parts();
    let has_body = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() != b"0")
        || parts.headers.contains_key(header::CONTENT_TYPE);
    let req = Request::from_parts(parts, body);
    let ctx = if has_body {
        let (ctx, Empty {}) = json_post(&st, req).await?;
        ctx
    } else {
        let (parts, _) = req.into_parts();
        if let Some(origin) = parts.headers.get(header::ORIGIN)
            && !origin
                .to_str()
                .is_ok_and(|o| st.inner.config.origin_trusted(o))
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "cross-origin request refused: untrusted `Origin`",
            ));
        }
        Ctx::new(&st, &parts)
    };
    if let Some((user, _)) = current(&st, &ctx).await? {
        ctx.audit(AuditEvent::new("logout").user(user.id)).await;
    }
    let cookie = st.inner.sessions.forget(ctx.cookie()).await.map_err(|e| {
        tracing::error!(error = %e, "session failure");
        ApiError::internal()
    })?;
    Ok(with_cookie(success("logged out", json!({})), &cookie))
}

async fn profile_get(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (parts, _) = req.into_parts();
    let ctx = Ctx::new(&st, &parts);
    let (user, _) = require_user(&st, &ctx).await?;
    Ok(success("", user_answer(&user)))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ProfileIn {
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
}

async fn profile_post(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, r): (Ctx, ProfileIn) = json_post(&st, req).await?;
    let (user, _) = require_user(&st, &ctx).await?;
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
    Ok(success("profile updated", user_answer(&user)))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ChangePasswordIn {
    old_password: String,
    new_password: String,
    #[serde(default)]
    new_password2: Option<String>,
}

async fn change_password(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, r): (Ctx, ChangePasswordIn) = json_post(&st, req).await?;
    let (user, _) = require_user(&st, &ctx).await?;
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
        &st,
        "new_password",
        &r.new_password,
        &[&user.username, user.email.as_deref().unwrap_or("")],
    )?;
    check_current_password(&st, &ctx, &user, "old_password", &r.old_password).await?;
    // Ends every stored session of the user and every one-time token.
    ctx.store
        .set_password(user.id, &r.new_password)
        .await
        .map_err(store_err)?;
    let (_, cookie) = st
        .inner
        .sessions
        .remember(None, &user.id.to_string())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "session failure");
            ApiError::internal()
        })?;
    if let Some(email) = &user.email {
        send_mail(
            &st,
            &ctx,
            email,
            "Your password was changed",
            "The password of your account was just changed. If this was not you, reset it now and contact the administrator.\n".to_owned(),
        )
        .await;
    }
    Ok(with_cookie(success("password changed", json!({})), &cookie))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ChangeEmailIn {
    password: String,
    new_email: String,
}

async fn change_email(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, r): (Ctx, ChangeEmailIn) = json_post(&st, req).await?;
    let (user, _) = require_user(&st, &ctx).await?;
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
    check_current_password(&st, &ctx, &user, "password", &r.password).await?;
    let taken = ctx
        .store
        .get_user_by_email(&r.new_email)
        .await
        .map_err(store_err)?
        .is_some();
    if taken {
        send_mail(
            &st,
            &ctx,
            &r.new_email,
            "Confirm your new e-mail address",
            "Someone asked to use this e-mail address for an account, but another account already uses it. Nothing was changed.\n".to_owned(),
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
        let url = link(&st, "/auth/api/verify_email", &token);
        send_mail(
            &st,
            &ctx,
            &r.new_email,
            "Confirm your new e-mail address",
            format!("Open this link to make this your account's e-mail address:\n\n{url}\n\nThe link works once and expires in {} hours.\n", st.inner.config.verify_ttl_secs / 3600),
        )
        .await;
    }
    ctx.audit(AuditEvent::new("email_change_requested").user(user.id))
        .await;
    Ok(success(
        "check the inbox of the new address to confirm the change",
        json!({}),
    ))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct TokenIn {
    token: String,
}

async fn verify_email_get(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (parts, _) = req.into_parts();
    let ctx = Ctx::new(&st, &parts);
    let Query(t) = Query::<TokenIn>::try_from_uri(&parts.uri)
        .map_err(|e| ApiError::bad(format!("invalid query: {}", e.body_text())))?;
    verify_email(&st, &ctx, &t.token).await
}

async fn verify_email_post(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, t): (Ctx, TokenIn) = json_post(&st, req).await?;
    verify_email(&st, &ctx, &t.token).await
}

fn bad_token() -> ApiError {
    ApiError::bad("invalid or expired token").field("token", "invalid or expired")
}

async fn verify_email(st: &PortalState, ctx: &Ctx, token: &str) -> ApiResult {
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
            send_mail(
                st,
                ctx,
                old,
                "Your e-mail address was changed",
                format!("The e-mail address of your account was changed to {new_email}. If this was not you, contact the administrator.\n"),
            )
            .await;
        }
        ctx.audit(
            AuditEvent::new("email_verified")
                .user(uid)
                .details(json!({"change": true})),
        )
        .await;
        return Ok(success("e-mail address changed", json!({})));
    }
    if user.status == UserStatus::Pending {
        ctx.store
            .set_status(uid, UserStatus::Active)
            .await
            .map_err(store_err)?;
    }
    ctx.audit(AuditEvent::new("email_verified").user(uid)).await;
    Ok(success("e-mail address verified", json!({})))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ResetRequestIn {
    email: String,
}

const RESET_SENT: &str = "if the address belongs to an account, a reset link has been sent to it";

async fn request_reset_password(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, r): (Ctx, ResetRequestIn) = json_post(&st, req).await?;
    Checks::default().email("email", &r.email).finish()?;
    let user = ctx
        .store
        .get_user_by_email(&r.email)
        .await
        .map_err(store_err)?
        .filter(|u| u.status != UserStatus::Blocked);
    match user.as_ref().and_then(|u| u.email.clone().map(|e| (u, e))) {
        Some((user, email)) => {
            let token = ctx
                .store
                .create_action_token(user.id, ActionPurpose::ResetPassword, st.reset_ttl())
                .await
                .map_err(store_err)?;
            let url = link(&st, "/auth/reset_password", &token);
            send_mail(
                &st,
                &ctx,
                &email,
                "Reset your password",
                format!("Open this link to choose a new password:\n\n{url}\n\nThe link works once and expires in {} minutes. If you did not ask for it, ignore this mail.\n", st.inner.config.reset_ttl_secs / 60),
            )
            .await;
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
    Ok(success(RESET_SENT, json!({})))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ResetIn {
    token: String,
    new_password: String,
    #[serde(default)]
    new_password2: Option<String>,
}

async fn reset_password(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, r): (Ctx, ResetIn) = json_post(&st, req).await?;
    let mut checks = Checks::default();
    checks.required("token", &r.token, MAX_TOKEN);
    if r.new_password2
        .as_ref()
        .is_some_and(|p| *p != r.new_password)
    {
        checks.add("new_password2", "passwords do not match");
    }
    checks.finish()?;
    // Checked before the token is spent, so a refused password does not burn the link.
    check_new_password(&st, "new_password", &r.new_password, &[])?;
    let Some(uid) = ctx
        .store
        .consume_action_token(ActionPurpose::ResetPassword, &r.token)
        .await
        .map_err(store_err)?
    else {
        ctx.audit(AuditEvent::new("password_reset_failed")).await;
        return Err(bad_token());
    };
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
            send_mail(
                &st,
                &ctx,
                email,
                "Your password was reset",
                "The password of your account was just reset. If this was not you, contact the administrator.\n".to_owned(),
            )
            .await;
        }
    }
    ctx.audit(AuditEvent::new("password_reset").user(uid)).await;
    Ok(success("password changed: you can log in now", json!({})))
}

async fn config(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (parts, _) = req.into_parts();
    let ctx = Ctx::new(&st, &parts);
    let c = &st.inner.config;
    // The CSRF token for form posts lives in the session (one is started if needed).
    let sessions = &st.inner.sessions;
    let internal = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "session failure");
        ApiError::internal()
    };
    let mut session = match sessions
        .load(ctx.cookie())
        .await
        .map_err(|e| internal(&e))?
    {
        Some(s) => s,
        None => sessions.create().map_err(|e| internal(&e))?,
    };
    let token = SessionCsrfStorage::new()
        .get_token(&mut session)
        .map_err(|e| internal(&e))?;
    let cookie = sessions
        .save(&mut session)
        .await
        .map_err(|e| internal(&e))?;
    let features = [
        ("register", c.registration),
        ("verify_email", c.verify_email),
        ("login", true),
        ("logout", true),
        ("request_reset_password", true),
        ("reset_password", true),
        ("profile", true),
        ("change_password", true),
        ("change_email", true),
    ];
    let answer = ConfigAnswer {
        features: features.into_iter().collect(),
        identity_providers: Vec::new(),
        csrf_token: token,
    };
    let resp = success("", serde_json::to_value(answer).unwrap_or(Value::Null));
    Ok(match cookie {
        Some(c) => with_cookie(resp, &c),
        None => resp,
    })
}
