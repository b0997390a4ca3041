//! The admin UI under `/auth/admin/`: server-rendered pages (minijinja templates
//! embedded from `templates/admin/`, each overridable by a file of the same name in
//! `templates_dir/admin/`), usable without JavaScript.
//!
//! Every page answers with a Content-Security-Policy without scripts (`default-src
//! 'none'`, the stylesheet from `'self'`, `frame-ancestors 'none'`), `Cache-Control:
//! no-store`, `X-Content-Type-Options: nosniff` and `Referrer-Policy: same-origin`.
//! Changes are urlencoded form posts carrying the session's CSRF token (a present
//! `Origin` must be trusted), answered with a redirect (POST/redirect/GET) and a flash
//! message kept in the session; the one exception is a new API token, whose secret is
//! shown once in the answer to the post itself and stored nowhere.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use minijinja::{Environment, UndefinedBehavior, Value};
use portcullis_web::csrf::SessionCsrfStorage;
use serde::Serialize;
use serde_json::json;

use super::access::{self, Admin, check_form_token, check_origin, session_err};
use super::actions::{self, AuditFilter, UserRef, UsersQuery, parse_id};
use super::views::format_unix;
use crate::envelope::{ApiError, Incoming, read_body};
use crate::html::{self, read_override};
use crate::state::PortalState;

/// The built-in templates: `(name, source)`.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/admin/base.html")),
    (
        "users.html",
        include_str!("../../templates/admin/users.html"),
    ),
    ("user.html", include_str!("../../templates/admin/user.html")),
    (
        "confirm.html",
        include_str!("../../templates/admin/confirm.html"),
    ),
    (
        "groups.html",
        include_str!("../../templates/admin/groups.html"),
    ),
    (
        "group.html",
        include_str!("../../templates/admin/group.html"),
    ),
    (
        "audit.html",
        include_str!("../../templates/admin/audit.html"),
    ),
    (
        "token.html",
        include_str!("../../templates/admin/token.html"),
    ),
    (
        "error.html",
        include_str!("../../templates/admin/error.html"),
    ),
];

const CSS: &str = include_str!("../../templates/admin/admin.css");

const FLASH_KEY: &str = "admin_flash";

const HOME: &str = "/auth/admin/users";

/// The environments by override directory (`templates_dir/admin`, or none), built once.
type Envs = HashMap<Option<PathBuf>, Arc<Environment<'static>>>;
static ENVS: LazyLock<Mutex<Envs>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The built-in templates, each overridden by `dir/NAME` when that file exists (read
/// when first used, then cached).
fn build_env(dir: Option<PathBuf>) -> Environment<'static> {
    let mut env = html::environment(TEMPLATES, dir, |name, _| {
        format!("cannot read the admin template `{name}`")
    });
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.add_filter("datetime", |v: Value| -> String {
        i64::try_from(v).map(format_unix).unwrap_or_default()
    });
    env.add_filter("seg", |v: String| -> String { seg(&v) });
    env
}

/// The override directory of the admin templates: `templates_dir/admin`.
fn override_dir(st: &PortalState) -> Option<PathBuf> {
    st.inner
        .config
        .templates_dir
        .as_ref()
        .map(|d| d.join("admin"))
}

/// The template environment of `st`'s configuration.
fn templates(st: &PortalState) -> Arc<Environment<'static>> {
    let dir = override_dir(st);
    let mut envs = ENVS.lock().unwrap_or_else(PoisonError::into_inner);
    envs.entry(dir.clone())
        .or_insert_with(|| Arc::new(build_env(dir)))
        .clone()
}

/// Percent-encodes everything but RFC 3986's unreserved characters (a path segment or a
/// query value).
pub(crate) fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A UI handler as a route: its outcome through [`finish`] (errors as pages of the
/// state's templates).
macro_rules! ui {
    ($f:ident) => {
        |State(st): State<PortalState>, req: Request| async move {
            let r = $f(State(st.clone()), req).await;
            finish(&st, r)
        }
    };
    ($f:ident, path) => {
        |State(st): State<PortalState>, path: IdPath, req: Request| async move {
            let r = $f(State(st.clone()), path, req).await;
            finish(&st, r)
        }
    };
}

/// The admin UI's routes.
pub(crate) fn router() -> Router<PortalState> {
    Router::new()
        .route("/auth/admin", get(home))
        .route("/auth/admin/", get(home))
        .route("/auth/admin/static/admin.css", get(css))
        .route("/auth/admin/users", get(ui!(users_page)))
        .route("/auth/admin/users/{id}", get(ui!(user_page, path)))
        .route("/auth/admin/users/{id}/block", post(ui!(user_block, path)))
        .route(
            "/auth/admin/users/{id}/unblock",
            post(ui!(user_unblock, path)),
        )
        .route(
            "/auth/admin/users/{id}/force_reset",
            post(ui!(user_force_reset, path)),
        )
        .route(
            "/auth/admin/users/{id}/delete",
            get(ui!(user_delete_confirm, path)).post(ui!(user_delete, path)),
        )
        .route(
            "/auth/admin/users/{id}/groups",
            post(ui!(user_group_add, path)),
        )
        .route(
            "/auth/admin/users/{id}/groups/remove",
            post(ui!(user_group_remove, path)),
        )
        .route("/auth/admin/users/{id}/tags", post(ui!(user_tag_add, path)))
        .route(
            "/auth/admin/users/{id}/tags/remove",
            post(ui!(user_tag_remove, path)),
        )
        .route(
            "/auth/admin/users/{id}/tokens",
            post(ui!(user_token_create, path)),
        )
        .route(
            "/auth/admin/tokens/{id}/revoke",
            post(ui!(token_revoke, path)),
        )
        .route(
            "/auth/admin/groups",
            get(ui!(groups_page)).post(ui!(group_create)),
        )
        .route("/auth/admin/groups/{name}", get(ui!(group_page, path)))
        .route(
            "/auth/admin/groups/{name}/delete",
            get(ui!(group_delete_confirm, path)).post(ui!(group_delete, path)),
        )
        .route(
            "/auth/admin/groups/{name}/members",
            post(ui!(group_member_add, path)),
        )
        .route(
            "/auth/admin/groups/{name}/members/remove",
            post(ui!(group_member_remove, path)),
        )
        .route(
            "/auth/admin/groups/{name}/permissions",
            post(ui!(group_grant, path)),
        )
        .route(
            "/auth/admin/groups/{name}/permissions/remove",
            post(ui!(group_revoke, path)),
        )
        .route("/auth/admin/audit", get(ui!(audit_page)))
}

// ---------------------------------------------------------------------------------------
// Answers

/// Why a UI request ends without its page.
enum UiError {
    /// Not logged in: to the login page, then back to this path.
    Login(String),
    /// An error page with the API error's status and message.
    Page(ApiError),
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> UiError {
        UiError::Page(e)
    }
}

type UiResult = Result<Response, UiError>;

fn secure(resp: Response) -> Response {
    html::secure(resp, &html::content_security_policy("'self'", "'self'"))
}

fn render(
    env: &Environment<'_>,
    status: StatusCode,
    name: &str,
    ctx: &serde_json::Value,
) -> Response {
    let html = env
        .get_template(name)
        .and_then(|t| t.render(html::template_value(ctx)));
    match html {
        Ok(html) => {
            let mut resp = Response::new(Body::from(html));
            *resp.status_mut() = status;
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            secure(resp)
        }
        Err(e) => {
            tracing::error!(error = %e, template = name, "cannot render an admin page");
            secure((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response())
        }
    }
}

/// A handler's outcome as the answer: errors as pages of `st`'s templates.
fn finish(st: &PortalState, result: UiResult) -> Response {
    match result {
        Ok(resp) => resp,
        Err(UiError::Login(came_from)) => secure(redirect(&format!(
            "/auth/login?came_from={}",
            seg(&came_from)
        ))),
        Err(UiError::Page(e)) => {
            let errors: Vec<serde_json::Value> = e
                .errors
                .iter()
                .map(|(k, v)| json!({"field": k, "message": v.as_str().unwrap_or("")}))
                .collect();
            render(
                &templates(st),
                e.status,
                "error.html",
                &json!({
                    "status": e.status.as_u16(),
                    "message": e.message,
                    "errors": errors,
                }),
            )
        }
    }
}

fn redirect(location: &str) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

fn with_cookie(mut resp: Response, cookie: Option<String>) -> Response {
    if let Some(v) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

fn path_err(e: &PathRejection) -> UiError {
    UiError::Page(ApiError::bad(format!("invalid path: {}", e.body_text())))
}

// ---------------------------------------------------------------------------------------
// Requests

fn came_from(parts: &Parts) -> String {
    parts
        .uri
        .path_and_query()
        .map_or_else(|| HOME.to_owned(), |p| p.as_str().to_owned())
}

async fn who(st: &PortalState, parts: &Parts, back: String) -> Result<Admin, UiError> {
    match access::admin(st, parts).await {
        Ok(a) => Ok(a),
        Err(e) if e.status == StatusCode::UNAUTHORIZED => Err(UiError::Login(back)),
        Err(e) => Err(UiError::Page(e)),
    }
}

/// A page view: the administrator, the session's CSRF token, the flash message.
struct View {
    env: Arc<Environment<'static>>,
    uri: http::Uri,
    admin: Admin,
    csrf: String,
    flash: Option<String>,
    cookie: Option<String>,
}

/// A GET's [`View`].
async fn view(st: &PortalState, req: Request) -> Result<View, UiError> {
    view_of(st, &req.into_parts().0).await
}

async fn view_of(st: &PortalState, parts: &Parts) -> Result<View, UiError> {
    let mut admin = who(st, parts, came_from(parts)).await?;
    let csrf = SessionCsrfStorage::new()
        .get_token(&mut admin.session)
        .map_err(session_err)?;
    let flash = admin
        .session
        .remove(FLASH_KEY)
        .and_then(|v| v.as_str().map(str::to_owned));
    let cookie = if admin.session.is_changed() {
        st.inner
            .sessions
            .save(&mut admin.session)
            .await
            .map_err(session_err)?
    } else {
        None
    };
    Ok(View {
        env: templates(st),
        uri: parts.uri.clone(),
        admin,
        csrf,
        flash,
        cookie,
    })
}

impl View {
    /// The query string as `T` (400 when it does not read).
    fn query<T: serde::de::DeserializeOwned>(&self) -> Result<T, UiError> {
        Query::<T>::try_from_uri(&self.uri)
            .map(|Query(q)| q)
            .map_err(|e| ApiError::bad(format!("invalid query: {}", e.body_text())).into())
    }

    /// Renders `name` with `data` plus the common variables.
    fn page(self, name: &str, mut data: serde_json::Value) -> Response {
        if let Some(obj) = data.as_object_mut() {
            obj.insert(
                "me".into(),
                json!({"id": self.admin.user.id, "username": self.admin.user.username}),
            );
            obj.insert("csrf".into(), json!(self.csrf));
            obj.insert("flash".into(), json!(self.flash));
        }
        with_cookie(render(&self.env, StatusCode::OK, name, &data), self.cookie)
    }
}

/// The fields of a posted form, checked for the CSRF token.
struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    fn take(&mut self, name: &str) -> Option<String> {
        let i = self.pairs.iter().position(|(k, _)| k == name)?;
        Some(self.pairs.remove(i).1)
    }

    fn required(&mut self, name: &str) -> Result<String, UiError> {
        self.take(name).ok_or_else(|| {
            ApiError::bad("invalid input")
                .field(name, "required")
                .into()
        })
    }

    /// Refuses fields the form does not have.
    fn finish(self) -> Result<(), UiError> {
        match self.pairs.first() {
            None => Ok(()),
            Some((k, _)) => Err(ApiError::bad(format!(
                "invalid input: unknown field `{}`",
                k.chars().take(40).collect::<String>().escape_debug()
            ))
            .into()),
        }
    }
}

async fn form(st: &PortalState, req: Request) -> Result<(Admin, Form), UiError> {
    let (parts, body) = req.into_parts();
    check_origin(st, &parts.headers)?;
    let admin = who(st, &parts, HOME.to_owned()).await?;
    let pairs = match read_body(&parts.headers, body, st.inner.config.max_body_bytes).await? {
        Incoming::Form(pairs) => pairs,
        Incoming::Json(_) => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the admin pages take urlencoded forms (use /auth/api/admin/ for JSON)",
            )
            .into());
        }
    };
    let mut pairs = pairs;
    check_form_token(&admin, &mut pairs).await?;
    Ok((admin, Form { pairs }))
}

/// A posted form with exactly the fields `names`, each required: the administrator and
/// the fields' values (in the order of `names`).
async fn change<const N: usize>(
    st: &PortalState,
    req: Request,
    names: [&str; N],
) -> Result<(Admin, [String; N]), UiError> {
    let (admin, mut f) = form(st, req).await?;
    let mut values: [String; N] = std::array::from_fn(|_| String::new());
    for (value, name) in values.iter_mut().zip(names) {
        *value = f.required(name)?;
    }
    f.finish()?;
    Ok((admin, values))
}

/// After a change: the flash message in the session, and a redirect to `location`.
async fn done(st: &PortalState, mut admin: Admin, message: &str, location: &str) -> UiResult {
    admin.session.insert(FLASH_KEY, message.to_owned());
    let cookie = st
        .inner
        .sessions
        .save(&mut admin.session)
        .await
        .map_err(session_err)?;
    Ok(secure(with_cookie(redirect(location), cookie)))
}

fn user_url(id: i64) -> String {
    format!("/auth/admin/users/{id}")
}

fn group_url(name: &str) -> String {
    format!("/auth/admin/groups/{}", seg(name))
}

type IdPath = Result<Path<String>, PathRejection>;

fn id_of(path: IdPath) -> Result<i64, UiError> {
    let Path(raw) = path.map_err(|e| path_err(&e))?;
    Ok(parse_id("id", &raw)?)
}

fn name_of(path: IdPath) -> Result<String, UiError> {
    path.map(|Path(n)| n).map_err(|e| path_err(&e))
}

/// Links to the previous and next pages: `base` with `params` and `page`.
fn pager(base: &str, params: &[(&str, Option<&str>)], page: u64, pages: u64) -> serde_json::Value {
    let url = |p: u64| {
        let mut q: Vec<String> = params
            .iter()
            .filter_map(|(k, v)| {
                v.filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={}", seg(v)))
            })
            .collect();
        q.push(format!("page={p}"));
        format!("{base}?{}", q.join("&"))
    };
    json!({
        "page": page,
        "pages": pages,
        "prev": (page > 1).then(|| url(page - 1)),
        "next": (page < pages).then(|| url(page + 1)),
    })
}

fn json_of<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

// ---------------------------------------------------------------------------------------
// Pages

async fn home() -> Response {
    secure(redirect(HOME))
}

async fn css(State(st): State<PortalState>) -> Response {
    let css = match read_override(override_dir(&st).as_ref(), "admin.css") {
        Ok(Some(css)) => css,
        _ => CSS.to_owned(),
    };
    html::stylesheet(css)
}

async fn users_page(State(st): State<PortalState>, req: Request) -> UiResult {
    let v = view(&st, req).await?;
    let q: UsersQuery = v.query()?;
    let page = actions::users_page(&v.admin, &q).await?;
    let p = page.paging;
    let pager = pager(
        HOME,
        &[
            ("q", q.q.as_deref()),
            ("status", q.status.as_deref()),
            ("group", q.group.as_deref()),
            ("per_page", q.per_page.as_deref()),
        ],
        p.page,
        p.pages,
    );
    Ok(v.page(
        "users.html",
        json!({
            "users": json_of(&page.users),
            "total": p.total,
            "pager": pager,
            "q": q.q.unwrap_or_default(),
            "status": q.status.unwrap_or_default(),
            "group": q.group.unwrap_or_default(),
        }),
    ))
}

async fn user_page(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    let v = view(&st, req).await?;
    let id = id_of(path)?;
    let detail = actions::user_detail(&v.admin, id).await?;
    let all = actions::groups(&v.admin).await?;
    let other_groups: Vec<&str> = all
        .iter()
        .map(|g| g.name.as_str())
        .filter(|n| !detail.groups.iter().any(|m| m == n))
        .collect();
    let mut data = json_of(&detail);
    if let Some(events) = data.get_mut("audit").and_then(|a| a.as_array_mut()) {
        for e in events {
            let text = e["details"].to_string();
            e["details"] = json!(text);
        }
    }
    data["other_groups"] = json!(other_groups);
    data["is_me"] = json!(v.admin.user.id == id);
    Ok(v.page("user.html", data))
}

async fn user_block(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    let (admin, []) = change(&st, req, []).await?;
    let id = id_of(path)?;
    let u = actions::block(&st, &admin, id).await?;
    done(
        &st,
        admin,
        &format!("{} is blocked", u.username),
        &user_url(id),
    )
    .await
}

async fn user_unblock(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    let (admin, []) = change(&st, req, []).await?;
    let id = id_of(path)?;
    let u = actions::unblock(&admin, id).await?;
    done(
        &st,
        admin,
        &format!("{} is unblocked", u.username),
        &user_url(id),
    )
    .await
}

async fn user_force_reset(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    let (admin, []) = change(&st, req, []).await?;
    let id = id_of(path)?;
    let a = actions::force_reset(&st, &admin, id).await?;
    let message = if a.mailed {
        "password removed, sessions ended, reset link mailed"
    } else {
        "password removed and sessions ended; no reset link was mailed (no address, or the mail failed)"
    };
    done(&st, admin, message, &user_url(id)).await
}

async fn user_delete_confirm(
    State(st): State<PortalState>,
    path: IdPath,
    req: Request,
) -> UiResult {
    let v = view(&st, req).await?;
    let id = id_of(path)?;
    let detail = actions::user_detail(&v.admin, id).await?;
    Ok(v.page(
        "confirm.html",
        json!({
            "title": format!("Delete user {}", detail.user.username),
            "question": format!(
                "Delete the user `{}` (id {}) with their memberships, tags and API tokens? This cannot be undone; the audit log keeps their events.",
                detail.user.username, id
            ),
            "action": format!("/auth/admin/users/{id}/delete"),
            "button": "Delete the user",
            "back": user_url(id),
        }),
    ))
}

async fn user_delete(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    let (admin, []) = change(&st, req, []).await?;
    let id = id_of(path)?;
    actions::delete_user(&st, &admin, id).await?;
    done(&st, admin, &format!("user {id} deleted"), HOME).await
}

async fn user_group_add(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    let (admin, [group]) = change(&st, req, ["group"]).await?;
    let id = id_of(path)?;
    actions::add_member(&admin, &group, &UserRef::Id(id)).await?;
    done(&st, admin, &format!("added to {group}"), &user_url(id)).await
}

async fn user_group_remove(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    let (admin, [group]) = change(&st, req, ["group"]).await?;
    let id = id_of(path)?;
    actions::remove_member(&admin, &group, id).await?;
    done(&st, admin, &format!("removed from {group}"), &user_url(id)).await
}

async fn user_tag_add(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    let (admin, [tag]) = change(&st, req, ["tag"]).await?;
    let id = id_of(path)?;
    actions::add_tags(&admin, portcullis_store::USERS, id, &[tag]).await?;
    done(&st, admin, "tag added", &user_url(id)).await
}

async fn user_tag_remove(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    let (admin, [tag]) = change(&st, req, ["tag"]).await?;
    let id = id_of(path)?;
    actions::remove_tags(&admin, portcullis_store::USERS, id, &[tag]).await?;
    done(&st, admin, "tag removed", &user_url(id)).await
}

async fn user_token_create(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    let (parts, body) = req.into_parts();
    let req = Request::from_parts(parts.clone(), body);
    let (admin, mut f) = form(&st, req).await?;
    let name = f.required("name")?;
    let days = f.take("expires_in_days").unwrap_or_default();
    f.finish()?;
    let id = id_of(path)?;
    let days = if days.is_empty() {
        None
    } else {
        Some(days.parse::<u32>().map_err(|_| {
            ApiError::bad("invalid input").field("expires_in_days", "must be a whole number")
        })?)
    };
    let created = actions::create_token(&admin, id, &name, days).await?;
    // The secret is shown in this answer only (no redirect: it is stored nowhere).
    let v = view_of(&st, &parts).await?;
    Ok(v.page(
        "token.html",
        json!({"token": json_of(&created.token), "secret": created.secret, "back": user_url(id)}),
    ))
}

async fn token_revoke(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    // The owner's id: where to go back to.
    let (admin, [user]) = change(&st, req, ["user"]).await?;
    let id = id_of(path)?;
    let back = user_url(parse_id("user", &user)?);
    actions::revoke_token(&admin, id).await?;
    done(&st, admin, "API token revoked", &back).await
}

async fn groups_page(State(st): State<PortalState>, req: Request) -> UiResult {
    let v = view(&st, req).await?;
    let groups = actions::groups(&v.admin).await?;
    Ok(v.page("groups.html", json!({"groups": json_of(&groups)})))
}

async fn group_create(State(st): State<PortalState>, req: Request) -> UiResult {
    let (admin, mut f) = form(&st, req).await?;
    let name = f.required("name")?;
    let description = f.take("description").unwrap_or_default();
    f.finish()?;
    let g = actions::create_group(&admin, &name, &description).await?;
    done(
        &st,
        admin,
        &format!("group {} created", g.name),
        &group_url(&g.name),
    )
    .await
}

async fn group_page(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    let v = view(&st, req).await?;
    let name = name_of(path)?;
    let detail = actions::group_detail(&v.admin, &name).await?;
    Ok(v.page("group.html", json_of(&detail)))
}

async fn group_delete_confirm(
    State(st): State<PortalState>,
    path: IdPath,
    req: Request,
) -> UiResult {
    let v = view(&st, req).await?;
    let name = name_of(path)?;
    let detail = actions::group_detail(&v.admin, &name).await?;
    Ok(v.page(
        "confirm.html",
        json!({
            "title": format!("Delete group {name}"),
            "question": format!(
                "Delete the group `{name}` with its {} membership(s) and {} permission(s)? This cannot be undone.",
                detail.members.len(), detail.permissions.len()
            ),
            "action": format!("{}/delete", group_url(&name)),
            "button": "Delete the group",
            "back": group_url(&name),
        }),
    ))
}

async fn group_delete(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    let (admin, []) = change(&st, req, []).await?;
    let name = name_of(path)?;
    actions::delete_group(&admin, &name).await?;
    done(
        &st,
        admin,
        &format!("group {name} deleted"),
        "/auth/admin/groups",
    )
    .await
}

async fn group_member_add(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    let (admin, [user]) = change(&st, req, ["user"]).await?;
    let name = name_of(path)?;
    let u = actions::add_member(&admin, &name, &UserRef::Name(user)).await?;
    done(
        &st,
        admin,
        &format!("{} added", u.username),
        &group_url(&name),
    )
    .await
}

async fn group_member_remove(
    State(st): State<PortalState>,
    path: IdPath,
    req: Request,
) -> UiResult {
    let (admin, [user]) = change(&st, req, ["user_id"]).await?;
    let name = name_of(path)?;
    let uid = parse_id("user_id", &user)?;
    actions::remove_member(&admin, &name, uid).await?;
    done(
        &st,
        admin,
        &format!("user {uid} removed"),
        &group_url(&name),
    )
    .await
}

async fn group_grant(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    let (admin, [permission]) = change(&st, req, ["permission"]).await?;
    let name = name_of(path)?;
    actions::grant(&admin, &name, &permission, true).await?;
    done(
        &st,
        admin,
        &format!("{permission} granted"),
        &group_url(&name),
    )
    .await
}

async fn group_revoke(State(st): State<PortalState>, path: IdPath, req: Request) -> UiResult {
    let (admin, [permission]) = change(&st, req, ["permission"]).await?;
    let name = name_of(path)?;
    actions::revoke(&admin, &name, &permission).await?;
    done(
        &st,
        admin,
        &format!("{permission} revoked"),
        &group_url(&name),
    )
    .await
}

async fn audit_page(State(st): State<PortalState>, req: Request) -> UiResult {
    let v = view(&st, req).await?;
    let f: AuditFilter = v.query()?;
    let page = actions::audit_page(&v.admin, &f).await?;
    let p = page.paging;
    let pager = pager(
        "/auth/admin/audit",
        &[
            ("user", f.user.as_deref()),
            ("event", f.event.as_deref()),
            ("actor", f.actor.as_deref()),
            ("since", f.since.as_deref()),
            ("until", f.until.as_deref()),
            ("per_page", f.per_page.as_deref()),
        ],
        p.page,
        p.pages,
    );
    let events: Vec<serde_json::Value> = page
        .events
        .iter()
        .map(|e| {
            let mut j = json_of(e);
            j["details"] = json!(e.details.to_string());
            j
        })
        .collect();
    Ok(v.page(
        "audit.html",
        json!({
            "events": events,
            "total": p.total,
            "pager": pager,
            "f": {
                "user": f.user.unwrap_or_default(),
                "event": f.event.unwrap_or_default(),
                "actor": f.actor.unwrap_or_default(),
                "since": f.since.unwrap_or_default(),
                "until": f.until.unwrap_or_default(),
            },
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let env = build_env(None);
        for (name, _) in TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(seg("a b/c?d&e=f%"), "a%20b%2Fc%3Fd%26e%3Df%25");
        assert_eq!(seg("Ünï"), "%C3%9Cn%C3%AF");
        assert_eq!(seg("ok-1.2_3~"), "ok-1.2_3~");
    }
}
