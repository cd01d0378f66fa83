-- operation_results is keyed by command (its rows are updated when an
-- OperationComplete arrives, days after the request), so it is not
-- partitioned: its rows not updated within $2 days (of the clock moved by
-- $1 s) go in slices of $3 through operation_results_updated, each slice
-- its own short transaction.
DELETE FROM operation_results WHERE ctid = ANY(ARRAY(SELECT ctid FROM operation_results
  WHERE updated_at < now() + $1::bigint * interval '1 second' - $2::int * interval '1 day'
  LIMIT $3::int))
