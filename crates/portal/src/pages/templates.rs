//! [`PageTemplates`]: the minijinja environment of the HTML pages, built-in templates
//! embedded in the binary, each overridable by a file of the same name in a directory.

use std::path::PathBuf;

use minijinja::Environment;

use crate::html::{self, read_override};

/// The built-in page templates: `(file name, source)`.
const BUILTIN: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/pages/base.html")),
    (
        "macros.html",
        include_str!("../../templates/pages/macros.html"),
    ),
    (
        "login.html",
        include_str!("../../templates/pages/login.html"),
    ),
    (
        "register.html",
        include_str!("../../templates/pages/register.html"),
    ),
    (
        "verify_email.html",
        include_str!("../../templates/pages/verify_email.html"),
    ),
    (
        "request_reset_password.html",
        include_str!("../../templates/pages/request_reset_password.html"),
    ),
    (
        "reset_password.html",
        include_str!("../../templates/pages/reset_password.html"),
    ),
    (
        "profile.html",
        include_str!("../../templates/pages/profile.html"),
    ),
    (
        "change_password.html",
        include_str!("../../templates/pages/change_password.html"),
    ),
    (
        "change_email.html",
        include_str!("../../templates/pages/change_email.html"),
    ),
    (
        "magic_link.html",
        include_str!("../../templates/pages/magic_link.html"),
    ),
    (
        "magic_login.html",
        include_str!("../../templates/pages/magic_login.html"),
    ),
    (
        "logout.html",
        include_str!("../../templates/pages/logout.html"),
    ),
    (
        "message.html",
        include_str!("../../templates/pages/message.html"),
    ),
];

/// The built-in style sheet, served at `/auth/static/portal.css`.
const CSS: &str = include_str!("../../templates/pages/portal.css");

/// The page templates (see the `pages` module docs).
pub(crate) struct PageTemplates {
    env: Environment<'static>,
    dir: Option<PathBuf>,
}

impl std::fmt::Debug for PageTemplates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageTemplates")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl PageTemplates {
    /// The built-in templates, each overridden by `dir/NAME` when that file exists.
    pub(crate) fn new(dir: Option<PathBuf>) -> PageTemplates {
        let env = html::environment(BUILTIN, dir.clone(), |name, _| {
            format!("cannot read the page template `{name}`")
        });
        PageTemplates { env, dir }
    }

    /// Renders `name` with `ctx`.
    pub(crate) fn render(&self, name: &str, ctx: &serde_json::Value) -> Result<String, String> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(html::template_value(ctx)))
            .map_err(|e| {
                let mut reason = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    reason.push_str(&format!(": {s}"));
                    source = s.source();
                }
                reason
            })
    }

    /// The style sheet: `portal.css` of the override directory, else the built-in one.
    pub(crate) fn css(&self) -> String {
        match read_override(self.dir.as_ref(), "portal.css") {
            Ok(Some(css)) => css,
            _ => CSS.to_owned(),
        }
    }
}
