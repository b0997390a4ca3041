-- The tag index (see crates/store/src/tags/index.rs): per kind and key (a tag's key or
-- an ancestor's), the records carrying it, one row per chunk of 32 768 ids; `bits` is
-- the chunk's offsets (fewer than 2 048) or its 4 096-byte bitmap, `n` how many ids it
-- holds. Filled from `tags` by the migration itself.
--
-- A rowid table with a separate unique index, not `WITHOUT ROWID`: a row of up to
-- 4 KiB in an index-organized table spills into overflow pages that every key
-- comparison of a seek reads whole; here seeks compare the index's small keys, and the
-- sizes of a key's chunks cost 27 µs instead of 44 µs (1M users, a key on every chunk).
CREATE TABLE tag_bits (
    kind  TEXT    NOT NULL,
    key   TEXT    NOT NULL,
    chunk INTEGER NOT NULL,
    n     INTEGER NOT NULL,
    bits  BLOB    NOT NULL
);
CREATE UNIQUE INDEX tag_bits_key ON tag_bits (kind, key, chunk);
