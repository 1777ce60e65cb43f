-- One row per merge commit: `target` version `target_version` brought in
-- `source` as of `source_version`. The newest merge between two branches
-- (in either direction) is their merge base; without one, the fork point.
CREATE TABLE merges (
    seq             BIGSERIAL PRIMARY KEY,
    target          TEXT NOT NULL REFERENCES branches(name),
    target_version  BIGINT NOT NULL,
    source          TEXT NOT NULL REFERENCES branches(name),
    source_version  BIGINT NOT NULL
);
