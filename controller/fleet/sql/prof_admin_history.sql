-- The audit trail of agents $1 (text[]), newest first, at most $3 rows
-- (only profile $2 when not NULL).
SELECT json_build_object('id', id, 'agent', eid, 'profile', name, 'version', version,
  'triggers', triggers, 'outcome', outcome, 'detail', detail, 'at', at, 'by', by_node,
  'changes', entry -> 'changes', 'rounds', entry -> 'rounds')::text
FROM profile_history WHERE eid = ANY($1::text[]) AND ($2::text IS NULL OR name = $2)
ORDER BY id DESC LIMIT $3::int
