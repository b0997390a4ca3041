//! Integration tests of portcullis-web (one binary).

mod layer; // AuthLayer, guards, denial views, extractors over a real Router and SQLite store
mod ticket_pyramid;
mod session; // server-side sessions on SQLite, PostgreSQL and Redis
mod csrf; // CSRF tokens (session and cookie storage) and origin checks
