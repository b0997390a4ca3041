//! Reading page POSTs (Origin, body, CSRF) and answering refused or invalid forms.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Query, Request};
use axum::response::Response;
use http::StatusCode;
use http::request::Parts;
use portcullis_store::AuditEvent;
use serde_json::{Map, Value, json};

use crate::api::{CSRF_FIELD, check_origin, csrf_valid};
use crate::ctx::Ctx;
use crate::envelope::{ApiError, Incoming, read_body};
use crate::state::PortalState;

use super::page::*;

/// A decoded form post. Fields the page does not know are ignored; a missing field
/// reads as empty.
#[derive(Debug, Default)]
pub(super) struct Form(HashMap<String, String>);

impl Form {
    pub(super) fn get(&self, key: &str) -> String {
        self.0.get(key).cloned().unwrap_or_default()
    }

    pub(super) fn opt(&self, key: &str) -> Option<String> {
        self.0.get(key).filter(|v| !v.is_empty()).cloned()
    }

    /// The fields in `keep` as the template's `values` (never passwords).
    pub(super) fn values(&self, keep: &[&str]) -> Value {
        let mut m = Map::new();
        for k in keep {
            if let Some(v) = self.0.get(*k) {
                m.insert((*k).to_owned(), Value::String(v.clone()));
            }
        }
        Value::Object(m)
    }
}

/// Why a page POST was not read.
pub(super) enum Refused {
    /// Bad Origin or body: a message page with this error.
    Request(ApiError),
    /// The CSRF token is missing or wrong: the form again.
    Csrf(Form),
}

/// Reads a page POST: trusted `Origin` (when present), a urlencoded body within the size
/// limit, valid UTF-8, the session's CSRF token.
pub(super) async fn read_post(st: &PortalState, req: Request) -> (Ctx, Result<Form, Refused>) {
    let (parts, body): (Parts, Body) = req.into_parts();
    let ctx = Ctx::new(st, &parts);
    if let Err(e) = check_origin(st, &parts) {
        ctx.audit(AuditEvent::new("csrf_refused").details(json!({"reason": "origin"})))
            .await;
        return (ctx, Err(Refused::Request(e)));
    }
    let pairs = match read_body(&parts.headers, body, st.inner.config.max_body_bytes).await {
        Ok(Incoming::Form(pairs)) => pairs,
        Ok(Incoming::Json(_)) => {
            let e = ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "this page takes form posts (`application/x-www-form-urlencoded`), not json",
            );
            return (ctx, Err(Refused::Request(e)));
        }
        Err(e) => return (ctx, Err(Refused::Request(e))),
    };
    let form = Form(pairs.into_iter().collect());
    if !csrf_valid(st, &ctx, form.0.get(CSRF_FIELD).map(String::as_str)).await {
        ctx.audit(AuditEvent::new("csrf_refused")).await;
        return (ctx, Err(Refused::Csrf(form)));
    }
    (ctx, Ok(form))
}

/// The query of a GET, or a 400 page.
pub(super) fn query(parts: &Parts) -> Result<HashMap<String, String>, ApiError> {
    Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
        .map(|Query(q)| q)
        .map_err(|e| ApiError::bad(format!("invalid query: {}", e.body_text())))
}

/// What a form page re-renders on an error: its template and the fields echoed back.
pub(super) struct FormSpec {
    pub(super) template: &'static str,
    pub(super) keep: &'static [&'static str],
}

pub(super) const LOGIN: FormSpec = FormSpec {
    template: "login.html",
    keep: &["username", "came_from", "remember"],
};
pub(super) const REGISTER: FormSpec = FormSpec {
    template: "register.html",
    keep: &["email", "username", "first_name", "last_name"],
};
pub(super) const VERIFY: FormSpec = FormSpec {
    template: "verify_email.html",
    keep: &["token"],
};
pub(super) const REQUEST_RESET: FormSpec = FormSpec {
    template: "request_reset_password.html",
    keep: &["email"],
};
pub(super) const RESET: FormSpec = FormSpec {
    template: "reset_password.html",
    keep: &["token"],
};
pub(super) const PROFILE: FormSpec = FormSpec {
    template: "profile.html",
    keep: &["first_name", "last_name"],
};
pub(super) const CHANGE_PASSWORD: FormSpec = FormSpec {
    template: "change_password.html",
    keep: &[],
};
pub(super) const CHANGE_EMAIL: FormSpec = FormSpec {
    template: "change_email.html",
    keep: &["new_email"],
};
pub(super) const MAGIC_LINK: FormSpec = FormSpec {
    template: "magic_link.html",
    keep: &["email", "came_from"],
};
pub(super) const MAGIC_LOGIN: FormSpec = FormSpec {
    template: "magic_login.html",
    keep: &["token", "came_from"],
};
pub(super) const LOGOUT: FormSpec = FormSpec {
    template: "logout.html",
    keep: &[],
};

/// A message page for a request that could not be read.
pub(super) async fn request_error(st: &PortalState, ctx: &Ctx, e: ApiError) -> Response {
    let title = match e.status {
        StatusCode::PAYLOAD_TOO_LARGE => "Request too large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "Unsupported request",
        StatusCode::FORBIDDEN => "Request refused",
        StatusCode::INTERNAL_SERVER_ERROR => "Something went wrong",
        _ => "Bad request",
    };
    Page::message(e.status, title, "")
        .alert(&sentence(&e))
        .finish(st, ctx)
        .await
}

/// The answer to a refused POST: a message page, or the form again (CSRF).
pub(super) async fn refused(
    st: &PortalState,
    ctx: &Ctx,
    why: Refused,
    spec: &FormSpec,
) -> Response {
    match why {
        Refused::Request(e) => request_error(st, ctx, e).await,
        Refused::Csrf(form) => Page::new(spec.template)
            .status(StatusCode::FORBIDDEN)
            .set("values", safe_values(st, &form, spec))
            .alert(
                "This form has expired or was not sent from this site. Please check it and submit it again.",
            )
            .finish(st, ctx)
            .await,
    }
}

/// The echoed values of `form`, with `came_from` only when safe.
pub(super) fn safe_values(st: &PortalState, form: &Form, spec: &FormSpec) -> Value {
    let mut v = form.values(spec.keep);
    if let Some(obj) = v.as_object_mut()
        && let Some(cf) = obj.get("came_from").and_then(Value::as_str)
    {
        let safe = st.inner.config.safe_came_from(cf).unwrap_or_default();
        obj.insert("came_from".into(), Value::String(safe));
    }
    v
}

/// The form again, with the flow's status, message and per-field messages.
pub(super) async fn form_error(
    st: &PortalState,
    ctx: &Ctx,
    spec: &FormSpec,
    form: &Form,
    e: ApiError,
) -> Response {
    if e.status.is_server_error() {
        return request_error(st, ctx, e).await;
    }
    let mut page = Page::new(spec.template)
        .status(e.status)
        .set("values", safe_values(st, form, spec))
        .set("errors", Value::Object(e.errors.clone()))
        .alert(&sentence(&e));
    page.retry_after = e.retry_after;
    page.finish(st, ctx).await
}

/// `303` to the login page, coming back to `path` afterwards.
pub(super) fn to_login(st: &PortalState, path: &str) -> Response {
    see_other(st, &format!("/auth/login?came_from={path}"), None)
}
