SELECT a.eid FROM agents a
WHERE {{sel_where}}
ORDER BY a.eid LIMIT $8
