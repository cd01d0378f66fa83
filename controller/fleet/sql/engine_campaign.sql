-- Store what a pass decided for campaign $1.
UPDATE campaigns SET state = $2, reason = nullif($3, ''), wave = $4::int,
  wave_started_at = CASE WHEN $5::bool THEN now() ELSE wave_started_at END,
  wave_done_at = CASE WHEN $6::int > 0 THEN coalesce(wave_done_at, now())
    WHEN $6::int < 0 THEN NULL ELSE wave_done_at END,
  consecutive_image = $7::int, consecutive_infra = $8::int,
  tokens = $9::float8, tokens_at = now(),
  joined_at = CASE WHEN $10::bool THEN now() ELSE joined_at END,
  settled = $11::bool,
  finished_at = CASE WHEN $2 IN ('finished', 'aborted') THEN coalesce(finished_at, now()) END,
  targets = targets + $12::bigint,
  advanced_by = $13, advanced_at = now(),
  updated_at = CASE WHEN state <> $2 OR wave <> $4::int THEN now() ELSE updated_at END
WHERE id = $1::bigint
