-- The filters of uspctl task_list on row `t`, each NULL for any: $2 state,
-- $3 op (the USP request type), $4 batch_id, $5 only ids below.
($2::text IS NULL OR t.state = $2::text)
AND ($3::text IS NULL OR t.op = $3::text)
AND ($4::text IS NULL OR t.batch_id = $4::text)
AND ($5::bigint IS NULL OR t.id < $5::bigint)
