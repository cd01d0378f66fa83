-- uspc schema, version 7: the records the daemons rejected, for "why is my
-- agent not showing?" (docs/uspc.md, "What the daemon does"; uspctl op
-- `rejections`).
--
-- One row per (sender, reason): the sender is the record's from_id, or,
-- for a record that did not decode, the identity level of the topic it
-- came on (else its usp-endpoint-id property, else the topic); "(many
-- senders)" collects a reason's rejections past the core's cap of distinct
-- senders per flush. Each daemon counts in memory and adds its counts
-- about once a second through the store writer, which also keeps the
-- table bounded (rejections_max_rows, rejections_retention_s). All text
-- comes from peers: the core caps it and replaces invalid UTF-8 and
-- control characters.

CREATE TABLE rejections (
    sender      text COLLATE "C" NOT NULL,
    reason      text COLLATE "C" NOT NULL,
    topic       text,                    -- the last topic seen
    detail      text,                    -- the last detail seen (at most 256 bytes)
    count       bigint NOT NULL CHECK (count >= 1),
    first_at    timestamptz NOT NULL,
    last_at     timestamptz NOT NULL,
    node_id     text,                    -- the daemon that saw the last one
    PRIMARY KEY (sender, reason)
);
CREATE INDEX rejections_last_at ON rejections (last_at);
