//! Integration tests of the `/auth/api/` router over a real SQLite store.

mod admin; // the admin API and UI: roles, actions, audit, paging, bad input, forms
mod bad_input;
mod flows;
mod forward_auth; // /auth/verify for reverse proxies
mod harness;
mod magic_link; // passwordless sign-in by a mailed one-time link (API and pages)
mod mail; // SMTP against a real aiosmtpd, the folder mailer, templates
mod openapi;
mod pages; // the HTML pages (forms, CSRF, headers, full flow through mailed links)
mod security;
