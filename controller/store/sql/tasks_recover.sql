SELECT {{task_cols}}
FROM tasks t WHERE t.state = 'sent' AND t.claimed_by = $1
  AND t.claim_seq = $2 ORDER BY t.id
