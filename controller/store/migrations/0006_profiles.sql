-- uspc schema, version 6: provisioning profiles (docs/profiles.md).
-- uspctl writes profiles, profile_heads and profile_vars; the profile
-- engine of the daemons (controller/fleet/profile_pass.c) writes the rest;
-- the store writer queues a run when an agent finishes onboarding.

-- Every version of every profile, immutable once written.
CREATE TABLE profiles (
    name        text COLLATE "C" NOT NULL,
    version     integer NOT NULL CHECK (version >= 1),
    definition  jsonb NOT NULL,          -- normalised (prof_spec_to_json)
    selector    jsonb NOT NULL,          -- definition's selector, stored form
    priority    integer NOT NULL,
    mode        text NOT NULL CHECK (mode IN ('enforce', 'audit', 'once')),
    paths       text[] NOT NULL,         -- what it may write (prof_spec_paths)
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text,
    PRIMARY KEY (name, version)
);

-- One row per profile name: its current version, or deleted.
CREATE TABLE profile_heads (
    name        text COLLATE "C" PRIMARY KEY,
    version     integer NOT NULL,
    deleted_at  timestamptz,
    scoped_version integer NOT NULL DEFAULT 0, -- the version the engine's scope walk has seen
    scoped_at   timestamptz,                   -- when that walk last ran
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX profile_heads_live ON profile_heads (name) WHERE deleted_at IS NULL;

-- What each profile is on each agent it has selected.
CREATE TABLE profile_agents (
    name        text COLLATE "C" NOT NULL,
    eid         text COLLATE "C" NOT NULL,
    version     integer NOT NULL,        -- the version of the last verdict (or to apply)
    state       text NOT NULL CHECK (state IN ('pending', 'compliant', 'drifted', 'failed',
                                               'not_applicable', 'contested', 'out_of_scope')),
    detail      text,
    pstate      jsonb,                   -- the run's per-agent memory (profile_run.h)
    fw_version  text,                    -- SoftwareVersion at the verdict
    boot_seen   bigint NOT NULL DEFAULT 0, -- newest Boot! notification id at the verdict
    attempt     integer NOT NULL DEFAULT 0,
    applied_at  timestamptz,             -- time of the last verdict
    retry_at    timestamptz,             -- a transient failure is retried then
    drift_at    timestamptz,             -- the next drift check
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, eid)
);
CREATE INDEX profile_agents_eid ON profile_agents (eid);
CREATE INDEX profile_agents_state ON profile_agents (name, state);
CREATE INDEX profile_agents_retry ON profile_agents (retry_at) WHERE retry_at IS NOT NULL;
CREATE INDEX profile_agents_drift ON profile_agents (drift_at) WHERE drift_at IS NOT NULL;

-- One application in progress or waiting, per agent. triggers accumulate
-- while it waits; `again` asks for one more run after the current one.
CREATE TABLE profile_runs (
    eid         text COLLATE "C" PRIMARY KEY,
    triggers    text[] NOT NULL,
    names       text[],                  -- profile_reconcile: only these (NULL: all)
    force_write_only boolean NOT NULL DEFAULT false,
    reset_contested  boolean NOT NULL DEFAULT false,
    attempt     integer NOT NULL DEFAULT 0,  -- runs cut short by no answer, in a row
    again       boolean NOT NULL DEFAULT false,
    due_at      timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,             -- NULL: waiting
    task_id     bigint,                  -- the request in flight
    profiles    jsonb,                   -- [{"name","version"}] taking part
    work        jsonb,                   -- the run's state (profile_run.h)
    boot_key    bigint NOT NULL DEFAULT 0,
    factory_reset boolean NOT NULL DEFAULT false,
    by_node     text
);
CREATE INDEX profile_runs_waiting ON profile_runs (due_at) WHERE started_at IS NULL;
CREATE INDEX profile_runs_started ON profile_runs (eid) WHERE started_at IS NOT NULL;

-- Which profile owns each path of each agent ("why is this SSID X?").
CREATE TABLE profile_paths (
    eid         text COLLATE "C" NOT NULL,
    path        text COLLATE "C" NOT NULL,
    name        text COLLATE "C" NOT NULL,
    version     integer NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (eid, path)
);

-- The audit trail: one row per profile per finished run.
CREATE TABLE profile_history (
    id          bigserial PRIMARY KEY,
    eid         text COLLATE "C" NOT NULL,
    name        text COLLATE "C" NOT NULL,
    version     integer NOT NULL,
    triggers    text[] NOT NULL,
    outcome     text NOT NULL,
    detail      text,
    entry       jsonb NOT NULL,          -- changes, per-path results (secrets masked)
    at          timestamptz NOT NULL DEFAULT now(),
    by_node     text
);
CREATE INDEX profile_history_eid ON profile_history (eid, id);
CREATE INDEX profile_history_name ON profile_history (name, id);

-- Per-device template variables (${var:NAME}), loaded by uspctl.
CREATE TABLE profile_vars (
    eid         text COLLATE "C" PRIMARY KEY,
    vars        jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The gate (profile_gate): when the agent's profiles last converged.
ALTER TABLE agents ADD COLUMN provisioned_at timestamptz;

-- Requests for a run, appended by the store writer (an agent finished
-- onboarding), uspctl (profile_reconcile) and the engine's own walks; the
-- engine merges them into profile_runs. Appending never waits on a run's
-- row lock, so the writer cannot block on (or deadlock with) an engine.
CREATE TABLE profile_kicks (
    id          bigserial PRIMARY KEY,
    eid         text COLLATE "C" NOT NULL,
    trigger     text NOT NULL,
    name        text,                    -- only this profile (NULL: all)
    force_write_only boolean NOT NULL DEFAULT false,
    reset_contested  boolean NOT NULL DEFAULT false,
    at          timestamptz NOT NULL DEFAULT now()
);
