-- Agent row a is in the scope of the profile version row p: its selector
-- (p.selector, the stored form of profile_spec.h) holds, and so does each
-- snapshot predicate of its "where" ("==": the snapshot holds that value,
-- "!=": it does not). A predicate reads one row of snapshot_objects by its
-- key (the path's object up to its last '.', the parameter after it), not
-- the view snapshot, which would expand every parameter of the agent.
(p.selector -> 'eids' IS NULL
  OR a.eid = ANY(ARRAY(SELECT jsonb_array_elements_text(p.selector -> 'eids'))))
AND (p.selector ->> 'tag' IS NULL OR a.tags @> ARRAY[p.selector ->> 'tag'])
AND (p.selector ->> 'model' IS NULL OR a.model_name = p.selector ->> 'model')
AND (p.selector ->> 'manufacturer' IS NULL OR a.manufacturer = p.selector ->> 'manufacturer')
AND (p.selector ->> 'software_version' IS NULL
  OR a.software_version = p.selector ->> 'software_version')
AND (p.selector ->> 'eid_like' IS NULL OR a.eid LIKE p.selector ->> 'eid_like')
AND (p.selector -> 'where' IS NULL
  OR NOT EXISTS (SELECT 1 FROM jsonb_array_elements(p.selector -> 'where') w
  WHERE (w ->> 'op' = '==') <> EXISTS (SELECT 1 FROM snapshot_objects o WHERE o.eid = a.eid
    AND o.obj = coalesce(substring(w ->> 'path' from '^(.*[.])'), '')
    AND o.params ->> substring(w ->> 'path' from '[^.]*$') = w ->> 'value')))
AND p.selector <> '{}'::jsonb
