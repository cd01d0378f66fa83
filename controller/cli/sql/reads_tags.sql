-- uspctl tag_list: every tag with its agents and how many are online, by
-- tag (byte order); $1 rows at most. Reads the whole inventory once.
SELECT json_build_object('tag', x.tag, 'agents', x.n, 'online', x.o)::text
FROM (SELECT t.tag COLLATE "C" AS tag, count(*) AS n,
    count(*) FILTER (WHERE a.online) AS o
  FROM agents a CROSS JOIN LATERAL unnest(a.tags) AS t(tag)
  GROUP BY 1) x
ORDER BY x.tag
LIMIT $1::bigint
