-- The tag index (see crates/store/src/tags/index.rs): per kind and key (a tag's key or
-- an ancestor's), the records carrying it, one row per chunk of 32 768 ids; `bits` is
-- the chunk's offsets (fewer than 2 048) or its 4 096-byte bitmap, `n` how many ids it
-- holds. Filled from `tags` by the migration itself.
CREATE TABLE tag_bits (
    kind  TEXT    NOT NULL,
    key   TEXT    NOT NULL,
    chunk INTEGER NOT NULL,
    n     INTEGER NOT NULL,
    bits  BLOB    NOT NULL,
    PRIMARY KEY (kind, key, chunk)
) WITHOUT ROWID;
-- Finds no longer scan key ranges of `tags`; its unique index stays (one tag per
-- record, and the order the index is rebuilt in).
