-- uspc schema, version 1. Applied by store_schema_migrate() inside one
-- transaction; docs/schema.md says which component writes each table.
-- Text columns that are matched by prefix or sorted (EIDs, paths) use the
-- "C" collation so btree indexes serve LIKE 'prefix%' and ordering is
-- byte-wise and locale-independent.

-- Inventory: one row per agent endpoint ever seen or targeted.
CREATE TABLE agents (
    eid              text COLLATE "C" PRIMARY KEY,
    online           boolean NOT NULL DEFAULT false,
    online_since     timestamptz,          -- last offline→online transition
    state_at         timestamptz,          -- time of the newest online/offline event applied
    last_seen        timestamptz,
    first_seen       timestamptz NOT NULL DEFAULT now(),
    reply_topic      text,                 -- where requests to the agent are published
    mqtt_version     smallint,             -- 5 or 4 (3.1.1)
    usp_versions     text,                 -- e.g. '1.3,1.4'
    manufacturer     text,
    model_name       text,
    serial_number    text,
    software_version text,
    hardware_version text,
    oui              text,
    product_class    text,
    tags             text[] NOT NULL DEFAULT '{}',
    onboarded_at     timestamptz,          -- DeviceInfo read and subscriptions ensured
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agents_online ON agents (eid) WHERE online;
CREATE INDEX agents_model ON agents (model_name);
CREATE INDEX agents_manufacturer ON agents (manufacturer);
CREATE INDEX agents_software_version ON agents (software_version);
CREATE INDEX agents_tags ON agents USING gin (tags);

-- Subscriptions the controller created (or found) on each agent.
CREATE TABLE agent_subscriptions (
    eid            text COLLATE "C" NOT NULL,
    sub_id         text NOT NULL,
    notif_type     text,
    reference_list text,
    instance_path  text,
    enabled        boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (eid, sub_id)
);

-- Data-model snapshot: the newest known value of each parameter.
CREATE TABLE snapshot (
    eid        text COLLATE "C" NOT NULL,
    path       text COLLATE "C" NOT NULL,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (eid, path)
);

-- Notification log, append-only. A Notify retried with the same msg_id is
-- stored once.
CREATE TABLE notifications (
    id              bigserial PRIMARY KEY,
    eid             text COLLATE "C" NOT NULL,
    msg_id          text NOT NULL,
    subscription_id text,
    kind            text NOT NULL CHECK (kind IN ('event', 'value_change', 'obj_creation',
                                                  'obj_deletion', 'oper_complete', 'on_board_req')),
    path            text,
    payload         jsonb NOT NULL,
    received_at     timestamptz NOT NULL,
    stored_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (eid, msg_id)
);
CREATE INDEX notifications_received_at ON notifications (received_at);

-- Tasks: one USP request for one agent, queued by uspctl, run by a daemon.
CREATE TABLE tasks (
    id            bigserial PRIMARY KEY,
    batch_id      text,
    eid           text COLLATE "C" NOT NULL,
    op            text NOT NULL,
    request       jsonb NOT NULL,
    state         text NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'sent', 'done', 'failed', 'expired', 'canceled')),
    attempts      integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    not_before    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    claimed_by    text,                    -- node_id of the daemon holding it ('sent')
    claim_seq     bigint,                  -- which claim statement took it
    claimed_at    timestamptz,
    sent_at       timestamptz,
    finished_at   timestamptz,
    msg_id        text,
    result        jsonb,
    error_code    bigint,
    error_message text
);
CREATE INDEX tasks_queued ON tasks (id) WHERE state = 'queued';
CREATE INDEX tasks_queued_eid ON tasks (eid) WHERE state = 'queued';
CREATE INDEX tasks_queued_expiry ON tasks (expires_at) WHERE state = 'queued' AND expires_at IS NOT NULL;
CREATE INDEX tasks_sent ON tasks (claimed_by, claim_seq) WHERE state = 'sent';
CREATE INDEX tasks_batch ON tasks (batch_id, id) WHERE batch_id IS NOT NULL;
CREATE INDEX tasks_eid ON tasks (eid, id);

-- Asynchronous command results (Operate with an OperationComplete).
CREATE TABLE operation_results (
    eid          text COLLATE "C" NOT NULL,
    command_key  text NOT NULL,
    obj_path     text NOT NULL,
    command_name text NOT NULL,
    state        text NOT NULL CHECK (state IN ('requested', 'complete', 'failed')),
    output       jsonb,
    err_code     bigint,
    err_msg      text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (eid, command_key, obj_path, command_name)
);

-- Daemons and their heartbeats: a stale heartbeat frees the daemon's tasks.
CREATE TABLE daemons (
    node_id      text PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);
