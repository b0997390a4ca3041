//! Integration tests of portcullis-web (one binary).

mod csrf;
mod csrf_layer; // the CsrfLayer over a real Router
mod layer; // AuthLayer, guards, denial views, extractors over a real Router and SQLite store
mod session; // server-side sessions on SQLite, PostgreSQL and Redis
mod ticket_pyramid; // CSRF tokens (session and cookie storage) and origin checks
