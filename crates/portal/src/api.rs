//! The `/auth/api/` handlers.

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::response::Response;
use http::request::Parts;
use http::{StatusCode, header};
use portcullis_store::{AuditEvent, User};
use portcullis_web::csrf::SessionCsrfStorage;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::ctx::{Ctx, current, require_user, session_err};
use crate::envelope::{ApiError, Incoming, form_to, parse_json, read_body, success, with_cookie};
use crate::flows::{
    self, ChangeEmailIn, ChangePasswordIn, Empty, LoginIn, MagicLinkIn, ProfileIn, RegisterIn,
    Registered, ResetIn, ResetRequestIn, TokenIn, Verified,
};
use crate::openapi::{Access, ApiRoutes, Op};
use crate::state::PortalState;

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
            "/auth/api/request_magic_link",
            vec![
                Op::post(request_magic_link, "Mail a one-time sign-in link")
                    .describe("Answers the same whether or not the address has an account that may log in. The link works once, for 15 minutes. 403 when `magic_links` is off.")
                    .body::<MagicLinkIn>()
                    .also_form()
                    .errors(&[403]),
            ],
        )
        .route(
            "/auth/api/magic_login",
            vec![
                Op::post(magic_login, "Log in with a mailed sign-in link's token")
                    .describe("Spends the token and starts a session like `login` (sets the session cookie). A pending account is activated (the link proves the address); a blocked one is refused. 403 when `magic_links` is off.")
                    .body::<TokenIn>()
                    .also_form()
                    .answers::<UserAnswer>()
                    .errors(&[403, 429]),
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
pub(crate) const CSRF_FIELD: &str = "csrf_token";

/// The 403 of a POST whose present `Origin` is not trusted, or `None`.
pub(crate) fn check_origin(st: &PortalState, parts: &Parts) -> Result<(), ApiError> {
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
    Ok(())
}

/// Reads a POST: trusted Origin (when present), then the strict body. JSON needs no CSRF
/// token; a urlencoded form must carry the session's token in `csrf_token` (get it from
/// `config`).
async fn json_post<T: DeserializeOwned>(
    st: &PortalState,
    req: Request,
) -> Result<(Ctx, T), ApiError> {
    let (parts, body): (Parts, Body) = req.into_parts();
    check_origin(st, &parts)?;
    let ctx = Ctx::new(st, &parts);
    match read_body(&parts.headers, body, st.inner.config.max_body_bytes).await? {
        Incoming::Json(text) => Ok((ctx, parse_json(&text)?)),
        Incoming::Form(mut pairs) => {
            let supplied = pairs
                .iter()
                .position(|(k, _)| k == CSRF_FIELD)
                .map(|i| pairs.remove(i).1);
            if !csrf_valid(st, &ctx, supplied.as_deref()).await {
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

/// Whether `supplied` is the CSRF token of the request's session (JSON API form posts
/// and the HTML pages check tokens through this one function).
pub(crate) async fn csrf_valid(st: &PortalState, ctx: &Ctx, supplied: Option<&str>) -> bool {
    let session = st.inner.sessions.load(ctx.cookie()).await.ok().flatten();
    supplied.is_some_and(|t| SessionCsrfStorage::new().check_token(session.as_ref(), t))
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

// ---------------------------------------------------------------------------------------
// Adapters over crate::flows

const REGISTERED: &str = "registration received: check your inbox to verify your e-mail address";
const RESET_SENT: &str = "if the address belongs to an account, a reset link has been sent to it";

async fn register(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, r): (Ctx, RegisterIn) = json_post(&st, req).await?;
    let message = match flows::register(&st, &ctx, r).await? {
        Registered::CheckMail => REGISTERED,
        Registered::Done => "registration received",
    };
    Ok(success(message, json!({})))
}

async fn login(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, r): (Ctx, LoginIn) = json_post(&st, req).await?;
    let done = flows::login(&st, &ctx, r).await?;
    Ok(with_cookie(
        success("logged in", user_answer(&done.user)),
        &done.cookie,
    ))
}

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
        check_origin(&st, &parts)?;
        Ctx::new(&st, &parts)
    };
    let user = current(&st, &ctx).await?.map(|(u, _)| u);
    let cookie = flows::logout(&st, &ctx, user.as_ref()).await?;
    Ok(with_cookie(success("logged out", json!({})), &cookie))
}

async fn profile_get(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (parts, _) = req.into_parts();
    let ctx = Ctx::new(&st, &parts);
    let (user, _) = require_user(&st, &ctx).await?;
    Ok(success("", user_answer(&user)))
}

async fn profile_post(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, r): (Ctx, ProfileIn) = json_post(&st, req).await?;
    let (user, _) = require_user(&st, &ctx).await?;
    let user = flows::update_profile(&ctx, &user, r).await?;
    Ok(success("profile updated", user_answer(&user)))
}

async fn change_password(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, r): (Ctx, ChangePasswordIn) = json_post(&st, req).await?;
    let (user, _) = require_user(&st, &ctx).await?;
    let cookie = flows::change_password(&st, &ctx, &user, r).await?;
    Ok(with_cookie(success("password changed", json!({})), &cookie))
}

async fn change_email(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, r): (Ctx, ChangeEmailIn) = json_post(&st, req).await?;
    let (user, _) = require_user(&st, &ctx).await?;
    flows::change_email(&st, &ctx, &user, r).await?;
    Ok(success(
        "check the inbox of the new address to confirm the change",
        json!({}),
    ))
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

async fn verify_email(st: &PortalState, ctx: &Ctx, token: &str) -> ApiResult {
    let message = match flows::verify_email(st, ctx, token).await? {
        Verified::EmailChanged => "e-mail address changed",
        Verified::Account => "e-mail address verified",
    };
    Ok(success(message, json!({})))
}

async fn request_reset_password(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, r): (Ctx, ResetRequestIn) = json_post(&st, req).await?;
    flows::request_reset(&st, &ctx, r).await?;
    Ok(success(RESET_SENT, json!({})))
}

const MAGIC_SENT: &str = "if the address belongs to an account, a sign-in link has been sent to it";

async fn request_magic_link(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, r): (Ctx, MagicLinkIn) = json_post(&st, req).await?;
    flows::request_magic_link(&st, &ctx, r).await?;
    Ok(success(MAGIC_SENT, json!({})))
}

async fn magic_login(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, t): (Ctx, TokenIn) = json_post(&st, req).await?;
    let done = flows::magic_login(&st, &ctx, &t.token).await?;
    Ok(with_cookie(
        success("logged in", user_answer(&done.user)),
        &done.cookie,
    ))
}

async fn reset_password(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (ctx, r): (Ctx, ResetIn) = json_post(&st, req).await?;
    flows::reset_password(&st, &ctx, r).await?;
    Ok(success("password changed: you can log in now", json!({})))
}

async fn config(State(st): State<PortalState>, req: Request) -> ApiResult {
    let (parts, _) = req.into_parts();
    let ctx = Ctx::new(&st, &parts);
    let c = &st.inner.config;
    // The CSRF token for form posts lives in the session (one is started if needed).
    let (token, cookie) = csrf_token(&st, &ctx).await?;
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
        ("magic_link", c.magic_links),
    ];
    // The e-mail magic link is an identity provider of its own (the address proves who
    // signs in); external providers will join this list.
    let mut identity_providers = Vec::new();
    if c.magic_links {
        identity_providers.push("email".to_owned());
    }
    let answer = ConfigAnswer {
        features: features.into_iter().collect(),
        identity_providers,
        csrf_token: token,
    };
    let resp = success("", serde_json::to_value(answer).unwrap_or(Value::Null));
    Ok(match cookie {
        Some(c) => with_cookie(resp, &c),
        None => resp,
    })
}

/// The session's CSRF token (a session is started when there is none) and the
/// `Set-Cookie` value when the session is new or changed.
pub(crate) async fn csrf_token(
    st: &PortalState,
    ctx: &Ctx,
) -> Result<(String, Option<String>), ApiError> {
    let sessions = &st.inner.sessions;
    let mut session = match sessions.load(ctx.cookie()).await.map_err(session_err)? {
        Some(s) => s,
        None => sessions.create().map_err(session_err)?,
    };
    let token = SessionCsrfStorage::new()
        .get_token(&mut session)
        .map_err(session_err)?;
    let cookie = sessions.save(&mut session).await.map_err(session_err)?;
    Ok((token, cookie))
}
