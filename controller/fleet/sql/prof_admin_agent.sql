-- What a dry run needs of agent $1: its inventory (the templates' context)
-- and variables, as prof_claim.sql gives them (columns 9 to 16), and
-- whether it is a TR-069 device (column 17).
SELECT a.eid, '', '', false, false, false, 0, {{prof_ready}}, true,
  coalesce(a.serial_number, ''), coalesce(a.oui, ''), coalesce(a.model_name, ''),
  coalesce(a.manufacturer, ''), coalesce(a.product_class, ''),
  coalesce(a.software_version, ''), coalesce(array_to_json(a.tags)::text, '[]'),
  (SELECT v.vars::text FROM profile_vars v WHERE v.eid = a.eid),
  a.protocol = 'cwmp'
FROM agents a WHERE a.eid = $1
