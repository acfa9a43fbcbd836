-- Organisations, accounts, sessions, API tokens and the audit log.
-- Times are UTC milliseconds since the epoch in both backends.

CREATE TABLE organisations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id       INTEGER REFERENCES organisations(id),
    path            TEXT    NOT NULL DEFAULT '',
    kind            TEXT    NOT NULL,
    department_type TEXT,
    name            TEXT    NOT NULL,
    division_codes  TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX organisations_path ON organisations (path);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    org_id        INTEGER NOT NULL REFERENCES organisations(id),
    roles         TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    full_name     BLOB,
    phone         BLOB,
    phone_index   BLOB,
    disabled_at   INTEGER,
    locked_at     INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX users_org ON users (org_id);
CREATE INDEX users_phone_index ON users (phone_index);

CREATE TABLE sign_in_failures (
    user_id INTEGER NOT NULL REFERENCES users(id),
    at      INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_user_at ON sign_in_failures (user_id, at);

CREATE TABLE sessions (
    token_hash   BLOB    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    org_id       INTEGER NOT NULL REFERENCES organisations(id),
    permissions  TEXT    NOT NULL,
    token_hash   BLOB    NOT NULL UNIQUE,
    created_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
);

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    org_id      INTEGER,
    action      TEXT    NOT NULL,
    object_type TEXT    NOT NULL,
    object_id   TEXT,
    outcome     TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    detail      TEXT,
    prev_hash   BLOB    NOT NULL,
    hash        BLOB    NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);

-- The log is append-only for the application; whoever bypasses this by
-- dropping the triggers is caught by the hash chain.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
