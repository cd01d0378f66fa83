-- Campaign $1 for an operator's control: waits for an engine's pass over
-- it to commit (the engines take campaigns FOR UPDATE SKIP LOCKED).
SELECT id, name, state, reason FROM campaigns WHERE id = $1::bigint FOR UPDATE
