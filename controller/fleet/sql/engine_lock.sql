-- Take campaign $1 for this pass, or nothing when another daemon's engine
-- holds it (SKIP LOCKED: two engines never act on one campaign at once).
-- Ages are in seconds; -1 for "never".
SELECT spec::text, secret::text, state, coalesce(reason, ''), wave, waves,
  extract(epoch FROM now() - wave_started_at)::bigint,
  coalesce(extract(epoch FROM now() - wave_done_at)::bigint, -1),
  consecutive_image, consecutive_infra, tokens,
  extract(epoch FROM now() - tokens_at)::float8, selector::text,
  coalesce(extract(epoch FROM now() - joined_at)::bigint, -1), name,
  base_finished, base_image, base_infra
FROM campaigns WHERE id = $1 AND NOT settled FOR UPDATE SKIP LOCKED
