-- uspc schema, version 3: queued tasks of agents that cannot take them are
-- parked, so a claim no longer walks them.
--
-- A claim walks queued tasks in id order. Until version 2 it also walked
-- (and skipped) every queued task of an agent that was offline or not yet
-- onboarded, on every claim: a campaign with 300,000 targets offline made
-- every claim, and the feeder's poll every 2 s, read 300,000 rows.
-- Now a claim parks the tasks it finds for such agents (parked = true:
-- still 'queued' for every reader), and the store writer unparks an
-- agent's tasks, through tasks_queued_eid, in the transaction that records
-- the agent online or onboarded. docs/schema.md says why no task can stay
-- parked for an agent that is ready (the claim locks the agent's row before
-- it parks; the writer has updated that row before it unparks).

ALTER TABLE tasks ADD COLUMN parked boolean NOT NULL DEFAULT false;

-- The claim's walk: queued tasks nobody has parked, in id order.
CREATE INDEX tasks_ready ON tasks (id) WHERE state = 'queued' AND NOT parked;
DROP INDEX tasks_queued;
