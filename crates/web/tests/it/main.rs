//! Integration tests of portcullis-web (one binary).

mod layer; // AuthLayer, guards, denial views, extractors over a real Router and SQLite store
mod ticket_pyramid;
