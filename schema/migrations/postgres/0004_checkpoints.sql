-- A branch head's whole state as compact bytes (src/model/checkpoint.rs),
-- so a start reads a few large chunks and replays only the commits after
-- `version` instead of scanning and parsing every entity row. A cache:
-- the rows stay the truth. The chunks and their `checkpoints` row land in
-- one transaction; a start uses a checkpoint only when its chunks are all
-- there and match `digest` (sha-256, hex), else it loads from the rows.
CREATE TABLE checkpoints (
    branch      TEXT NOT NULL REFERENCES branches(name),
    version     BIGINT NOT NULL,
    entities    BIGINT NOT NULL,
    bytes       BIGINT NOT NULL,
    chunks      BIGINT NOT NULL,
    digest      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (branch, version)
);

CREATE TABLE checkpoint_chunks (
    branch      TEXT NOT NULL,
    version     BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    data        BYTEA NOT NULL,
    PRIMARY KEY (branch, version, seq)
);
