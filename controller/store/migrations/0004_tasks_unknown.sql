-- uspc schema, version 4: a task may end 'unknown'.
--
-- A Set, Add, Delete or Operate whose request may have reached the agent,
-- but whose answer was never recorded (the daemon holding it crashed or
-- lost its lease, or the agent's MQTT session was lost), is not sent
-- again: running it twice could do harm (an Add creates a second object,
-- an Operate reboots twice). It ends 'unknown' instead, with finished_at
-- and an error_message "outcome unknown: <why>"; the operator checks the
-- agent and decides. Only Get, GetInstances, GetSupportedDM and
-- GetSupportedProtocol are sent again automatically. Written by the task
-- feeder (a daemon's leftovers at its restart, a dead daemon's tasks at
-- lease expiry) and by the store writer for the core
-- (store_task_result.unknown). See docs/schema.md.
--
-- The new CHECK admits every row the old one did, so it is added NOT VALID:
-- no scan of the whole table under the ACCESS EXCLUSIVE lock at upgrade.
-- New and updated rows are checked as usual.

ALTER TABLE tasks DROP CONSTRAINT tasks_state_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_state_check
    CHECK (state IN ('queued', 'sent', 'done', 'failed', 'expired', 'canceled', 'unknown'))
    NOT VALID;
