//! Unit tests of the mail module (the SMTP and folder round trips are in tests/it/mail.rs).

use super::smtp::is_loopback_host;
use super::templates::expires_in_words;
use super::*;
use crate::error::PortalError;
use crate::mailer::MailError;

const LINK: &str = "https://app.example/auth/verify_email?token=abc&x=1";

#[test]
fn builtin_templates_render_subject_text_and_html() {
    let t = MailTemplates::builtin("Example");
    let cases = [
        TemplateMail::VerifyEmail {
            link: LINK,
            expires_minutes: 1440,
        },
        TemplateMail::ResetPassword {
            link: LINK,
            expires_minutes: 60,
        },
        TemplateMail::MagicLink {
            link: LINK,
            expires_minutes: 15,
        },
        TemplateMail::EmailChangedNotice {
            new_email: "new@example.org",
        },
    ];
    for case in cases {
        let m = t.render("ann@example.org", &case).unwrap();
        assert_eq!(m.to, "ann@example.org");
        assert!(
            m.subject.contains("Example"),
            "{}: {}",
            case.name(),
            m.subject
        );
        assert!(!m.subject.contains('\n'));
        assert!(!m.text.starts_with("Subject:"), "{}", case.name());
        let html = m.html.unwrap();
        assert!(html.contains("<html>"), "{}", case.name());
        if let TemplateMail::EmailChangedNotice { new_email } = case {
            assert!(m.text.contains(new_email) && m.text.contains("ann@example.org"));
            assert!(html.contains(new_email));
        } else {
            // The text has the link verbatim; the HTML has it escaped (`&` → `&amp;`)
            // but with its slashes readable.
            assert!(m.text.contains(LINK), "{}", case.name());
            let escaped = LINK.replace('&', "&amp;");
            assert!(html.contains(&format!("href=\"{escaped}\"")), "{html}");
        }
    }
    let m = t
        .render(
            "ann@example.org",
            &TemplateMail::VerifyEmail {
                link: LINK,
                expires_minutes: 1440,
            },
        )
        .unwrap();
    assert_eq!(m.subject, "Confirm your e-mail address for Example");
    assert!(m.text.contains("24 hours"));
}

#[test]
fn html_values_are_escaped_and_text_is_not() {
    let t = MailTemplates::builtin("A&B <Corp>");
    let m = t
        .render(
            "\"x\"@example.org",
            &TemplateMail::EmailChangedNotice {
                new_email: "<script>alert(1)</script>@evil.example",
            },
        )
        .unwrap();
    let html = m.html.unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(html.contains("A&amp;B &lt;Corp&gt;"));
    assert!(html.contains("&quot;x&quot;@example.org"));
    assert!(m.text.contains("<script>alert(1)</script>@evil.example"));
    assert!(m.subject.contains("A&B <Corp>"));
}

#[test]
fn links_must_be_http_urls() {
    let t = MailTemplates::builtin("Example");
    let err = t
        .render(
            "ann@example.org",
            &TemplateMail::MagicLink {
                link: "javascript:alert(1)",
                expires_minutes: 10,
            },
        )
        .unwrap_err();
    assert_eq!(
        err,
        TemplateError::InvalidLink {
            link: "javascript:alert(1)".to_owned()
        }
    );
    assert_eq!(
        err.to_string(),
        "mail link `javascript:alert(1)` is not an http(s) url"
    );
}

#[test]
fn directory_overrides_one_template_and_keeps_the_others() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("magic_link.txt"),
        "Subject: Log in to {{ site_name }}\n\nGo: {{ link }} ({{ expires_minutes }} min)\n",
    )
    .unwrap();
    let t = MailTemplates::with_dir("Example", dir.path());
    let m = t
        .render(
            "ann@example.org",
            &TemplateMail::MagicLink {
                link: LINK,
                expires_minutes: 15,
            },
        )
        .unwrap();
    assert_eq!(m.subject, "Log in to Example");
    assert_eq!(m.text, format!("Go: {LINK} (15 min)"));
    // The HTML part is still the built-in one.
    assert!(m.html.unwrap().contains("Sign in"));
}

#[test]
fn broken_overrides_fail_loudly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("verify_email.txt"),
        "Subject: Hi\n\n{{ linkk }}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("reset_password.txt"), "no subject here\n").unwrap();
    std::fs::write(dir.path().join("magic_link.html"), "{% if %}").unwrap();
    std::fs::write(
        dir.path().join("email_changed_notice.txt"),
        "Subject: x\n\n{% include '../secret.txt' %}",
    )
    .unwrap();
    let t = MailTemplates::with_dir("Example", dir.path());
    let verify = TemplateMail::VerifyEmail {
        link: LINK,
        expires_minutes: 1,
    };
    match t.render("a@example.org", &verify).unwrap_err() {
        TemplateError::Render { template, reason } => {
            assert_eq!(template, "verify_email.txt");
            assert!(reason.contains("undefined"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let reset = TemplateMail::ResetPassword {
        link: LINK,
        expires_minutes: 1,
    };
    assert_eq!(
        t.render("a@example.org", &reset).unwrap_err(),
        TemplateError::MissingSubject {
            template: "reset_password.txt".to_owned()
        }
    );
    let magic = TemplateMail::MagicLink {
        link: LINK,
        expires_minutes: 1,
    };
    assert!(matches!(
        t.render("a@example.org", &magic).unwrap_err(),
        TemplateError::Render { template, .. } if template == "magic_link.html"
    ));
    // Names with a path are not loaded (no escaping the template directory).
    let notice = TemplateMail::EmailChangedNotice {
        new_email: "b@example.org",
    };
    assert!(matches!(
        t.render("a@example.org", &notice).unwrap_err(),
        TemplateError::Render { template, .. } if template == "email_changed_notice.txt"
    ));
}

#[test]
fn expiry_in_words() {
    assert_eq!(expires_in_words(1), "1 minute");
    assert_eq!(expires_in_words(15), "15 minutes");
    assert_eq!(expires_in_words(60), "1 hour");
    assert_eq!(expires_in_words(90), "90 minutes");
    assert_eq!(expires_in_words(1440), "24 hours");
}

#[test]
fn loopback_hosts() {
    for h in [
        "localhost",
        "LOCALHOST",
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "[::1]",
    ] {
        assert!(is_loopback_host(h), "{h}");
    }
    for h in [
        "mail.example.org",
        "10.0.0.1",
        "localhost.example.org",
        "0.0.0.0",
    ] {
        assert!(!is_loopback_host(h), "{h}");
    }
}

fn config_err(c: SmtpConfig) -> String {
    match SmtpMailer::new(c) {
        Err(PortalError::Config(m)) => m,
        other => panic!("{other:?}"),
    }
}

#[test]
fn smtp_config_is_checked() {
    let mut c = SmtpConfig::new("mail.example.org", "noreply@example.org");
    c.security = SmtpSecurity::None;
    assert_eq!(
        config_err(c),
        "smtp: `security = \"none\"` is only allowed for loopback hosts, not `mail.example.org`"
    );

    let mut c = SmtpConfig::new("127.0.0.1", "noreply@example.org");
    c.security = SmtpSecurity::None;
    assert!(SmtpMailer::new(c).is_ok());

    let c = SmtpConfig::new("mail.example.org", "not an address");
    assert_eq!(
        config_err(c),
        "smtp: invalid `from` address `not an address`"
    );

    let mut c = SmtpConfig::new("mail.example.org", "noreply@example.org");
    c.username = Some("u".to_owned());
    assert_eq!(
        config_err(c),
        "smtp: `username` and `password` must be set together"
    );

    let mut c = SmtpConfig::new("mail.example.org", "noreply@example.org");
    c.extra_root_certificates = vec!["/nonexistent/ca.pem".into()];
    assert!(config_err(c).starts_with("smtp: cannot read certificate `/nonexistent/ca.pem`"));

    let c = SmtpConfig::new("mail.example.org", "Example <noreply@example.org>");
    assert_eq!(c.effective_port(), 587);
    let m = SmtpMailer::new(c).unwrap();
    assert_eq!(
        m.from_address().to_string(),
        "Example <noreply@example.org>"
    );
}

#[test]
fn smtp_config_from_toml_and_debug_hides_the_password() {
    let c: SmtpConfig = toml::from_str(
        r#"
        host = "smtp.example.org"
        security = "tls"
        username = "mailer"
        password = "hunter2-secret"
        from = "Example <noreply@example.org>"
        timeout_secs = 5
        "#,
    )
    .unwrap();
    assert_eq!(c.security, SmtpSecurity::Tls);
    assert_eq!(c.effective_port(), 465);
    assert_eq!(c.timeout_secs, 5);
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("hunter2"), "{dbg}");
    assert!(dbg.contains("<redacted>"));
    let m = SmtpMailer::new(c).unwrap();
    assert!(!format!("{m:?}").contains("hunter2"));

    let bad = toml::from_str::<SmtpConfig>("host = \"h\"\nfrom = \"a@b.c\"\nsecurity = \"ssl\"\n");
    assert!(bad.is_err());
}

#[test]
fn message_is_multipart_alternative_only_with_html() {
    let from = parse_mailbox("Example <noreply@example.org>").unwrap();
    let plain = build_message(
        &from,
        OutgoingMail {
            to: "ann@example.org".to_owned(),
            subject: "Hi\r\nBcc: evil@example.org".to_owned(),
            text: "hello".to_owned(),
            html: None,
        },
    )
    .unwrap();
    let raw = String::from_utf8(plain.formatted()).unwrap();
    assert!(raw.contains("Content-Type: text/plain"), "{raw}");
    assert!(!raw.contains("multipart"));
    assert!(raw.contains("Subject: Hi\r\n"));
    assert!(!raw.contains("Bcc"), "{raw}");

    let both = build_message(
        &from,
        OutgoingMail {
            to: "ann@example.org".to_owned(),
            subject: "Hi".to_owned(),
            text: "hello".to_owned(),
            html: Some("<p>hello</p>".to_owned()),
        },
    )
    .unwrap();
    let raw = String::from_utf8(both.formatted()).unwrap();
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(raw.contains("text/plain") && raw.contains("text/html"));

    let bad = build_message(
        &from,
        OutgoingMail {
            to: "not an address".to_owned(),
            subject: "Hi".to_owned(),
            text: "x".to_owned(),
            html: None,
        },
    )
    .unwrap_err();
    assert!(matches!(bad, MailError::Address(a) if a == "not an address"));
}

#[test]
fn flow_templates_render_with_their_variables() {
    let t = MailTemplates::builtin("Ex<ample>");
    let cases = [
        (
            TemplateMail::ConfirmNewEmail {
                link: LINK,
                expires_minutes: 1440,
            },
            Some(LINK),
        ),
        (
            TemplateMail::AccountExists {
                link: "https://app.example/auth/request_reset_password",
            },
            Some("https://app.example/auth/request_reset_password"),
        ),
        (
            TemplateMail::UsernameTaken {
                link: "https://app.example/auth/register",
            },
            Some("https://app.example/auth/register"),
        ),
        (TemplateMail::EmailInUse, None),
        (TemplateMail::PasswordChanged { by_reset: false }, None),
        (TemplateMail::PasswordChanged { by_reset: true }, None),
    ];
    for (case, link) in cases {
        let m = t.render("ann@example.org", &case).unwrap();
        assert!(
            m.subject.contains("Ex<ample>"),
            "{}: {}",
            case.name(),
            m.subject
        );
        assert!(m.text.contains("ann@example.org"), "{}", case.name());
        let html = m.html.unwrap();
        assert!(html.contains("Ex&lt;ample&gt;"), "{}: escaped", case.name());
        if let Some(link) = link {
            assert!(m.text.contains(link), "{}", case.name());
            let escaped = link.replace('&', "&amp;");
            assert!(html.contains(&format!("href=\"{escaped}\"")), "{html}");
        }
        if let TemplateMail::PasswordChanged { by_reset } = case {
            assert_eq!(m.subject.contains("reset"), by_reset, "{}", m.subject);
        }
    }
    // Link checks apply to the new templates too.
    assert!(matches!(
        t.render(
            "a@example.org",
            &TemplateMail::AccountExists {
                link: "javascript:alert(1)"
            }
        ),
        Err(TemplateError::InvalidLink { .. })
    ));
}
