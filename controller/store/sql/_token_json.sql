-- An api_tokens row `t` for uspctl and the HTTP API: every key, null when
-- unset; never the hash (store_tokens.h).
json_build_object('token_id', t.id, 'name', t.name, 'role', t.role,
  'prefix', t.prefix, 'created_at', t.created_at, 'created_by', t.created_by,
  'expires_at', t.expires_at, 'revoked_at', t.revoked_at,
  'last_used_at', t.last_used_at)
