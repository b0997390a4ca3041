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
) WITH (fillfactor = 50);
-- Every tag write updates its keys' rows; v is in no index, so with room left on each
-- page the updates are heap-only (HOT): the primary key gains no entry per update, and
-- the page's dead versions are pruned when it is next read, instead of piling up until
-- autovacuum comes.
-- Filled by the migration's step, which rebuilds the index (writing both tables).
