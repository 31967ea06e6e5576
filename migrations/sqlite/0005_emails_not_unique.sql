-- no-transaction
-- Emails are no longer unique (registration must not reveal which emails have accounts) and no
-- longer sign anyone in. SQLite cannot drop a UNIQUE column constraint, so `users` is rebuilt
-- the documented way (https://www.sqlite.org/lang_altertable.html#otheralter): foreign keys
-- off, so dropping the old table neither cascades nor nulls the rows that point at it.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE users_rebuilt (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,            -- lowercase, [a-z0-9_.-]{3,32}
    email         TEXT,                            -- lowercase, not unique; NULL for accounts made by `kino users create`
    password_hash TEXT NOT NULL,                   -- PHC string, Argon2id
    role          TEXT NOT NULL CHECK (role IN ('admin', 'uploader', 'viewer')),
    created_at    INTEGER NOT NULL
);
INSERT INTO users_rebuilt (id, username, email, password_hash, role, created_at)
    SELECT id, username, email, password_hash, role, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;
COMMIT;
PRAGMA foreign_keys = ON;
