//! Administration: the admin API under `/auth/api/admin/` (JSON, py4web's envelope) and
//! the admin UI under `/auth/admin/` (server-rendered HTML, no JavaScript).
//!
//! Both need a logged-in, active user whose groups grant the permission `admin`
//! ([`ADMIN_PERMISSION`]), checked on every request ([`access`]): a blocked administrator
//! or one whose group lost the permission is refused at the next request.
//!
//! Layout, one concern per file:
//!
//! | file | what |
//! |---|---|
//! | `access.rs` | who is the administrator (401 / 403), `Origin`, bodies; the extractors `Admin` (a read), `Change<T>` (a change with its body) and `Params<T>` (the query) |
//! | `actions.rs` | one function per action and per page of data, shared by API and UI |
//! | `views.rs` | the answer types (serde + JSON Schema) and their conversions |
//! | `api.rs` | the JSON routes, declared with [`crate::openapi::Op`] |
//! | `ui.rs` | the HTML routes, templates in `templates/admin/` (embedded; loader and security headers from `crate::html`) |
//!
//! Design decisions:
//! * **No duplicated logic.** An API handler and its UI handler parse their input their
//!   own way (JSON or form) and then call the same function of `actions.rs`, which
//!   validates, refuses conflicts, writes through a store acting as `admin:<username>`
//!   from the client's address (so every event in the audit log names the administrator)
//!   and audits what the store does not.
//! * **An administrator cannot lock themselves out by accident**: blocking, deleting or
//!   force-resetting one's own account is refused (409).
//! * **Blocking ends the user's sessions**, and so do a forced reset and a deletion: the
//!   store already refuses a blocked user's principals, and the session dies too.
//! * **Numbered pages** (`page`, `per_page`) with a total for users and the audit log, as
//!   a UI shows them; tag finds page by id (`after`), as the store does.

mod access;
mod actions;
mod api;
mod ui;
mod views;

pub(crate) use api::routes;
pub(crate) use ui::router as ui_router;

/// The permission an administrator's groups must grant.
pub(crate) const ADMIN_PERMISSION: &str = "admin";
