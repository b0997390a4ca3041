//! Integration tests of portcullis-web (one binary).

mod csrf; // CSRF tokens (session and cookie storage) and origin checks
mod csrf_layer; // the CsrfLayer over a real Router
mod layer; // AuthLayer, guards, denial views, extractors over a real Router and SQLite store
mod session; // server-side sessions on SQLite, PostgreSQL and Redis
mod session_privilege; // session ids rotate on privilege change
mod ticket_pyramid; // auth tickets against real Pyramid (needs PORTCULLIS_TEST_PYRAMID_PYTHON)
