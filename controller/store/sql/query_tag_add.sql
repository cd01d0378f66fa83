UPDATE agents a SET tags = array_append(a.tags, $8::text), updated_at = now()
WHERE {{sel_where}}
  AND NOT a.tags @> ARRAY[$8::text]
