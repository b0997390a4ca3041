-- Row versions of the tag index, for the chunk caches of the processes that read it
-- (crates/store/src/tags/cache.rs). Every write of a tag_bits row stores a new value of
-- the counter portcullis_state.tag_bits_version (bumped by each writing statement;
-- SQLite serializes writers) in v, so a row's (kind, key, chunk, v) never names two
-- contents: a cached chunk is used only while the row's v is the one it was read with.
-- Rows written before hold 0, which no process has cached.
ALTER TABLE portcullis_state ADD COLUMN tag_bits_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tag_bits ADD COLUMN v INTEGER NOT NULL DEFAULT 0;
