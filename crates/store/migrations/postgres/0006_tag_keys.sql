-- Key versions of the tag index, for the head caches of the processes that read it
-- (crates/store/src/tags/cache.rs). Every write of a key's tag_bits rows also stores a
-- new value of the sequence tag_bits_version in the key's row here, in the same
-- transaction, so a key's (kind, key, v) never names two lists of chunks: a process
-- that read a key's chunk list at version v uses it again while the key is still at v,
-- after one primary-key lookup instead of a scan of the list. Writers lock the rows of
-- the keys they will write first, in key order, then the index rows.
CREATE TABLE tag_keys (
    kind TEXT COLLATE "C" NOT NULL,
    key  TEXT COLLATE "C" NOT NULL,
    v    BIGINT NOT NULL,
    PRIMARY KEY (kind, key)
);
-- Filled by the migration's step, which rebuilds the index (writing both tables).
