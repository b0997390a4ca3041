//! # portcullis-authz
//!
//! The pure core of Portcullis. (Crate docs are completed with the ACL engine.)
#![forbid(unsafe_code)]

pub mod tag;
