-- Branches, their commits, and versioned entity rows.
-- A branch stores only its own rows; reads of a fork fall through to its
-- parent's rows with commit_version <= forked_at (no copying on fork).
CREATE TABLE branches (
    name        TEXT PRIMARY KEY,
    parent      TEXT REFERENCES branches(name),
    forked_at   INTEGER,
    head        INTEGER NOT NULL DEFAULT 0,
    protected   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TEXT NOT NULL
);

-- The commit log, also the audit log. What a commit changed is in
-- entity_versions (one row per entity it touched), so even a commit of
-- millions of entities is rows, not one giant value.
CREATE TABLE commits (
    branch      TEXT NOT NULL REFERENCES branches(name),
    version     INTEGER NOT NULL,
    author      TEXT,
    message     TEXT,
    created_at  TEXT NOT NULL,
    change_count INTEGER NOT NULL,
    PRIMARY KEY (branch, version)
);

-- One row per entity per commit that touched it. body NULL = deleted.
-- `version` is the entity's optimistic-lock version after that commit;
-- `change` is ADDED | MODIFIED | DELETED and `fields` a JSON array of the
-- top-level fields a modification changed.
CREATE TABLE entity_versions (
    branch          TEXT NOT NULL REFERENCES branches(name),
    kind            TEXT NOT NULL,
    id              TEXT NOT NULL,
    commit_version  INTEGER NOT NULL,
    version         INTEGER NOT NULL,
    body            TEXT,
    change          TEXT NOT NULL,
    fields          TEXT NOT NULL,
    PRIMARY KEY (branch, kind, id, commit_version)
) WITHOUT ROWID;

-- What one commit changed (commit history pages read it by version range).
CREATE INDEX entity_versions_by_commit ON entity_versions (branch, commit_version);
