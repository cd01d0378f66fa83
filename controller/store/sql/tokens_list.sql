-- store_token_list: every token, newest first; $1 the most rows.
SELECT coalesce(json_agg({{token_json}} ORDER BY t.id DESC), '[]')::text
FROM (SELECT * FROM api_tokens ORDER BY id DESC LIMIT $1::bigint) t
