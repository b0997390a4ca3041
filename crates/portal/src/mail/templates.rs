//! [`MailTemplates`]: the texts of the portal's e-mails (minijinja, overridable at run
//! time).
//!
//! # Templates and their variables
//!
//! Every message has a plain-text template `NAME.txt` and an HTML template `NAME.html`.
//!
//! | `NAME` | [`TemplateMail`] | sent to | variables (besides the common ones) |
//! |---|---|---|---|
//! | `verify_email` | `VerifyEmail` | the address to confirm | `link`, `expires_minutes`, `expires_in` |
//! | `reset_password` | `ResetPassword` | the account's address | `link`, `expires_minutes`, `expires_in` |
//! | `email_changed_notice` | `EmailChangedNotice` | the *old* address | `new_email` |
//! | `magic_link` | `MagicLink` | the account's address | `link`, `expires_minutes`, `expires_in` |
//! | `confirm_new_email` | `ConfirmNewEmail` | the *new* address of an e-mail change | `link`, `expires_minutes`, `expires_in` |
//! | `account_exists` | `AccountExists` | an address registered again | `link` (the reset request page) |
//! | `username_taken` | `UsernameTaken` | a registering address whose username was taken | `link` (the registration page) |
//! | `email_in_use` | `EmailInUse` | an address another account asked to move to, already in use | - |
//! | `password_changed` | `PasswordChanged` | the account's address | `by_reset` (true after a reset link) |
//!
//! Common variables: `site_name` (given to [`MailTemplates::builtin`]) and `email` (the
//! recipient). `expires_in` is `expires_minutes` in words (`"30 minutes"`, `"1 hour"`,
//! `"24 hours"`). A variable a template does not know is an error (strict undefined),
//! so a typo in an override fails loudly instead of leaving a hole in the mail.
//!
//! The rendered `.txt` must start with a `Subject: ...` line followed by a blank line;
//! the rest is the body. Only the first line of the subject is used.
//!
//! # Overriding
//!
//! [`MailTemplates::with_dir`] names a directory; a file there with one of the names
//! above replaces the built-in one (each file separately; the others stay built in).
//! Templates may `{% include %}` or `{% extends %}` other files of that directory (plain
//! names only: no `/`, no leading `.`). Files are read when first used and then cached
//! for the life of the [`MailTemplates`].
//!
//! # Escaping
//!
//! `.html` templates are auto-escaped (minijinja's default for that extension): an
//! address or site name with `<`, `&` or `"` is printed as text, not markup. `.txt`
//! templates are not escaped. Links must be `https://` or `http://` URLs, so a
//! `javascript:` link can never reach an `href`.

use std::fmt;
use std::path::PathBuf;

use minijinja::{Environment, UndefinedBehavior, context};

use crate::mailer::OutgoingMail;

/// The built-in templates: `(file name, source)`.
const BUILTIN: &[(&str, &str)] = &[
    (
        "verify_email.txt",
        include_str!("../../templates/mail/verify_email.txt"),
    ),
    (
        "verify_email.html",
        include_str!("../../templates/mail/verify_email.html"),
    ),
    (
        "reset_password.txt",
        include_str!("../../templates/mail/reset_password.txt"),
    ),
    (
        "reset_password.html",
        include_str!("../../templates/mail/reset_password.html"),
    ),
    (
        "email_changed_notice.txt",
        include_str!("../../templates/mail/email_changed_notice.txt"),
    ),
    (
        "email_changed_notice.html",
        include_str!("../../templates/mail/email_changed_notice.html"),
    ),
    (
        "magic_link.txt",
        include_str!("../../templates/mail/magic_link.txt"),
    ),
    (
        "magic_link.html",
        include_str!("../../templates/mail/magic_link.html"),
    ),
    (
        "confirm_new_email.txt",
        include_str!("../../templates/mail/confirm_new_email.txt"),
    ),
    (
        "confirm_new_email.html",
        include_str!("../../templates/mail/confirm_new_email.html"),
    ),
    (
        "account_exists.txt",
        include_str!("../../templates/mail/account_exists.txt"),
    ),
    (
        "account_exists.html",
        include_str!("../../templates/mail/account_exists.html"),
    ),
    (
        "username_taken.txt",
        include_str!("../../templates/mail/username_taken.txt"),
    ),
    (
        "username_taken.html",
        include_str!("../../templates/mail/username_taken.html"),
    ),
    (
        "email_in_use.txt",
        include_str!("../../templates/mail/email_in_use.txt"),
    ),
    (
        "email_in_use.html",
        include_str!("../../templates/mail/email_in_use.html"),
    ),
    (
        "password_changed.txt",
        include_str!("../../templates/mail/password_changed.txt"),
    ),
    (
        "password_changed.html",
        include_str!("../../templates/mail/password_changed.html"),
    ),
];

/// One of the portal's e-mails, with its variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateMail<'a> {
    /// "Confirm your address": `verify_email`.
    VerifyEmail {
        /// The confirmation URL (with its token).
        link: &'a str,
        /// How long the link works.
        expires_minutes: u64,
    },
    /// "Reset your password": `reset_password`.
    ResetPassword {
        /// The reset URL (with its token).
        link: &'a str,
        /// How long the link works.
        expires_minutes: u64,
    },
    /// "Your address was changed", sent to the old address: `email_changed_notice`.
    EmailChangedNotice {
        /// The account's new address.
        new_email: &'a str,
    },
    /// "Sign in with this link": `magic_link`.
    MagicLink {
        /// The sign-in URL (with its token).
        link: &'a str,
        /// How long the link works.
        expires_minutes: u64,
    },
    /// "Confirm your new address", sent to the address an account wants to move to:
    /// `confirm_new_email`.
    ConfirmNewEmail {
        /// The confirmation URL (with its token).
        link: &'a str,
        /// How long the link works.
        expires_minutes: u64,
    },
    /// "This address already has an account" (a registration with a taken address):
    /// `account_exists`.
    AccountExists {
        /// The page to ask for a password reset.
        link: &'a str,
    },
    /// "The username you chose is taken" (a registration with a taken username):
    /// `username_taken`.
    UsernameTaken {
        /// The registration page.
        link: &'a str,
    },
    /// "Another account uses this address" (an e-mail change to a taken address):
    /// `email_in_use`.
    EmailInUse,
    /// "Your password was changed" (or reset): `password_changed`.
    PasswordChanged {
        /// Whether a reset link was used (else the password was changed while logged in).
        by_reset: bool,
    },
}

impl TemplateMail<'_> {
    /// The template name (without `.txt` / `.html`).
    pub const fn name(&self) -> &'static str {
        match self {
            TemplateMail::VerifyEmail { .. } => "verify_email",
            TemplateMail::ResetPassword { .. } => "reset_password",
            TemplateMail::EmailChangedNotice { .. } => "email_changed_notice",
            TemplateMail::MagicLink { .. } => "magic_link",
            TemplateMail::ConfirmNewEmail { .. } => "confirm_new_email",
            TemplateMail::AccountExists { .. } => "account_exists",
            TemplateMail::UsernameTaken { .. } => "username_taken",
            TemplateMail::EmailInUse => "email_in_use",
            TemplateMail::PasswordChanged { .. } => "password_changed",
        }
    }

    fn link(&self) -> Option<(&str, u64)> {
        match *self {
            TemplateMail::VerifyEmail {
                link,
                expires_minutes,
            }
            | TemplateMail::ResetPassword {
                link,
                expires_minutes,
            }
            | TemplateMail::MagicLink {
                link,
                expires_minutes,
            }
            | TemplateMail::ConfirmNewEmail {
                link,
                expires_minutes,
            } => Some((link, expires_minutes)),
            TemplateMail::EmailChangedNotice { .. }
            | TemplateMail::AccountExists { .. }
            | TemplateMail::UsernameTaken { .. }
            | TemplateMail::EmailInUse
            | TemplateMail::PasswordChanged { .. } => None,
        }
    }
}

/// Why a mail could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// minijinja failed: syntax error, unknown variable, unreadable override, ...
    #[error("mail template `{template}`: {reason}")]
    Render {
        /// The template file name.
        template: String,
        /// minijinja's message (with the line, when known).
        reason: String,
    },
    /// The rendered `.txt` does not start with `Subject: ...` and a blank line.
    #[error("mail template `{template}` must start with a `Subject: ...` line and a blank line")]
    MissingSubject {
        /// The template file name.
        template: String,
    },
    /// A link that is not an `http(s)://` URL.
    #[error("mail link `{link}` is not an http(s) url")]
    InvalidLink {
        /// The refused link.
        link: String,
    },
}

/// The portal's e-mail templates: built in, optionally overridden from a directory.
pub struct MailTemplates {
    env: Environment<'static>,
    site_name: String,
    dir: Option<PathBuf>,
}

impl fmt::Debug for MailTemplates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailTemplates")
            .field("site_name", &self.site_name)
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl MailTemplates {
    /// Only the built-in templates; `site_name` fills `{{ site_name }}`.
    pub fn builtin(site_name: impl Into<String>) -> MailTemplates {
        MailTemplates::make(site_name.into(), None)
    }

    /// The built-in templates, each overridden by a file of the same name in `dir`
    /// when there is one. `dir` need not exist.
    pub fn with_dir(site_name: impl Into<String>, dir: impl Into<PathBuf>) -> MailTemplates {
        MailTemplates::make(site_name.into(), Some(dir.into()))
    }

    fn make(site_name: String, dir: Option<PathBuf>) -> MailTemplates {
        let mut env = crate::html::environment(BUILTIN, dir.clone(), |_, path| {
            format!("cannot read `{}`", path.display())
        });
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        MailTemplates {
            env,
            site_name,
            dir,
        }
    }

    /// The built-in template names and sources (e.g. to write them out as a starting
    /// point for overrides).
    pub fn builtin_sources() -> &'static [(&'static str, &'static str)] {
        BUILTIN
    }

    /// Renders `mail` for `to`: subject and text from `NAME.txt`, HTML from
    /// `NAME.html`.
    pub fn render(&self, to: &str, mail: &TemplateMail<'_>) -> Result<OutgoingMail, TemplateError> {
        let name = mail.name();
        let mut ctx = context! {
            site_name => self.site_name.as_str(),
            email => to,
        };
        let checked = |link: &str| {
            if link.starts_with("https://") || link.starts_with("http://") {
                Ok(())
            } else {
                Err(TemplateError::InvalidLink {
                    link: link.to_owned(),
                })
            }
        };
        match mail {
            TemplateMail::EmailChangedNotice { new_email } => {
                ctx = context! { new_email => *new_email, ..ctx };
            }
            TemplateMail::AccountExists { link } | TemplateMail::UsernameTaken { link } => {
                checked(link)?;
                ctx = context! { link => *link, ..ctx };
            }
            TemplateMail::PasswordChanged { by_reset } => {
                ctx = context! { by_reset => *by_reset, ..ctx };
            }
            _ => {
                if let Some((link, expires_minutes)) = mail.link() {
                    checked(link)?;
                    ctx = context! {
                        link => link,
                        expires_minutes => expires_minutes,
                        expires_in => expires_in_words(expires_minutes),
                        ..ctx
                    };
                }
            }
        }
        let txt_name = format!("{name}.txt");
        let html_name = format!("{name}.html");
        let text = self.render_one(&txt_name, ctx.clone())?;
        let html = self.render_one(&html_name, ctx)?;
        let (subject, body) = split_subject(&text).ok_or(TemplateError::MissingSubject {
            template: txt_name.clone(),
        })?;
        Ok(OutgoingMail {
            to: to.to_owned(),
            subject,
            text: body,
            html: Some(html),
        })
    }

    fn render_one(&self, name: &str, ctx: minijinja::Value) -> Result<String, TemplateError> {
        let err = |e: minijinja::Error| {
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                reason.push_str(&format!(": {s}"));
                source = s.source();
            }
            TemplateError::Render {
                template: name.to_owned(),
                reason,
            }
        };
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(err)
    }
}

/// `Subject: X\n\nBODY` → `(X, BODY)`.
fn split_subject(text: &str) -> Option<(String, String)> {
    let (first, rest) = text.split_once('\n')?;
    let (key, subject) = first.split_once(':')?;
    if !key.trim().eq_ignore_ascii_case("subject") {
        return None;
    }
    let subject = subject.trim();
    if subject.is_empty() {
        return None;
    }
    let rest = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))?;
    Some((subject.to_owned(), rest.to_owned()))
}

/// `90` → `"90 minutes"`, `60` → `"1 hour"`, `1440` → `"24 hours"`.
pub(crate) fn expires_in_words(minutes: u64) -> String {
    let plural = |n: u64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if minutes >= 60 && minutes.is_multiple_of(60) {
        plural(minutes / 60, "hour")
    } else {
        plural(minutes, "minute")
    }
}
