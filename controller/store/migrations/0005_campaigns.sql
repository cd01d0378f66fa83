-- uspc schema, version 5: firmware campaigns (docs/campaigns.md).
--
-- A campaign is advanced by whichever daemon locks its row first
-- (FOR UPDATE SKIP LOCKED): the row lock is what stops two daemons from
-- acting on one campaign at once. Every device step is one transaction
-- that changes the device's row and inserts the task carrying the step's
-- USP request, so a daemon that dies loses nothing and repeats nothing.

CREATE TABLE campaigns (
    id                bigserial PRIMARY KEY,
    name              text NOT NULL UNIQUE,
    -- the definition, as fleet_spec normalised it; credentials are in secret
    spec              jsonb NOT NULL,
    selector          jsonb NOT NULL,
    secret            jsonb,
    state             text NOT NULL DEFAULT 'running'
                      CHECK (state IN ('running', 'paused', 'waiting_window', 'finished', 'aborted')),
    reason            text,
    -- settled: finished or aborted and no device step in flight any more
    settled           boolean NOT NULL DEFAULT false,
    seed              bigint NOT NULL,
    targets           bigint NOT NULL DEFAULT 0,
    wave              integer NOT NULL DEFAULT 0,
    waves             integer NOT NULL,
    wave_started_at   timestamptz NOT NULL DEFAULT now(),
    wave_done_at      timestamptz,
    consecutive_image integer NOT NULL DEFAULT 0,
    consecutive_infra integer NOT NULL DEFAULT 0,
    -- failure thresholds count from the last resume: the counts at it
    base_finished     bigint NOT NULL DEFAULT 0,
    base_image        bigint NOT NULL DEFAULT 0,
    base_infra        bigint NOT NULL DEFAULT 0,
    tokens            double precision NOT NULL DEFAULT 0,
    tokens_at         timestamptz NOT NULL DEFAULT now(),
    joined_at         timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    advanced_by       text,
    advanced_at       timestamptz
);
CREATE INDEX campaigns_unsettled ON campaigns (id) WHERE NOT settled;

-- One row per device of a campaign. state is what campaign_status counts;
-- step says what the device waits for within it; task_id is the task that
-- carries the step's request, if any.
CREATE TABLE campaign_devices (
    id           bigserial PRIMARY KEY,
    campaign     bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    eid          text COLLATE "C" NOT NULL,
    wave         integer NOT NULL,
    rank         bigint NOT NULL,
    model        text,
    from_version text,
    state        text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'downloading', 'downloaded', 'activating', 'rebooting',
                                  'verifying', 'succeeded', 'failed', 'timed_out', 'skipped',
                                  'canceled')),
    step         text,
    reason       text,
    fail_class   text CHECK (fail_class IN ('image', 'infra')),
    detail       text,
    retryable    boolean NOT NULL DEFAULT false,
    attempt      integer NOT NULL DEFAULT 0,
    -- attempts before the last campaign_retry_failed (each retry gets the
    -- whole retry budget again; attempt numbers keep growing, so an old
    -- attempt's late event never matches a new CommandKey)
    retry_base   integer NOT NULL DEFAULT 0,
    bank         text,
    single_bank  boolean NOT NULL DEFAULT false,
    no_activate  boolean NOT NULL DEFAULT false,
    task_id      bigint,
    command_key  text,
    step_at      timestamptz,
    deadline_at  timestamptz,
    due_at       timestamptz,
    parked       boolean NOT NULL DEFAULT false,
    joined_at    timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    timeline     jsonb NOT NULL DEFAULT '[]',
    UNIQUE (campaign, eid)
);
-- At most one campaign at a time acts on a device.
CREATE UNIQUE INDEX campaign_devices_one_active ON campaign_devices (eid)
    WHERE state NOT IN ('succeeded', 'failed', 'timed_out', 'skipped', 'canceled');
-- The dispatch walk: pending devices nobody parked, in wave and seeded order.
CREATE INDEX campaign_devices_queue ON campaign_devices (campaign, wave, rank)
    WHERE state = 'pending' AND NOT parked;
-- Devices with a step in flight (bounded by max_inflight per campaign).
CREATE INDEX campaign_devices_inflight ON campaign_devices (campaign)
    WHERE state IN ('downloading', 'downloaded', 'activating', 'rebooting', 'verifying');
-- The store writer unparks an agent's devices when it is onboarded.
CREATE INDEX campaign_devices_parked ON campaign_devices (eid) WHERE parked;
CREATE INDEX campaign_devices_state ON campaign_devices (campaign, state);
-- Whether a wave still has offline (parked) devices, without reading them.
CREATE INDEX campaign_devices_waiting ON campaign_devices (campaign, wave)
    WHERE state = 'pending' AND parked;

-- Devices of a campaign by wave, state and failure class ('' for none),
-- kept by whoever changes device states (the engine at the end of each
-- pass, uspctl's create, abort and retry_failed), so neither a pass nor a
-- status reads a million-device campaign's rows to count them.
CREATE TABLE campaign_counts (
    campaign   bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    wave       integer NOT NULL,
    state      text NOT NULL,
    fail_class text NOT NULL DEFAULT '',
    n          bigint NOT NULL,
    PRIMARY KEY (campaign, wave, state, fail_class)
);

-- Every operator action and every automatic decision, with its numbers.
CREATE TABLE campaign_events (
    id       bigserial PRIMARY KEY,
    campaign bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    at       timestamptz NOT NULL DEFAULT now(),
    actor    text NOT NULL,
    kind     text NOT NULL,
    message  text NOT NULL
);
CREATE INDEX campaign_events_campaign ON campaign_events (campaign, id);

-- Campaigns look up an agent's TransferComplete! and Boot! events since a
-- step started.
CREATE INDEX notifications_events ON notifications (eid, received_at) WHERE kind = 'event';
