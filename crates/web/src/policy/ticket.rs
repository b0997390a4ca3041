//! Pyramid-compatible auth tickets as a [`SecurityPolicy`].

use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderValue;
use http::header::{COOKIE, HOST, SET_COOKIE};
use http::request::Parts;

use super::{BoxFuture, Claim, PolicyError, SecurityPolicy};
use crate::ticket::{AuthTktCookie, ClientIp, TicketRequest, UserId, cookie_value_from_header};

/// Identifies requests by an `auth_tkt` cookie, byte-compatible with Pyramid's
/// `AuthTktCookieHelper` (so a login made in a Pyramid application with the same secret is
/// honoured, and the reverse).
///
/// The client address used for `include_ip` tickets comes from [`crate::ClientAddr`] in the
/// request extensions (set by the server from the socket, or from `X-Forwarded-For` only for
/// trusted proxies); without it, `0.0.0.0` is used, as Pyramid does without `include_ip`.
#[derive(Debug)]
pub struct TicketPolicy {
    helper: AuthTktCookie,
    clock: fn() -> u64,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl TicketPolicy {
    /// A policy over a configured cookie helper.
    pub fn new(helper: AuthTktCookie) -> TicketPolicy {
        TicketPolicy { helper, clock: now }
    }

    /// Uses `clock` (seconds since the epoch) instead of the system clock (tests).
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> u64) -> TicketPolicy {
        self.clock = clock;
        self
    }

    /// The cookie helper.
    pub fn helper(&self) -> &AuthTktCookie {
        &self.helper
    }

    fn request<'a>(&self, req: &'a Parts) -> TicketRequest<'a> {
        let host = req
            .headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let ip = req
            .extensions
            .get::<crate::ClientAddr>()
            .map_or(ClientIp::UNSPECIFIED, |a| ClientIp::from(a.0));
        TicketRequest::new(host, ip)
    }
}

/// Integer-looking ids (the store's) are written as `userid_type:int`, as Pyramid does for
/// integers; anything else as text (`b64unicode`).
fn ticket_userid(userid: &str) -> UserId {
    match userid.parse::<i64>() {
        Ok(i) if i.to_string() == userid => UserId::Int(i),
        _ => UserId::Text(userid.to_owned()),
    }
}

fn set_cookies(values: Vec<String>) -> Vec<(http::HeaderName, HeaderValue)> {
    values
        .into_iter()
        .filter_map(|v| HeaderValue::from_str(&v).ok().map(|v| (SET_COOKIE, v)))
        .collect()
}

impl SecurityPolicy for TicketPolicy {
    fn name(&self) -> &'static str {
        "ticket"
    }

    fn identify<'a>(&'a self, req: &'a Parts) -> BoxFuture<'a, Result<Option<Claim>, PolicyError>> {
        Box::pin(async move {
            let name = self.helper.cookie_name();
            for header in req.headers.get_all(COOKIE) {
                let Ok(header) = header.to_str() else {
                    continue;
                };
                let Some(value) = cookie_value_from_header(header, name) else {
                    continue;
                };
                let treq = self.request(req);
                let now = (self.clock)();
                match self.helper.identify(&value, &treq, now) {
                    Ok(found) => {
                        let mut claim = Claim::new(found.userid.to_string(), "ticket");
                        if let Some(cookies) = found.reissue {
                            claim.response_headers = set_cookies(cookies);
                        }
                        return Ok(Some(claim));
                    }
                    Err(bad) => {
                        tracing::debug!(target: "portcullis::policy", reason = %bad, "auth ticket refused");
                    }
                }
            }
            Ok(None)
        })
    }

    fn remember<'a>(
        &'a self,
        req: &'a Parts,
        userid: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(http::HeaderName, HeaderValue)>, PolicyError>> {
        Box::pin(async move {
            let cookies = self
                .helper
                .remember(
                    &ticket_userid(userid),
                    &[],
                    &self.request(req),
                    (self.clock)(),
                )
                .map_err(|e| PolicyError {
                    policy: "ticket",
                    message: e.to_string(),
                })?;
            Ok(set_cookies(cookies))
        })
    }

    fn forget<'a>(
        &'a self,
        req: &'a Parts,
    ) -> BoxFuture<'a, Result<Vec<(http::HeaderName, HeaderValue)>, PolicyError>> {
        Box::pin(async move { Ok(set_cookies(self.helper.forget(&self.request(req)))) })
    }
}
