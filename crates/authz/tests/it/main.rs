//! Integration tests of portcullis-authz (one binary; see each module's doc).

mod acl_rules; // Pyramid's ACL semantics, rule by rule, with the seeds' examples
mod equivalence; // property tests: compiled index == reference walk == generic Resource walk
mod no_alloc; // a compiled check never allocates (counting allocator)
mod pyramid; // the same answers as real Pyramid on random policies (needs PORTCULLIS_TEST_PYRAMID_PYTHON)
mod who; // principals_allowed_by_permission
