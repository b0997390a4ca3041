//! The demo's HTML pages: small, valid HTML5, every interpolated value escaped.

use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;
use portcullis_web::denial::{form_urlencode, html_escape};

/// A complete page around `body` (already HTML).
fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · Portcullis demo</title>\n</head>\n<body>\n<main>\n{body}</main>\n\
         </body>\n</html>\n",
        title = html_escape(title),
    )
}

/// A hidden `csrf_token` field.
fn csrf_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf_token\" value=\"{}\">",
        html_escape(token)
    )
}

/// The logout button (a POST form with the CSRF token).
fn logout_form(token: &str) -> String {
    format!(
        "<form method=\"post\" action=\"/logout\">{}<button type=\"submit\">Log out</button></form>\n",
        csrf_field(token)
    )
}

/// `/`: the landing page (permission `entry`).
pub(crate) fn home(username: &str, csrf_token: &str) -> String {
    layout(
        "Home",
        &format!(
            "<h1>Home</h1>\n<p>Welcome back, <strong>{user}</strong>!</p>\n\
             <p>If you are viewing this page, it means you have 'entry' access.</p>\n\
             <p><a href=\"/secret\">Click here</a> for Top Secret access (authorized users only).</p>\n\
             {logout}",
            user = html_escape(username),
            logout = logout_form(csrf_token),
        ),
    )
}

/// `/secret` (permission `topsecret`).
pub(crate) fn secret(secret: &str, csrf_token: &str) -> String {
    layout(
        "Top secret",
        &format!(
            "<h1>Top secret</h1>\n<p>You've reached the secret page! The secret is: \
             <strong id=\"secret\">{secret}</strong></p>\n<p><a href=\"/\">Home</a></p>\n{logout}",
            secret = html_escape(secret),
            logout = logout_form(csrf_token),
        ),
    )
}

/// What the login page shows besides the form.
#[derive(Debug, Default)]
pub(crate) struct LoginPage<'a> {
    /// The login to prefill (after a failure).
    pub(crate) login: &'a str,
    /// Where to go after a successful login.
    pub(crate) came_from: &'a str,
    /// An error to show ("Login failed ...").
    pub(crate) message: Option<&'a str>,
    /// The user already logged in, if any.
    pub(crate) current_user: Option<&'a str>,
}

/// `/login`: the form (fields `login`, `password`, hidden `csrf_token` and `came_from`).
pub(crate) fn login(page: &LoginPage<'_>, csrf_token: &str) -> String {
    let mut body = String::from("<h1>Log in</h1>\n");
    if let Some(user) = page.current_user {
        body.push_str(&format!(
            "<p>You are logged in as <strong>{}</strong>. Log in again to switch users, or \
             <a href=\"/\">go home</a>.</p>\n",
            html_escape(user)
        ));
    }
    if let Some(message) = page.message {
        body.push_str(&format!(
            "<p role=\"alert\"><strong>{}</strong></p>\n",
            html_escape(message)
        ));
    }
    body.push_str(&format!(
        "<form name=\"login_form\" method=\"post\" action=\"/login\">\n\
         {csrf}\n<input type=\"hidden\" name=\"came_from\" value=\"{came_from}\">\n\
         <p><label for=\"login\">User name</label><br>\
         <input type=\"text\" id=\"login\" name=\"login\" value=\"{login}\" \
         autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" required></p>\n\
         <p><label for=\"password\">Password</label><br>\
         <input type=\"password\" id=\"password\" name=\"password\" \
         autocomplete=\"current-password\" required></p>\n\
         <p><button type=\"submit\" name=\"login_submitted\" value=\"1\">Log in</button></p>\n\
         </form>\n\
         <p>Demo users: <code>genericuser</code> / <code>basic123</code> (group basic), \
         <code>superuser</code> / <code>secret123</code> (group secured), \
         <code>admin</code> / <code>admin123</code> (group admin: the <a href=\"/admin\">admin side</a>).</p>\n",
        csrf = csrf_field(csrf_token),
        came_from = html_escape(page.came_from),
        login = html_escape(page.login),
    ));
    layout("Log in", &body)
}

/// `GET /logout`: the logout button, or a note for anonymous visitors.
pub(crate) fn logout(username: Option<&str>, csrf_token: &str) -> String {
    let body = match username {
        Some(user) => format!(
            "<h1>Log out</h1>\n<p>You are logged in as <strong>{}</strong>.</p>\n{}\
             <p><a href=\"/\">Home</a></p>\n",
            html_escape(user),
            logout_form(csrf_token)
        ),
        None => "<h1>Log out</h1>\n<p>You are not logged in. <a href=\"/login\">Log in</a></p>\n"
            .to_owned(),
    };
    layout("Log out", &body)
}

/// The 403 page: who is missing what, and ways on.
pub(crate) fn forbidden(message: &str, permission: Option<&str>, path: &str) -> String {
    // An ACL denial names the permission; a predicate's denial has only its message.
    let missing = match permission {
        Some(p) => format!(
            "<p>You are logged in, but this page requires the <strong>{}</strong> permission, \
             which you do not have.</p>\n",
            html_escape(p)
        ),
        None => format!("<p>{}</p>\n", html_escape(message)),
    };
    layout(
        "Forbidden",
        &format!(
            "<h1>403 Forbidden</h1>\n{missing}\
             <p><a href=\"/\">Home</a> · <a href=\"/login?came_from={came_from}\">Log in as \
             another user</a> · <a href=\"/logout\">Log out</a></p>\n",
            came_from = html_escape(&form_urlencode(path)),
        ),
    )
}

/// `/public`: seed 001's public side.
pub(crate) fn public(username: Option<&str>) -> String {
    let who = match username {
        Some(u) => format!(
            "<p>You are signed in as <strong>{}</strong>.</p>\n",
            html_escape(u)
        ),
        None => "<p>You are not signed in, and you need not be.</p>\n".to_owned(),
    };
    layout(
        "Public",
        &format!(
            "<h1>The public side</h1>\n<p>Anyone may read this page.</p>\n{who}\
             <p><a href=\"/admin\">The admin side</a> (administrators only) · \
             <a href=\"/\">The simpleauth demo</a></p>\n"
        ),
    )
}

/// `/admin`: seed 001's admin home.
pub(crate) fn admin_home(username: &str, csrf_token: &str) -> String {
    layout(
        "Admin",
        &format!(
            "<h1>Portcullis Group Auth Demo Admin</h1>\n\
             <p>Welcome to the admin side, <strong id=\"admin-user\">{user}</strong></p>\n\
             <p><a href=\"/admin/users\">Users</a> · <a href=\"/public\">Public side</a></p>\n{logout}",
            user = html_escape(username),
            logout = logout_form(csrf_token),
        ),
    )
}

/// One row of `/admin/users`.
#[derive(Debug)]
pub(crate) struct UserRow {
    pub(crate) username: String,
    pub(crate) status: String,
    pub(crate) groups: Vec<String>,
}

/// `/admin/users`: every user with status and groups.
pub(crate) fn admin_users(rows: &[UserRow], csrf_token: &str) -> String {
    let mut table = String::from(
        "<table>\n<thead><tr><th scope=\"col\">User</th><th scope=\"col\">Status</th>\
         <th scope=\"col\">Groups</th></tr></thead>\n<tbody>\n",
    );
    for r in rows {
        table.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            html_escape(&r.username),
            html_escape(&r.status),
            html_escape(&r.groups.join(", ")),
        ));
    }
    table.push_str("</tbody>\n</table>\n");
    layout(
        "Users",
        &format!(
            "<h1>Users</h1>\n{table}<p><a href=\"/admin\">Admin home</a></p>\n{}",
            logout_form(csrf_token)
        ),
    )
}

/// Seed 001's sign-in page, answered with 403 under `/admin` to anonymous visitors and to
/// users who are not administrators.
pub(crate) fn admin_signin(signed_in: bool, message: &str, path: &str) -> String {
    let who = if signed_in {
        "<p>You are signed in, but not as an administrator.</p>\n"
    } else {
        ""
    };
    layout(
        "Administrators only",
        &format!(
            "<h1>Portcullis Group Auth Demo Admin</h1>\n\
             <p id=\"admin-signin\">You need to sign in as an administrator to see this page.</p>\n\
             {who}<p><small>{message}</small></p>\n\
             <p><a href=\"/login?came_from={came_from}\">Sign in</a> · \
             <a href=\"/public\">Public side</a></p>\n",
            message = html_escape(message),
            came_from = html_escape(&form_urlencode(path)),
        ),
    )
}

/// 404.
pub(crate) fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(layout(
            "Not found",
            "<h1>404 Not found</h1>\n<p>There is no such page. <a href=\"/\">Home</a></p>\n",
        )),
    )
        .into_response()
}

/// An error page with `status` and a plain message (400 for bad input, 503 when the
/// store is down).
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    (
        status,
        Html(layout(
            title,
            &format!(
                "<h1>{code} {title}</h1>\n<p>{message}</p>\n<p><a href=\"/\">Home</a></p>\n",
                code = status.as_u16(),
                title = html_escape(title),
                message = html_escape(message),
            ),
        )),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        let page = login(
            &LoginPage {
                login: "<script>\"x\"</script>",
                came_from: "/\"><b>",
                message: Some("Login failed"),
                current_user: Some("a&b"),
            },
            "tok\"en",
        );
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;&quot;x&quot;"), "{page}");
        assert!(page.contains("value=\"/&quot;&gt;&lt;b&gt;\""), "{page}");
        assert!(page.contains("a&amp;b"), "{page}");
        assert!(page.contains("value=\"tok&quot;en\""), "{page}");
        for field in ["name=\"login\"", "name=\"password\"", "name=\"csrf_token\""] {
            assert!(page.contains(field), "{field}");
        }
        let f = forbidden(
            "The \"topsecret\" permission is required for /secret",
            Some("topsecret"),
            "/secret",
        );
        assert!(f.contains("<strong>topsecret</strong>"), "{f}");
        let p = forbidden("Only for editors", None, "/x");
        assert!(p.contains("<p>Only for editors</p>"), "{p}");
        assert!(f.contains("came_from=/secret"), "{f}");
        assert!(home("<i>", "t").contains("&lt;i&gt;"));
        let s = admin_signin(false, "Log in: <x>", "/admin/\"x");
        assert!(s.contains("sign in as an administrator"), "{s}");
        assert!(s.contains("&lt;x&gt;") && !s.contains("<x>"), "{s}");
        assert!(s.contains("came_from=/admin/%22x"), "{s}");
        let u = admin_users(
            &[UserRow {
                username: "<b>".to_owned(),
                status: "active".to_owned(),
                groups: vec!["admin".to_owned()],
            }],
            "t",
        );
        assert!(
            u.contains("&lt;b&gt;") && u.contains("<td>admin</td>"),
            "{u}"
        );
        assert!(public(Some("<i>")).contains("&lt;i&gt;"));
    }
}
