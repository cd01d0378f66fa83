UPDATE agents a SET tags = array_remove(a.tags, $8::text), updated_at = now()
WHERE {{sel_where}}
  AND a.tags @> ARRAY[$8::text]
