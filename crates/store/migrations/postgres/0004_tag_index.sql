-- The tag index (see crates/store/src/tags/index.rs): per kind and key (a tag's key or
-- an ancestor's), the records carrying it, one row per chunk of 32 768 ids; `bits` is
-- the chunk's offsets (fewer than 2 048) or its 4 096-byte bitmap, `n` how many ids it
-- holds. Filled from `tags` by the migration itself.
CREATE TABLE tag_bits (
    kind  TEXT COLLATE "C" NOT NULL,
    key   TEXT COLLATE "C" NOT NULL,
    chunk BIGINT NOT NULL,
    n     BIGINT NOT NULL,
    bits  BYTEA NOT NULL,
    PRIMARY KEY (kind, key, chunk) INCLUDE (n)
);
-- Kept in the row, uncompressed: a row is at most about 4.7 KB (4 096 bytes of bits, a
-- 514-byte key, a 64-byte kind), within a heap page, and bitmaps gain little from pglz.
ALTER TABLE tag_bits ALTER COLUMN bits SET STORAGE PLAIN;
