//! py4web's JSON envelope and the strict request-body reader.
//!
//! Every answer is a JSON object with `status` (`"success"` or `"error"`) and `message`;
//! errors add `code` (the HTTP status) and `errors` (field name to message) when a field
//! is at fault.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

/// An error answer: status code, message, per-field errors.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) errors: Map<String, Value>,
    pub(crate) retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            errors: Map::new(),
            retry_after: None,
        }
    }

    pub(crate) fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn field(mut self, field: &str, message: impl Into<String>) -> ApiError {
        self.errors
            .insert(field.to_owned(), Value::String(message.into()));
        self
    }

    pub(crate) fn fields(errors: Map<String, Value>) -> ApiError {
        ApiError {
            errors,
            ..ApiError::bad("invalid input")
        }
    }

    pub(crate) fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error, please try again later",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "status": "error",
            "message": self.message,
            "code": self.status.as_u16(),
        });
        if !self.errors.is_empty()
            && let Some(obj) = body.as_object_mut()
        {
            obj.insert("errors".to_owned(), Value::Object(self.errors));
        }
        let mut resp = json_response(self.status, &body);
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A 200 `success` envelope with `message` and the members of `extra` (an object).
pub(crate) fn success(message: &str, extra: Value) -> Response {
    let mut body = json!({"status": "success", "message": message});
    if let (Some(obj), Value::Object(more)) = (body.as_object_mut(), extra) {
        obj.extend(more);
    }
    json_response(StatusCode::OK, &body)
}

/// Adds a `Set-Cookie` header.
pub(crate) fn with_cookie(mut resp: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// A request body that passed the content-type, size and UTF-8 checks.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// `application/json`: the text.
    Json(String),
    /// `application/x-www-form-urlencoded`: the decoded pairs, in order.
    Form(Vec<(String, String)>),
}

/// Checks the content type and size and reads the body (JSON or a urlencoded form).
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Incoming, ApiError> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ctype.split(';').next().unwrap_or("").trim();
    let form = mime.eq_ignore_ascii_case("application/x-www-form-urlencoded");
    if !form && !mime.eq_ignore_ascii_case("application/json") {
        let shown = if mime.is_empty() { "none" } else { mime };
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "expected content type `application/json` or \
                 `application/x-www-form-urlencoded`, got `{shown}`"
            ),
        ));
    }
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body larger than {limit} bytes"),
        )
    };
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())?;
    if form {
        return decode_form(&bytes).map(Incoming::Form);
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::bad("request body is not valid utf-8"))?;
    Ok(Incoming::Json(text.to_owned()))
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode_component(raw: &[u8]) -> Result<String, ApiError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = raw.get(i + 1).copied().and_then(hex_val);
                let lo = raw.get(i + 2).copied().and_then(hex_val);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h * 16 + l),
                    _ => return Err(ApiError::bad("malformed form body: bad percent escape")),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::bad("request body is not valid utf-8"))
}

/// Decodes `application/x-www-form-urlencoded`; a repeated field is an error.
pub(crate) fn decode_form(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let (k, v) = match part.iter().position(|b| *b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &b""[..]),
        };
        let k = decode_component(k)?;
        let v = decode_component(v)?;
        if pairs.iter().any(|(seen, _)| *seen == k) {
            return Err(ApiError::bad(format!(
                "invalid request: field `{k}` given twice"
            )));
        }
        pairs.push((k, v));
    }
    Ok(pairs)
}

/// A form's pairs as a JSON object of strings (`remember` as a boolean), for `T`.
pub(crate) fn form_to<T: DeserializeOwned>(pairs: Vec<(String, String)>) -> Result<T, ApiError> {
    let mut obj = Map::new();
    for (k, v) in pairs {
        let value = if k == "remember" {
            Value::Bool(matches!(v.as_str(), "1" | "true" | "on" | "yes"))
        } else {
            Value::String(v)
        };
        obj.insert(k, value);
    }
    serde_json::from_value(Value::Object(obj))
        .map_err(|e| ApiError::bad(format!("invalid request: {e}")))
}

pub(crate) fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ApiError::bad(format!("invalid request: {e}")),
        _ => ApiError::bad(format!("malformed json: {e}")),
    })
}

/// Collects per-field length and presence problems.
#[derive(Debug, Default)]
pub(crate) struct Checks {
    errors: Map<String, Value>,
}

impl Checks {
    pub(crate) fn len(&mut self, field: &str, value: &str, max: usize) -> &mut Checks {
        if value.len() > max {
            self.errors.insert(
                field.to_owned(),
                Value::String(format!("longer than {max} bytes")),
            );
        } else if value.chars().any(char::is_control) {
            self.errors.insert(
                field.to_owned(),
                Value::String("contains a control character".to_owned()),
            );
        }
        self
    }

    pub(crate) fn required(&mut self, field: &str, value: &str, max: usize) -> &mut Checks {
        if value.is_empty() {
            self.errors
                .insert(field.to_owned(), Value::String("required".to_owned()));
            return self;
        }
        self.len(field, value, max)
    }

    pub(crate) fn email(&mut self, field: &str, value: &str) -> &mut Checks {
        self.required(field, value, 320);
        if !self.errors.contains_key(field) {
            let ok = value
                .rsplit_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && (d.contains('.') || d == "localhost"))
                && !value.chars().any(char::is_whitespace);
            if !ok {
                self.errors.insert(
                    field.to_owned(),
                    Value::String("not an e-mail address".to_owned()),
                );
            }
        }
        self
    }

    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) -> &mut Checks {
        self.errors
            .insert(field.to_owned(), Value::String(message.into()));
        self
    }

    pub(crate) fn finish(&mut self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::fields(std::mem::take(&mut self.errors)))
        }
    }
}
