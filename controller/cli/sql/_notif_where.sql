-- The filters of uspctl notifications on row `n`, each NULL for any: $2 kind,
-- $3 a LIKE pattern on path (store_prefix_to_like), $4 / $5 seconds ago
-- received at or after / at or before, $6 only ids below, $7 only ids above.
($2::text IS NULL OR n.kind = $2::text)
AND ($3::text IS NULL OR n.path LIKE $3::text)
AND ($4::float8 IS NULL OR n.received_at >= now() - $4::float8 * interval '1 second')
AND ($5::float8 IS NULL OR n.received_at <= now() - $5::float8 * interval '1 second')
AND ($6::bigint IS NULL OR n.id < $6::bigint)
AND ($7::bigint IS NULL OR n.id > $7::bigint)
