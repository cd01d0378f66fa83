-- Why campaign_plan skips agent row a (admin_plan_rows.sql: $4 excluded
-- models, $5 excluded versions, $6 the target version), NULL if it does not.
(CASE WHEN a.model_name = ANY($4::text[]) THEN 'excluded_model'
  WHEN a.software_version = ANY($5::text[]) THEN 'excluded_version'
  WHEN a.software_version = $6 THEN 'already_at_target' END)
