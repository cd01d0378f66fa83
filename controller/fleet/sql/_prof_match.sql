-- Agent row a is in the scope of the profile version row p: its selector
-- (p.selector, the stored form of profile_spec.h) holds, and so does each
-- snapshot predicate of its "where" ("==": the snapshot holds that value,
-- "!=": it does not).
(p.selector -> 'eids' IS NULL
  OR a.eid = ANY(ARRAY(SELECT jsonb_array_elements_text(p.selector -> 'eids'))))
AND (p.selector ->> 'tag' IS NULL OR a.tags @> ARRAY[p.selector ->> 'tag'])
AND (p.selector ->> 'model' IS NULL OR a.model_name = p.selector ->> 'model')
AND (p.selector ->> 'manufacturer' IS NULL OR a.manufacturer = p.selector ->> 'manufacturer')
AND (p.selector ->> 'software_version' IS NULL
  OR a.software_version = p.selector ->> 'software_version')
AND (p.selector ->> 'eid_like' IS NULL OR a.eid LIKE p.selector ->> 'eid_like')
AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(p.selector -> 'where', '[]'::jsonb)) w
  WHERE (w ->> 'op' = '==') <> EXISTS (SELECT 1 FROM snapshot s WHERE s.eid = a.eid
    AND s.path = w ->> 'path' AND s.value = w ->> 'value'))
AND p.selector <> '{}'::jsonb
