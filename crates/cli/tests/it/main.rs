//! End-to-end tests of the `portcullis` binary: exit codes, text and JSON output, errors.
//! Each module covers one subcommand group.

mod acl;
mod browser;
mod init;
mod nginx; // forward auth behind a real nginx (PORTCULLIS_TEST_NGINX)
mod openapi;
mod predicate;
mod schemathesis;
mod serve;
mod store;
mod util;
