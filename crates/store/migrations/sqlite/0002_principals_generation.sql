-- A change counter for the principals caches of other processes (SQLite has no
-- LISTEN/NOTIFY). Every transaction that changes what the groupfinder answers
-- (memberships, group deletion, user status, username, deletion, `users` tags) bumps
-- principals_generation; a process that sees it move drops its cached principals.
CREATE TABLE portcullis_state (
    id                    INTEGER PRIMARY KEY CHECK (id = 1),
    principals_generation INTEGER NOT NULL
);
INSERT INTO portcullis_state (id, principals_generation) VALUES (1, 0);
