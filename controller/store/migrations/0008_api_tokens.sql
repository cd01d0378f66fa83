-- uspc schema, version 8: the HTTP API's bearer tokens (uspctl ops
-- token_create, token_list, token_revoke; store_tokens.h), and two
-- indexes for the reads the API pages through (uspctl notifications and
-- operation_results).
--
-- A token is "uspc_" and 43 characters of base64url (32 random bytes); the
-- table keeps only its SHA-256 (hash) and its first 12 characters (prefix,
-- to recognise it in a list), never the token itself. A token is live
-- until it is revoked: at most one live token per name, and a revoked
-- token's name may be given again. An expired token stays live (it holds
-- its name) but no longer authenticates.

CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    name         text COLLATE "C" NOT NULL CHECK (name ~ '^[A-Za-z0-9_.-]{1,64}$'),
    role         text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    hash         bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
    prefix       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text,                    -- uspctl:<unix user>
    expires_at   timestamptz,             -- NULL: never
    revoked_at   timestamptz,
    last_used_at timestamptz              -- set at most once a minute
);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- An agent's newest notifications (the console's agent page: "the newest
-- 50 of this agent"; uspctl notifications with targets). Without it the
-- read walked either every notification of the agent through UNIQUE (eid,
-- msg_id) and sorted them, or the whole table backwards by id. Building
-- it reads the notifications table once inside the start-up transaction
-- of the upgrade: on a large table, upgrade in a maintenance window.
CREATE INDEX notifications_eid_id ON notifications (eid, id);

-- The newest operation results of the whole fleet (uspctl
-- operation_results without targets), and those of one command_key (a
-- uspctl batch's Operate on every agent shares one), without reading the
-- whole table; an agent's are under the primary key.
CREATE INDEX operation_results_updated ON operation_results (updated_at);
CREATE INDEX operation_results_key ON operation_results (command_key);
