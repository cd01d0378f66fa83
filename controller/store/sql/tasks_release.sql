UPDATE tasks SET state = 'queued', claimed_by = NULL, claim_seq = NULL,
  claimed_at = NULL, sent_at = NULL, parked = false, attempts = greatest(attempts - 1, 0)
WHERE id = ANY($1::bigint[]) AND state = 'sent' AND claimed_by = $2
