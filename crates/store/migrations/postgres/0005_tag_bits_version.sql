-- Row versions of the tag index, for the chunk caches of the processes that read it
-- (crates/store/src/tags/cache.rs). Every write of a tag_bits row stores a new value of
-- the sequence tag_bits_version in v (a sequence hands out each value once, whatever
-- the transactions do), so a row's (kind, key, chunk, v) never names two contents: a
-- cached chunk is used only while the row's v is the one it was read with. Existing rows
-- get values of their own (the default fills them).
CREATE SEQUENCE tag_bits_version;
ALTER TABLE tag_bits ADD COLUMN v BIGINT NOT NULL DEFAULT nextval('tag_bits_version');
ALTER SEQUENCE tag_bits_version OWNED BY tag_bits.v;
