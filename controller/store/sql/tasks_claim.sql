-- One claim walks at most $2 queued, unparked tasks in id order (the
-- tasks_ready index) and locks them (SKIP LOCKED: another daemon's walk
-- takes the next ones). Those whose agent is ready become 'sent' (u); the
-- others are parked (p), so no later claim walks them again until the
-- store writer unparks them when their agent becomes ready: finishes
-- onboarding, or comes online for a writer that does not require
-- onboarding (wop_unpark.sql). Parking is safe against that writer because
-- the claim first locks the agent's row FOR SHARE and re-reads it (l): the
-- writer updates the agent's row before it unparks, so either it waits for
-- this claim and then sees the parked rows, or the claim sees the agent
-- ready (it re-reads the newest committed row) and parks nothing. A row
-- the writer holds right now is skipped, not waited for, so a claim never
-- waits and cannot deadlock; its tasks stay unparked for the next claim.
-- With the profile gate ($6), an onboarded agent is not ready for other
-- tasks until its profiles converged: the profile engine sets
-- provisioned_at and unparks in one transaction, as the writer does.
-- Tasks of an eid with no agents row are not walked at all (their agent
-- row cannot be locked, so they could not be parked safely).
--
-- The agent tests are correlated subqueries on purpose: written as a join,
-- the planner reads every queued task, joins and sorts them all before the
-- LIMIT. The UPDATEs take the ids as arrays so they always go through
-- tasks_pkey: as a join the planner may hash-join a sequential scan of the
-- whole table (seen: 23 of 29 ms of a claim of 200).
--
-- $5 is a cursor: the walk starts after that id. Within one round of claims
-- the feeder passes the last id the previous walk reached, so rows it left
-- (their agent's row was locked by a writer or a uspctl tag) do not stop
-- the tasks behind them; the next round starts again from 0.
--
-- The result has one row per claimed task (_task_cols.sql, ordered by id), each
-- also carrying `walked`, `parked` (counts of this claim) and `last_id`
-- (the highest id walked, 0 for none); with no task claimed, one row whose
-- _task_cols.sql columns are NULL.
WITH w AS (SELECT t.id, t.eid, coalesce((SELECT {{agent_ready}} AND (t.batch_id = 'profile'
  OR {{gate_open}}) FROM agents a WHERE a.eid = t.eid), false) AS ready FROM tasks t
  WHERE t.state = 'queued' AND NOT t.parked AND t.id > $5 AND t.not_before <= now()
    AND (t.expires_at IS NULL OR t.expires_at > now())
    AND EXISTS (SELECT 1 FROM agents a WHERE a.eid = t.eid)
  ORDER BY t.id LIMIT $2 FOR UPDATE OF t SKIP LOCKED),
l AS (SELECT a.eid FROM agents a WHERE a.eid = ANY(ARRAY(SELECT eid FROM w WHERE NOT ready))
  AND NOT coalesce({{agent_ready}} AND {{gate_open}}, false) FOR SHARE OF a SKIP LOCKED),
p AS (UPDATE tasks t SET parked = true
  WHERE t.id = ANY(ARRAY(SELECT id FROM w WHERE NOT ready))
    AND t.eid = ANY(ARRAY(SELECT eid FROM l)) RETURNING t.id),
u AS (UPDATE tasks t SET state = 'sent', claimed_by = $1, claim_seq = $4,
  claimed_at = now(), sent_at = now(), attempts = t.attempts + 1
  WHERE t.id = ANY(ARRAY(SELECT id FROM w WHERE ready)) RETURNING {{task_cols}})
SELECT u.*, s.walked, s.parked, s.last_id FROM (SELECT (SELECT count(*) FROM w) AS walked,
  (SELECT count(*) FROM p) AS parked, (SELECT coalesce(max(id), 0) FROM w) AS last_id) s
LEFT JOIN u ON true ORDER BY u.id
