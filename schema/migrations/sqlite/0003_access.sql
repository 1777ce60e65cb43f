-- API tokens: only a hash of the secret is kept. `id` is the public part
-- of the token (`ogt_<id>_<secret>`), used to find the row; the secret is
-- compared by hash in constant time. A revoked token keeps its row (for
-- listing and audit); a name is unique among live tokens only.
CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    role        TEXT NOT NULL,
    branches    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT,
    expires_at  TEXT,
    revoked_at  TEXT
);
CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;

-- Admin actions and denied requests, oldest first.
CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    principal   TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT,
    outcome     TEXT NOT NULL,
    request_id  TEXT,
    detail      TEXT
);
CREATE INDEX audit_by_principal ON audit (principal, seq);
CREATE INDEX audit_by_action ON audit (action, seq);
