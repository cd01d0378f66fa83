-- Through tasks_queued_eid: one index probe per agent, nothing without
-- queued tasks. Runs after the agents row was updated in this transaction,
-- as its own statement, so its snapshot holds every park committed by a
-- claim that had locked that row first. Rows another transaction holds are
-- skipped, not waited for (a cancel or an expiry is changing them, or
-- another unpark or the feeder's sweep is unparking them): waiting, in
-- eid order, could deadlock with a cancel going in id order.
UPDATE tasks SET parked = false WHERE id = ANY(ARRAY(SELECT id FROM tasks
  WHERE eid = ANY($1::text[]) AND state = 'queued' AND parked FOR UPDATE SKIP LOCKED))
