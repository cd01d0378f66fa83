-- The rows a campaign create or plan computes, in this transaction only.
CREATE TEMP TABLE fleet_plan (
    eid          text COLLATE "C" NOT NULL,
    model        text,
    from_version text,
    state        text NOT NULL,
    reason       text,
    rank         bigint NOT NULL,
    wave         integer NOT NULL DEFAULT 0
) ON COMMIT DROP
