//! Integration tests of `portcullis-store`: every test in `store_test!` runs against
//! SQLite (a temporary file) and, when `PORTCULLIS_TEST_POSTGRES_URL` is set, against
//! PostgreSQL (a fresh database per test, dropped at the end).

#[macro_use]
mod harness;

mod admin_queries; // the admin UI's user search, audit filters, forced reset
mod audit;
mod backends;
mod groups;
mod import;
mod principals;
mod tags;
mod tokens;
mod users;
