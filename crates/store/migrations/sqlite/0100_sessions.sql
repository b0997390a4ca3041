-- Portcullis server-side sessions (portcullis-web's SQL session backend).
-- The cookie holds a random 256-bit id; only its SHA-256 (hex) is stored, so a
-- leaked database does not hand out live session cookies. Times are Unix seconds.
-- user_id is the application's user id as text (Pyramid userids are strings); it is
-- indexed so that all sessions of a user can be listed and revoked (logout
-- everywhere, password change).
CREATE TABLE sessions (
    id_hash      TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT,
    data         TEXT    NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX sessions_expires ON sessions (expires_at);
