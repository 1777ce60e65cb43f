-- One row per merge commit: `target` version `target_version` brought in
-- `source` as of `source_version`. The newest merge between two branches
-- (in either direction) is their merge base; without one, the fork point.
CREATE TABLE merges (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    target          TEXT NOT NULL REFERENCES branches(name),
    target_version  INTEGER NOT NULL,
    source          TEXT NOT NULL REFERENCES branches(name),
    source_version  INTEGER NOT NULL
);
