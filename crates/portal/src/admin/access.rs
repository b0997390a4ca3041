//! Who is the administrator of a request, and how its input is read.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use http::request::Parts;
use http::{HeaderMap, StatusCode, header};
use portcullis_store::{AuditEvent, Store, StoreError, User, UserStatus};
use portcullis_web::csrf::SessionCsrfStorage;
use portcullis_web::session::Session;
use serde::de::DeserializeOwned;

use super::ADMIN_PERMISSION;
use crate::envelope::{ApiError, Incoming, form_to, parse_json, read_body};
use crate::state::PortalState;

/// The form field that carries the CSRF token (Pyramid's name).
pub(crate) const CSRF_FIELD: &str = "csrf_token";

/// A request by an administrator: who, from where, and a store that audits as them.
pub(crate) struct Admin {
    /// The administrator.
    pub(crate) user: User,
    /// Their session (CSRF token, flash messages).
    pub(crate) session: Session,
    /// The store, acting as `admin:<username>` from the client's address.
    pub(crate) store: Store,
}

impl Admin {
    /// Appends `ev` to the audit log (as the administrator); a failure is logged.
    pub(crate) async fn audit(&self, ev: AuditEvent) {
        if let Err(e) = self.store.audit(ev).await {
            tracing::warn!(error = %e, "cannot write an audit event");
        }
    }
}

fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::COOKIE).and_then(|v| v.to_str().ok())
}

/// A store failure as an API error: the shared mapping ([`crate::ctx::store_err`]: bad
/// input 400 naming the field, conflict 409, else 500), plus unknown records 404.
pub(crate) fn store_err(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound { what } => {
            ApiError::new(StatusCode::NOT_FOUND, format!("{what} not found"))
        }
        other => crate::ctx::store_err(other),
    }
}

pub(crate) use crate::ctx::session_err;

/// Refuses a request whose `Origin` is present and not trusted (403).
pub(crate) fn check_origin(st: &PortalState, headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(header::ORIGIN) {
        Some(origin)
            if !origin
                .to_str()
                .is_ok_and(|o| st.inner.config.origin_trusted(o)) =>
        {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "cross-origin request refused: untrusted `Origin`",
            ))
        }
        _ => Ok(()),
    }
}

/// The administrator of the request: 401 when nobody is logged in, 403 when the user is
/// not active or no group of theirs grants [`ADMIN_PERMISSION`]. Checked on every
/// request, from the database (a blocked administrator is refused at once).
pub(crate) async fn admin(st: &PortalState, parts: &Parts) -> Result<Admin, ApiError> {
    let found = st
        .inner
        .sessions
        .identify(cookie(&parts.headers))
        .await
        .map_err(session_err)?;
    let unauthenticated = || ApiError::new(StatusCode::UNAUTHORIZED, "not logged in");
    let Some((uid, session)) = found else {
        return Err(unauthenticated());
    };
    let Ok(id) = uid.parse::<i64>() else {
        return Err(unauthenticated());
    };
    let Some(user) = st.inner.store.get_user(id).await.map_err(store_err)? else {
        return Err(unauthenticated());
    };
    if user.status != UserStatus::Active {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("your account is {}: administration is refused", user.status),
        ));
    }
    let permissions = st
        .inner
        .store
        .permissions_for(user.id)
        .await
        .map_err(store_err)?;
    if !permissions.iter().any(|p| p == ADMIN_PERMISSION) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "administration needs the `{ADMIN_PERMISSION}` permission, which none of your groups grants"
            ),
        ));
    }
    let addr = crate::ctx::client_addr(st, parts).to_string();
    let store = st
        .inner
        .store
        .acting_as(&format!("admin:{}", user.username), Some(&addr));
    Ok(Admin {
        user,
        session,
        store,
    })
}

/// The administrator as an extractor (a read): 401/403 as [`admin`].
impl FromRequestParts<PortalState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &PortalState) -> Result<Self, ApiError> {
        admin(st, parts).await
    }
}

/// A change by the administrator, as an extractor: a present `Origin` must be trusted
/// (403), then the administrator (401/403), then the body `T` ([`read_input`]).
pub(crate) struct Change<T> {
    /// The administrator.
    pub(crate) admin: Admin,
    /// The body.
    pub(crate) input: T,
}

impl<T: DeserializeOwned> FromRequest<PortalState> for Change<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, st: &PortalState) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        check_origin(st, &parts.headers)?;
        let admin = admin(st, &parts).await?;
        let input = read_input(st, &admin, &parts.headers, body).await?;
        Ok(Change { admin, input })
    }
}

/// The query string as `T`; 400 `invalid query: ...` when it does not read. Put it after
/// [`Admin`] so that the administrator is checked first.
pub(crate) struct Params<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequestParts<PortalState> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &PortalState) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(q)| Params(q))
            .map_err(|e| ApiError::bad(format!("invalid query: {}", e.body_text())))
    }
}

/// Reads a JSON (or urlencoded form, with the session's CSRF token) body into `T`. An
/// empty body without a content type reads as `{}` (for actions without fields).
pub(crate) async fn read_input<T: DeserializeOwned>(
    st: &PortalState,
    admin: &Admin,
    headers: &HeaderMap,
    body: Body,
) -> Result<T, ApiError> {
    let limit = st.inner.config.max_body_bytes;
    if !headers.contains_key(header::CONTENT_TYPE) {
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body larger than {limit} bytes"),
            )
        })?;
        if bytes.is_empty() {
            return parse_json("{}");
        }
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected content type `application/json` or `application/x-www-form-urlencoded`, got `none`",
        ));
    }
    match read_body(headers, body, limit).await? {
        Incoming::Json(text) => {
            // Structs would also read from arrays (`[1]`): only an object is a body.
            let v: serde_json::Value = parse_json(&text)?;
            if !v.is_object() {
                return Err(ApiError::bad("invalid request: expected a JSON object"));
            }
            serde_json::from_value(v).map_err(|e| ApiError::bad(format!("invalid request: {e}")))
        }
        Incoming::Form(mut pairs) => {
            check_form_token(admin, &mut pairs).await?;
            form_to(pairs)
        }
    }
}

/// Takes `csrf_token` out of `pairs` and checks it against the session's (constant
/// time); 403 (audited) when it is missing or wrong.
pub(crate) async fn check_form_token(
    admin: &Admin,
    pairs: &mut Vec<(String, String)>,
) -> Result<(), ApiError> {
    let supplied = pairs
        .iter()
        .position(|(k, _)| k == CSRF_FIELD)
        .map(|i| pairs.remove(i).1);
    let ok =
        supplied.is_some_and(|t| SessionCsrfStorage::new().check_token(Some(&admin.session), &t));
    if ok {
        return Ok(());
    }
    admin
        .audit(AuditEvent::new("csrf_refused").user(admin.user.id))
        .await;
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "form posts need the session's csrf token in `csrf_token`",
    ))
}
