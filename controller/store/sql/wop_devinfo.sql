WITH u AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
    $5::text[], $6::text[], $7::text[], $8::text[], $9::bool[], $10::bigint[])
    WITH ORDINALITY AS u(eid, f1, f2, f3, f4, f5, f6, f7, onboarded, us, ord)),
  g AS (SELECT eid,
    (array_agg(f1 ORDER BY ord DESC) FILTER (WHERE f1 IS NOT NULL))[1] AS f1,
    (array_agg(f2 ORDER BY ord DESC) FILTER (WHERE f2 IS NOT NULL))[1] AS f2,
    (array_agg(f3 ORDER BY ord DESC) FILTER (WHERE f3 IS NOT NULL))[1] AS f3,
    (array_agg(f4 ORDER BY ord DESC) FILTER (WHERE f4 IS NOT NULL))[1] AS f4,
    (array_agg(f5 ORDER BY ord DESC) FILTER (WHERE f5 IS NOT NULL))[1] AS f5,
    (array_agg(f6 ORDER BY ord DESC) FILTER (WHERE f6 IS NOT NULL))[1] AS f6,
    (array_agg(f7 ORDER BY ord DESC) FILTER (WHERE f7 IS NOT NULL))[1] AS f7,
    max(us) FILTER (WHERE onboarded) AS ob, min(us) AS first
    FROM u GROUP BY eid)
INSERT INTO agents AS a (eid, first_seen, manufacturer, model_name, serial_number,
  software_version, hardware_version, oui, product_class, onboarded_at)
SELECT eid, ('epoch'::timestamptz + (first) * interval '1 microsecond'),
  f1, f2, f3, f4, f5, f6, f7,
  ('epoch'::timestamptz + (ob) * interval '1 microsecond')
FROM g ORDER BY eid
ON CONFLICT (eid) DO UPDATE SET
  manufacturer = coalesce(excluded.manufacturer, a.manufacturer),
  model_name = coalesce(excluded.model_name, a.model_name),
  serial_number = coalesce(excluded.serial_number, a.serial_number),
  software_version = coalesce(excluded.software_version, a.software_version),
  hardware_version = coalesce(excluded.hardware_version, a.hardware_version),
  oui = coalesce(excluded.oui, a.oui),
  product_class = coalesce(excluded.product_class, a.product_class),
  onboarded_at = greatest(a.onboarded_at, excluded.onboarded_at), updated_at = now()
