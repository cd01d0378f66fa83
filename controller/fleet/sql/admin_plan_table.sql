-- The rows a campaign create or plan computes, in this transaction only.
-- A pending row's wave is not stored: it follows from its rank and the
-- waves' first ranks (width_bucket, where the rows are read).
CREATE TEMP TABLE fleet_plan (
    eid          text COLLATE "C" NOT NULL,
    model        text,
    from_version text,
    state        text NOT NULL,
    reason       text,
    rank         bigint NOT NULL
) ON COMMIT DROP
