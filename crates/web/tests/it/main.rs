//! Integration tests of portcullis-web (one binary).

mod ticket_pyramid;
