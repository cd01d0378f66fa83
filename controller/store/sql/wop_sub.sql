WITH u AS (SELECT DISTINCT ON (eid, sub_id) * FROM unnest($1::text[], $2::text[],
  $3::text[], $4::text[], $5::text[], $6::bool[], $7::bool[])
  WITH ORDINALITY AS u(eid, sub_id, typ, refs, inst, enabled, removed, ord)
  ORDER BY eid, sub_id, ord DESC),
d AS (DELETE FROM agent_subscriptions s USING u
  WHERE u.removed AND s.eid = u.eid AND s.sub_id = u.sub_id)
INSERT INTO agent_subscriptions AS s (eid, sub_id, notif_type, reference_list,
  instance_path, enabled)
SELECT eid, sub_id, typ, refs, inst, enabled FROM u WHERE NOT removed
ON CONFLICT (eid, sub_id) DO UPDATE SET
  notif_type = coalesce(excluded.notif_type, s.notif_type),
  reference_list = coalesce(excluded.reference_list, s.reference_list),
  instance_path = coalesce(excluded.instance_path, s.instance_path),
  enabled = excluded.enabled, updated_at = now()
