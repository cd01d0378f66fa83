#!/usr/bin/env bash
# test_uspctl_campaign.sh — firmware campaigns from the operator's side, on
# a real PostgreSQL and without a daemon (the test plays the engine in the
# tables where it must): campaign_plan changes nothing and is reproducible
# for a seed, stratified waves sample every model, percent and count waves;
# campaign_create and campaign_status (shape and counts), skipped devices
# with their reasons; bad definitions, overlapping campaigns, duplicate
# names, unknown agents and campaigns each get their own error line and
# create nothing; pause / resume / abort / retry_failed and their state
# rules; campaign_devices filters, campaign_list, fleet_versions; the
# window and the test clock; uspctl --follow; and the image credentials
# appear in no output at all.
# shellcheck disable=SC2119 # uctl takes its own flags
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-uspctl.sh
. "$(dirname "$0")/itest-uspctl.sh"

new_db "$DB_NAME"
uctl </dev/null >"$W/migrate.out" 2>"$W/migrate.err" || fail "uspctl did not set up the schema"

# 200 agents: SIM-GW-1000 (even) and SIM-GW-2000 (odd) up to 190, SIM-OLD
# from 191; software 2.0.0 when i % 10 = 0, 0.9 when i % 10 = 5, else
# 1.0.0; a quarter offline; the first 40 tagged beta.
q "INSERT INTO agents (eid, online, manufacturer, model_name, software_version, tags, onboarded_at)
   SELECT '$AGENT_PREFIX' || lpad(i::text, 5, '0'), i % 4 <> 0, 'USPC Simulated Devices',
     CASE WHEN i > 190 THEN 'SIM-OLD' WHEN i % 2 = 0 THEN 'SIM-GW-1000' ELSE 'SIM-GW-2000' END,
     CASE WHEN i % 10 = 0 THEN '2.0.0' WHEN i % 10 = 5 THEN '0.9' ELSE '1.0.0' END,
     CASE WHEN i <= 40 THEN '{beta}'::text[] ELSE '{}' END, now()
   FROM generate_series(1, 200) i" >/dev/null
A1=$(agent 1) A2=$(agent 2)
PW="never-print-me-$RANDOM$RANDOM"

# run NAME [uspctl flags] — uspctl on $W/NAME.jsonl; RC is its exit status.
run() {
  local name=$1
  shift
  RC=0
  uctl "$@" <"$W/$name.jsonl" >"$W/$name.out" 2>"$W/$name.err" || RC=$?
}
# counts_ok CAMPAIGN WHAT — campaign_counts holds what the device rows say.
counts_ok() {
  local a b
  a=$(q "SELECT string_agg(k, ',' ORDER BY k) FROM (SELECT wave || '/' || state || '/' || fail_class || '=' || n AS k
         FROM campaign_counts WHERE campaign = $1 AND n > 0) x")
  b=$(q "SELECT string_agg(k, ',' ORDER BY k) FROM (SELECT wave || '/' || state || '/' || coalesce(fail_class, '') || '=' || count(*) AS k
         FROM campaign_devices WHERE campaign = $1 GROUP BY wave, state, fail_class) x")
  [ "$a" = "$b" ] || fail "$2: campaign_counts '$a', the rows say '$b'"
}
rows() { q "SELECT (SELECT count(*) FROM campaigns), (SELECT count(*) FROM campaign_devices), (SELECT count(*) FROM campaign_events)"; }

# The definition of campaign A (minus name and seed).
DEF_A='"targets":{"manufacturer":"USPC Simulated Devices"},"firmware":{"url":"http://fw.example.net/sim-gw-2.0.0.bin","version":"2.0.0","username":"fw","password":"'$PW'"},"waves":[{"percent":10},{"count":30},{"percent":100}],"exclude":{"models":["SIM-OLD"],"versions":["0.9"]},"failure_threshold":{"percent":10,"min_sample":20}'

# Another image, without credentials.
FW='"firmware":{"url":"http://fw.example.net/x.bin","version":"3.0.0"}'

# ---- plan: nothing changes, the same seed gives the same plan ----------------
cat >"$W/plan.jsonl" <<EOF
{"id":"p1","op":"campaign_plan","name":"gw-2.0","seed":42,$DEF_A}
{"id":"p2","op":"campaign_plan","name":"gw-2.0","seed":42,$DEF_A}
{"id":"p3","op":"campaign_plan","name":"gw-2.0",$DEF_A}
EOF
run plan
expect_status 0 "$RC" "campaign_plan"
[ "$(rows)" = "0|0|0" ] || fail "campaign_plan left rows behind: $(rows)"
check_jsonl "plan: counts, waves (10 % of 152 rounds up to 16, then 30, then the rest)" \
  '.[0] | .ok and (has("agent") | not) and (.result | has("campaign") | not) and .result.name == "gw-2.0"
     and .result.targets == 200 and .result.pending == 152 and .result.skipped == 48 and .result.seed == 42
     and ([.result.waves[].devices] == [16, 30, 106]) and ([.result.per_wave[].devices] == [16, 30, 106])
     and .result.by_model == {"SIM-GW-1000": 76, "SIM-GW-2000": 76} and .result.by_from_version == {"1.0.0": 152}' \
  "$W/plan.out"
check_jsonl "plan: the skipped devices and their reasons" \
  '.[0].result.skipped_devices | length == 48
     and ([.[] | select(.reason == "excluded_model")] | length == 10)
     and ([.[] | select(.reason == "excluded_version")] | length == 19)
     and ([.[] | select(.reason == "already_at_target")] | length == 19)
     and (.[0] | has("agent") and has("reason"))' "$W/plan.out"
check_jsonl "plan: stratified, every wave holds both models (wave 1: 8 and 8)" \
  '.[0].result.per_wave | (.[0].by_model == {"SIM-GW-1000": 8, "SIM-GW-2000": 8})
     and all(.[]; .by_model | has("SIM-GW-1000") and has("SIM-GW-2000"))' "$W/plan.out"
check_jsonl "plan: the same seed, the same plan" '.[0].result == .[1].result' "$W/plan.out"
SEED=$(jq -r 'select(.id == "p3") | .result.seed' "$W/plan.out")
if ! [[ $SEED =~ ^[0-9]+$ ]] || [ "$SEED" -gt 2147483647 ]; then
  fail "plan without a seed: seed '$SEED'"
fi
echo '{"id":"p4","op":"campaign_plan","name":"gw-2.0","seed":'"$SEED"','"$DEF_A"'}' >"$W/plan2.jsonl"
run plan2
check_jsonl "the random seed a plan shows gives the same plan again" \
  "[.[0].result] == [$(jq -c 'select(.id == "p3") | .result' "$W/plan.out")]" "$W/plan2.out"

# ---- create and status -------------------------------------------------------
echo '{"id":"c","op":"campaign_create","name":"gw-2.0","seed":42,'"$DEF_A"'}' >"$W/create.jsonl"
run create
expect_status 0 "$RC" "campaign_create"
check_jsonl "create: the campaign id and what the plan said" \
  'length == 1 and (.[0] | .id == "c" and .ok and .result.campaign > 0 and .result.state == "running"
     and .result.targets == 200 and .result.pending == 152 and .result.skipped == 48 and .result.seed == 42
     and ([.result.waves[].devices] == [16, 30, 106]))' "$W/create.out"
CA=$(jq '.result.campaign' "$W/create.out")
[ "$(q "SELECT count(*) FROM campaign_devices WHERE campaign = $CA")" = 200 ] || fail "create: not 200 device rows"
[ "$(q "SELECT selector::text FROM campaigns WHERE id = $CA")" = '{"manufacturer": "USPC Simulated Devices"}' ] ||
  fail "create: selector stored as $(q "SELECT selector::text FROM campaigns WHERE id = $CA")"
[ "$(q "SELECT secret->>'password' FROM campaigns WHERE id = $CA")" = "$PW" ] || fail "create: credentials not stored"
[ "$(q "SELECT spec::text LIKE '%$PW%' FROM campaigns WHERE id = $CA")" = f ] || fail "create: credentials in the spec"
[ "$(q "SELECT string_agg(DISTINCT kind, ',') FROM campaign_events WHERE campaign = $CA")" = created ] ||
  fail "create: no 'created' event"
counts_ok "$CA" "create"
# ranks 1..152 in waves by rank; every prefix of the order holds both models
# within one (stratified); model and from_version stored
[ "$(q "SELECT count(DISTINCT rank) = 152 AND min(rank) = 1 AND max(rank) = 152
          AND bool_and(wave = CASE WHEN rank <= 16 THEN 0 WHEN rank <= 46 THEN 1 ELSE 2 END)
          AND bool_and(model IS NOT NULL AND from_version = '1.0.0')
        FROM campaign_devices WHERE campaign = $CA AND state = 'pending'")" = t ] || fail "create: ranks or waves wrong"
[ "$(q "SELECT max(abs(a - b)) FROM (SELECT count(*) FILTER (WHERE model = 'SIM-GW-1000') OVER w AS a,
          count(*) FILTER (WHERE model = 'SIM-GW-2000') OVER w AS b
        FROM campaign_devices WHERE campaign = $CA AND state = 'pending' WINDOW w AS (ORDER BY rank)) x")" = 1 ] ||
  fail "create: the order is not stratified"
[ "$(q "SELECT string_agg(reason || ':' || n, ',' ORDER BY reason) FROM (SELECT reason, count(*) n
        FROM campaign_devices WHERE campaign = $CA AND state = 'skipped' GROUP BY 1) x")" = \
  "already_at_target:19,excluded_model:10,excluded_version:19" ] || fail "create: skipped reasons"

printf '%s\n' '{"id":"s","op":"campaign_status","campaign":'"$CA"'}' '{"op":"campaign_status","campaign":"gw-2.0"}' >"$W/status.jsonl"
run status
expect_status 0 "$RC" "campaign_status"
check_jsonl "status: shape" \
  '.[0].result | (keys_unsorted[0:11] == ["campaign","name","state","reason","settled","wave","waves","targets","seed","created_at","finished_at"])
     and has("counts") and has("per_wave") and has("failures") and has("by_model") and has("by_from_version")
     and has("rate") and has("eta_s") and has("thresholds") and has("top_faults") and has("recent_events")
     and (has("window") | not) and .state == "running" and .reason == null and .wave == 1 and .waves == 3
     and .targets == 200 and .seed == 42 and .finished_at == null' "$W/status.out"
check_jsonl "status: counts per state, per wave, per model and version" \
  '.[0].result | .counts == {"pending":152,"downloading":0,"downloaded":0,"activating":0,"rebooting":0,"verifying":0,"succeeded":0,"failed":0,"timed_out":0,"skipped":48,"canceled":0,"in_progress":0}
     and ([.per_wave[] | .counts.pending] == [16, 30, 106]) and ([.per_wave[].wave] == [1, 2, 3])
     and .per_wave[0].counts.skipped == 48
     and .by_model["SIM-OLD"] == {"skipped": 10} and .by_model["SIM-GW-1000"].pending == 76
     and .by_from_version["0.9"] == {"skipped": 20} and .by_from_version["1.0.0"].pending == 152
     and .failures == {} and .rate == {"starts_per_min": 0, "successes_per_min": 0} and .eta_s == null
     and .thresholds.image == {"failed":0,"finished":0,"percent":0,"limit":10,"min_sample":20,"consecutive":0,"consecutive_limit":10}
     and .thresholds.infra.limit == 50 and .top_faults == []
     and .recent_events[0].kind == "created" and (.recent_events[0].actor | startswith("uspctl:"))
     and .spec.firmware.version == "2.0.0" and .spec.seed == 42' "$W/status.out"
check_jsonl "status: by id and by name alike, id optional" \
  '.[1].id == null and (.[0].result | del(.rate)) == (.[1].result | del(.rate))' "$W/status.out"

# ---- conflicts, duplicates, unknown agents, no targets --------------------------
cat >"$W/conflict.jsonl" <<EOF
{"id":"overlap","op":"campaign_create","name":"beta-3.0","targets":{"tag":"beta"},$FW}
{"id":"overlap-plan","op":"campaign_plan","name":"beta-3.0","targets":{"tag":"beta"},$FW}
{"id":"one","op":"campaign_create","name":"one","targets":"$A1",$FW}
{"id":"dup","op":"campaign_create","name":"gw-2.0","targets":{"model":"SIM-OLD"},$FW}
{"id":"who","op":"campaign_create","name":"who","targets":["$(agent 191)","proto::nobody-here"],$FW}
{"id":"none","op":"campaign_create","name":"none","targets":{"model":"no-such-model"},$FW}
EOF
before=$(rows)
run conflict
expect_status 1 "$RC" "conflicts"
[ "$(rows)" = "$before" ] || fail "a refused create left rows: $before -> $(rows)"
check_jsonl "overlapping campaign: campaign_conflict with the count, EIDs and campaign ids" \
  '(.[] | select(.id == "overlap") | .error.code == "campaign_conflict"
      and (.error.message | startswith("32 targets are in another campaign"))
      and (.error.message | contains("'"$A1"' (campaign '"$CA"' '"'"'gw-2.0'"'"')")))
   and (.[] | select(.id == "overlap-plan") | .error.code == "campaign_conflict")
   and (.[] | select(.id == "one") | .error.code == "campaign_conflict" and (.error.message | startswith("1 target is")))' "$W/conflict.out"
check_jsonl "duplicate name: campaign_exists; unknown agent: unknown_agent; no match: no_targets" \
  '(.[] | select(.id == "dup") | .error.code == "campaign_exists" and (.error.message | contains("gw-2.0")))
   and (.[] | select(.id == "who") | .error.code == "unknown_agent" and (.error.message | contains("proto::nobody-here")))
   and (.[] | select(.id == "none") | .error.code == "no_targets")' "$W/conflict.out"

# the status shows what the engine recorded: failures, faults, rates
q "UPDATE campaign_devices SET state = 'failed', fail_class = 'image', reason = 'activation_failed',
     detail = 'Activate() refused: 7022 Command failure', started_at = now(), finished_at = now()
   WHERE campaign = $CA AND rank IN (1, 2, 3)" >/dev/null
q "UPDATE campaign_devices SET state = 'timed_out', fail_class = 'infra', reason = 'download_timeout',
     detail = 'no TransferComplete!', started_at = now(), finished_at = now() WHERE campaign = $CA AND rank = 4" >/dev/null
q "UPDATE campaign_devices SET state = 'succeeded', started_at = now(), finished_at = now() WHERE campaign = $CA AND rank BETWEEN 5 AND 10" >/dev/null
q "UPDATE campaign_devices SET state = 'downloading', step = 'transfer', started_at = now() WHERE campaign = $CA AND rank BETWEEN 11 AND 12" >/dev/null
q "UPDATE campaigns SET consecutive_image = 3 WHERE id = $CA" >/dev/null
run status
check_jsonl "status: failures by reason, thresholds, top faults, rate and ETA" \
  '.[0].result | .counts.failed == 3 and .counts.timed_out == 1 and .counts.succeeded == 6 and .counts.in_progress == 2
     and .counts.downloading == 2 and .counts.pending == 140
     and .failures == {"activation_failed": 3, "download_timeout": 1}
     and .thresholds.image.failed == 3 and .thresholds.image.finished == 10 and .thresholds.image.percent == 30
     and .thresholds.image.consecutive == 3 and .thresholds.infra.failed == 1
     and .top_faults[0] == {"detail": "Activate() refused: 7022 Command failure", "count": 3}
     and .top_faults[1].count == 1 and .rate == {"starts_per_min": 12, "successes_per_min": 6}
     and .eta_s == 1420' "$W/status.out"

# ---- bad input: one error line each, nothing created --------------------------
cat >"$W/bad.jsonl" <<EOF
{"id":"unknown","op":"campaign_create","name":"b1","targets":{"all":true},$FW,"colour":"red"}
{"id":"negative","op":"campaign_create","name":"b2","targets":{"all":true},$FW,"waves":[{"percent":-10}]}
{"id":"order","op":"campaign_create","name":"b3","targets":{"all":true},$FW,"waves":[{"percent":50},{"percent":20}]}
{"id":"noversion","op":"campaign_create","name":"b4","targets":{"all":true},"firmware":{"url":"http://fw.example.net/x.bin"}}
{"id":"userinfo","op":"campaign_create","name":"b5","targets":{"all":true},"firmware":{"url":"http://fw:$PW@fw.example.net/x.bin","version":"3.0.0"}}
{"id":"checksum","op":"campaign_create","name":"b6","targets":{"all":true},"firmware":{"url":"http://fw.example.net/x.bin","version":"3.0.0","checksum":{"algorithm":"SHA-256","value":"abc"}}}
{"id":"tz","op":"campaign_create","name":"b7","targets":{"all":true},$FW,"window":{"timezone":"Mars/Olympus_Mons","slots":[{"start":"02:00","duration_min":120}]}}
{"id":"online","op":"campaign_create","name":"b8","targets":{"online":true},$FW}
{"id":"common","op":"campaign_create","name":"b9","targets":{"all":true},$FW,"timeout":30}
{"id":"planbad","op":"campaign_plan","name":"b10","targets":{"all":true},$FW,"max_inflight":0}
{"id":"ugly","op":"campaign_create","name":"b11","targets":{"all":true},$FW,"waves":"10%"}
{"id":"conteids","op":"campaign_create","name":"b12","targets":["$A1","$A2"],$FW,"continuous":true}
EOF
before=$(rows)
run bad
expect_status 1 "$RC" "bad definitions"
[ "$(rows)" = "$before" ] || fail "a bad definition created rows: $before -> $(rows)"
check_jsonl "bad definitions: one bad_field line each, naming the field" \
  'length == 12 and all(.[]; .ok == false and has("line"))
   and (.[] | select(.id == "unknown") | .error.code == "bad_field" and (.error.message | contains("colour")))
   and (.[] | select(.id == "negative") | .error.code == "bad_field" and (.error.message | contains("waves[0].percent")))
   and (.[] | select(.id == "order") | .error.code == "bad_field" and (.error.message | contains("waves[1].percent")))
   and (.[] | select(.id == "noversion") | .error.code == "bad_field" and (.error.message | contains("firmware.version")))
   and (.[] | select(.id == "userinfo") | .error.code == "bad_field" and (.error.message | contains("credentials")))
   and (.[] | select(.id == "checksum") | .error.code == "bad_field" and (.error.message | contains("firmware.checksum.value")))
   and (.[] | select(.id == "tz") | .error.code == "bad_field" and (.error.message | contains("unknown time zone")))
   and (.[] | select(.id == "online") | .error.code == "bad_targets")
   and (.[] | select(.id == "common") | .error.code == "bad_field" and (.error.message | contains("timeout")))
   and (.[] | select(.id == "planbad") | .error.code == "bad_field" and (.error.message | contains("max_inflight")))
   and (.[] | select(.id == "ugly") | .error.code == "bad_field" and (.error.message | contains("waves")))
   and (.[] | select(.id == "conteids") | .error.code == "bad_targets" and (.error.message | contains("continuous")))' "$W/bad.out"

# ---- an unstratified campaign: the order is md5(seed:eid) ------------------------
echo '{"id":"old","op":"campaign_create","name":"old-3.0","targets":{"model":"SIM-OLD"},'"$FW"',"stratify":false,"seed":7,"waves":[{"count":4},{"percent":100}]}' >"$W/old.jsonl"
run old
expect_status 0 "$RC" "unstratified campaign (devices skipped by another campaign are free)"
check_jsonl "count wave, the last takes the rest" \
  '.[0].result.pending == 10 and ([.[0].result.waves[].devices] == [4, 6])' "$W/old.out"
CO=$(jq '.result.campaign' "$W/old.out")
[ "$(q "SELECT bool_and(rank = rn) FROM (SELECT rank, row_number() OVER (ORDER BY md5('7:' || eid) COLLATE \"C\") AS rn
        FROM campaign_devices WHERE campaign = $CO) x")" = t ] || fail "unstratified order is not md5(seed:eid)"

# ---- a continuous campaign may start empty -------------------------------------------
echo '{"id":"cont","op":"campaign_create","name":"later","targets":{"model":"SIM-NEXT"},'"$FW"',"continuous":true}' >"$W/cont.jsonl"
run cont
expect_status 0 "$RC" "continuous campaign without targets yet"
check_jsonl "continuous: created with 0 targets" '.[0].result.targets == 0 and .[0].result.state == "running"' "$W/cont.out"
CC=$(jq '.result.campaign' "$W/cont.out")
[ "$(q "SELECT selector::text FROM campaigns WHERE id = $CC")" = '{"model": "SIM-NEXT"}' ] || fail "continuous: selector"

# ---- pause, resume: state rules and idempotency --------------------------------------
cat >"$W/ctl.jsonl" <<EOF
{"id":"pause","op":"campaign_pause","campaign":$CA}
{"id":"pause2","op":"campaign_pause","campaign":"gw-2.0"}
{"id":"resume","op":"campaign_resume","campaign":$CA}
{"id":"resume2","op":"campaign_resume","campaign":$CA}
EOF
run ctl
expect_status 0 "$RC" "pause and resume"
check_jsonl "pause, pause again (ok, no change), resume, resume again" \
  '(.[0].result | .campaign == '"$CA"' and .name == "gw-2.0" and .before == "running" and .state == "paused" and .changed
      and (.reason | startswith("paused by uspctl:")))
   and (.[1].result | .before == "paused" and .state == "paused" and (.changed | not))
   and (.[2].result | .before == "paused" and .state == "running" and .reason == null and .changed)
   and (.[3].result | .before == "running" and .state == "running" and (.changed | not))' "$W/ctl.out"
[ "$(q "SELECT string_agg(kind, ',' ORDER BY id) FROM campaign_events WHERE campaign = $CA")" = created,paused,resumed ] ||
  fail "controls: events $(q "SELECT string_agg(kind, ',' ORDER BY id) FROM campaign_events WHERE campaign = $CA")"
[ "$(q "SELECT consecutive_image, base_finished, base_image, base_infra FROM campaigns WHERE id = $CA")" = "0|10|3|1" ] ||
  fail "resume: breaker and threshold base $(q "SELECT consecutive_image, base_finished, base_image, base_infra FROM campaigns WHERE id = $CA")"
run status
check_jsonl "after a resume the thresholds count from it" \
  '.[0].result.thresholds.image | .failed == 0 and .finished == 0 and .consecutive == 0' "$W/status.out"

# ---- retry_failed ----------------------------------------------------------------
# rank 1-3 failed (image), rank 4 timed out (infra); 1, 2 and 4 retryable;
# rank 2's device is taken by another campaign in the meantime
q "UPDATE campaign_devices SET retryable = true, task_id = 99, due_at = now(), parked = true, attempt = 2 WHERE campaign = $CA AND rank IN (1, 2, 4)" >/dev/null
X2=$(q "SELECT eid FROM campaign_devices WHERE campaign = $CA AND rank = 2")
echo '{"id":"take","op":"campaign_create","name":"take","targets":"'"$X2"'",'"$FW"'}' >"$W/take.jsonl"
run take
expect_status 0 "$RC" "a failed device is free for another campaign"
echo '{"id":"retry","op":"campaign_retry_failed","campaign":'"$CA"'}' >"$W/retry.jsonl"
run retry
expect_status 0 "$RC" "retry_failed"
check_jsonl "retry_failed: the retryable ones, not the one another campaign took" \
  '.[0].result | .before == "running" and .state == "running" and .retried == 2 and .in_other_campaign == 1 and .changed' \
  "$W/retry.out"
[ "$(q "SELECT string_agg(rank || ':' || state || ':' || coalesce(reason, '-') || ':' || retryable || ':'
          || coalesce(task_id::text, '-') || ':' || parked || ':' || (due_at IS NULL) || ':' || (finished_at IS NULL), ',' ORDER BY rank)
        FROM campaign_devices WHERE campaign = $CA AND rank BETWEEN 1 AND 4")" = \
  "1:pending:-:false:-:false:true:true,2:failed:activation_failed:true:99:true:false:false,3:failed:activation_failed:false:-:false:true:false,4:pending:-:false:-:false:true:true" ] ||
  fail "retry_failed: rows $(q "SELECT string_agg(rank || ':' || state, ',' ORDER BY rank) FROM campaign_devices WHERE campaign = $CA AND rank BETWEEN 1 AND 4")"
[ "$(q "SELECT base_finished, base_image, base_infra FROM campaigns WHERE id = $CA")" = "8|2|0" ] ||
  fail "retry_failed: threshold base $(q "SELECT base_finished, base_image, base_infra FROM campaigns WHERE id = $CA")"
[ "$(q "SELECT string_agg(attempt || '/' || retry_base, ',' ORDER BY rank) FROM campaign_devices WHERE campaign = $CA AND rank IN (1, 2, 4)")" = "2/2,2/0,2/2" ] ||
  fail "retry_failed: a retried device gets a whole budget of attempts (retry_base), its attempt numbers go on"
counts_ok "$CA" "retry_failed"
# a finished campaign runs again; with nothing to retry it stays finished
q "UPDATE campaign_devices SET state = 'failed', reason = 'download_failed', retryable = true, finished_at = now() WHERE campaign = $CO AND rank = 1" >/dev/null
q "UPDATE campaign_devices SET state = 'succeeded', finished_at = now() WHERE campaign = $CO AND rank > 1" >/dev/null
q "UPDATE campaigns SET state = 'finished', reason = 'done', settled = true, finished_at = now(), wave = 1, wave_done_at = now(),
     wave_started_at = now() - interval '1 day' WHERE id = $CO" >/dev/null
printf '%s\n' '{"id":"r1","op":"campaign_retry_failed","campaign":'"$CO"'}' '{"id":"r2","op":"campaign_retry_failed","campaign":'"$CC"'}' >"$W/retry2.jsonl"
run retry2
expect_status 0 "$RC" "retry_failed of a finished campaign"
check_jsonl "a finished campaign with a retried device runs again" \
  '(.[0].result | .before == "finished" and .state == "running" and .retried == 1 and .reason == null)
   and (.[1].result | .retried == 0 and (.changed | not))' "$W/retry2.out"
[ "$(q "SELECT state, settled, finished_at IS NULL, wave_done_at IS NULL, wave_started_at > now() - interval '1 minute'
        FROM campaigns WHERE id = $CO")" = "running|f|t|t|t" ] ||
  fail "retry_failed: the finished campaign did not run again"
q "UPDATE campaigns SET state = 'finished', settled = true, finished_at = now() WHERE id = $CO" >/dev/null
q "UPDATE campaign_devices SET state = 'succeeded', finished_at = now() WHERE campaign = $CO" >/dev/null
echo '{"id":"r3","op":"campaign_retry_failed","campaign":'"$CO"'}' >"$W/retry3.jsonl"
run retry3
check_jsonl "nothing to retry: a finished campaign stays finished" \
  '.[0].result | .state == "finished" and .retried == 0 and (.changed | not)' "$W/retry3.out"

# ---- abort, and what a finished or aborted campaign refuses ------------------------------
PENDING=$(q "SELECT count(*) FROM campaign_devices WHERE campaign = $CA AND state = 'pending'")
cat >"$W/abort.jsonl" <<EOF
{"id":"abort","op":"campaign_abort","campaign":$CA}
{"id":"abort2","op":"campaign_abort","campaign":$CA}
{"id":"pause-aborted","op":"campaign_pause","campaign":$CA}
{"id":"resume-aborted","op":"campaign_resume","campaign":$CA}
{"id":"retry-aborted","op":"campaign_retry_failed","campaign":$CA}
{"id":"abort-finished","op":"campaign_abort","campaign":$CO}
{"id":"pause-finished","op":"campaign_pause","campaign":$CO}
{"id":"resume-finished","op":"campaign_resume","campaign":$CO}
{"id":"unknown-id","op":"campaign_status","campaign":999999}
{"id":"unknown-name","op":"campaign_pause","campaign":"no-such-campaign"}
{"id":"unknown-devices","op":"campaign_devices","campaign":999999}
EOF
run abort
expect_status 1 "$RC" "abort and refusals"
check_jsonl "abort: pending devices canceled; again: ok, no change" \
  '(.[] | select(.id == "abort") | .result | .before == "running" and .state == "aborted" and .canceled == '"$PENDING"'
      and (.reason | startswith("aborted by uspctl:")))
   and (.[] | select(.id == "abort2") | .ok and .result.state == "aborted" and (.result.changed | not))' "$W/abort.out"
check_jsonl "refusals: campaign_state for aborted and finished campaigns; unknown_campaign" \
  'all(.[] | select(.id | test("-(aborted|finished)$")); .ok == false and .error.code == "campaign_state")
   and ([.[] | select(.id | test("-(aborted|finished)$"))] | length == 6)
   and all(.[] | select(.id | startswith("unknown-")); .error.code == "unknown_campaign")' "$W/abort.out"
[ "$(q "SELECT count(*) FROM campaign_devices WHERE campaign = $CA AND state = 'canceled' AND reason = 'aborted' AND finished_at IS NOT NULL")" = "$PENDING" ] ||
  fail "abort: pending rows not canceled"
[ "$(q "SELECT count(*) FROM campaign_devices WHERE campaign = $CA AND state IN ('pending', 'downloading')")" = 2 ] ||
  fail "abort: devices in flight are the engine's to stop"
[ "$(q "SELECT state, finished_at IS NOT NULL FROM campaigns WHERE id = $CA")" = "aborted|t" ] || fail "abort: campaign row"
counts_ok "$CA" "abort"

# ---- campaign_devices, campaign_list, fleet_versions -------------------------------------
cat >"$W/lists.jsonl" <<EOF
{"id":"excl","op":"campaign_devices","campaign":$CA,"state":"skipped","reason":"excluded_model"}
{"id":"w1","op":"campaign_devices","campaign":"gw-2.0","wave":1,"state":"canceled","limit":5}
{"id":"failed","op":"campaign_devices","campaign":$CA,"state":"failed"}
{"id":"list","op":"campaign_list"}
{"id":"fv","op":"fleet_versions"}
{"id":"fvb","op":"fleet_versions","targets":{"tag":"beta","online":true}}
{"id":"fvn","op":"fleet_versions","targets":{"model":"no-such-model"}}
{"id":"badstate","op":"campaign_devices","campaign":$CA,"state":"done"}
EOF
run lists
expect_status 1 "$RC" "listing ops (one bad line)"
check_jsonl "campaign_devices: filters by state, reason, wave and limit; one line per device" \
  '([.[] | select(.id == "excl")] | length == 10 and all(.[]; .agent == .result.agent and .result.state == "skipped"
      and .result.reason == "excluded_model" and .result.model == "SIM-OLD" and (.result.timeline | length == 1)))
   and ([.[] | select(.id == "w1")] | length == 5 and all(.[]; .result.wave == 1 and .result.state == "canceled"))
   and ([.[] | select(.id == "failed")] | length == 2 and all(.[]; .result.reason == "activation_failed"
      and (.result | has("step") and has("fail_class") and has("detail") and has("attempt") and has("bank")
      and has("from_version") and has("started_at") and has("finished_at"))))
   and (.[] | select(.id == "badstate") | .error.code == "bad_field" and (.error.message | contains("state")))' "$W/lists.out"
check_jsonl "campaign_list: every campaign, newest first, with counts" \
  '[.[] | select(.id == "list") | .result] | length == 4 and (map(.campaign) == (map(.campaign) | sort | reverse))
     and (.[] | select(.campaign == '"$CA"') | .state == "aborted" and .counts.skipped == 48
          and .counts.canceled == '"$PENDING"' and .counts.failed == 2 and .counts.in_progress == 2 and .counts.succeeded == 6)
     and all(.[]; has("name") and has("reason") and has("targets") and has("created_at"))' "$W/lists.out"
FV=$(q "SELECT json_agg(json_build_object('model', model_name, 'software_version', software_version, 'devices', n, 'online', o) ORDER BY model_name, software_version)
        FROM (SELECT model_name, software_version, count(*) n, count(*) FILTER (WHERE online) o FROM agents GROUP BY 1, 2) x")
check_jsonl "fleet_versions: devices and online per model and version, from the inventory" \
  "[.[] | select(.id == \"fv\") | .result] == $FV" "$W/lists.out"
check_jsonl "fleet_versions with a selector; no_targets when it matches nothing" \
  '([.[] | select(.id == "fvb") | .result] | (map(.devices) | add) == 30 and all(.[]; .devices == .online))
   and (.[] | select(.id == "fvn") | .error.code == "no_targets")' "$W/lists.out"

# ---- the window and the test clock ---------------------------------------------------
# what the engine does after an abort: the devices in flight stop too; and
# the device "take" holds is let go, so every beta agent is free again
q "UPDATE campaign_devices SET state = 'canceled', reason = 'aborted', finished_at = now() WHERE campaign = $CA AND state = 'downloading'" >/dev/null
# a daily slot at 00:00 UTC for an hour; the clock moved to 23:00 and 00:10
now=$(date -u +%s)
off_closed=$(((23 * 3600 - now % 86400 + 86400) % 86400))
off_open=$(((600 - now % 86400 + 86400) % 86400))
printf '%s\n' '{"id":"take-abort","op":"campaign_abort","campaign":"take"}' \
  '{"id":"win","op":"campaign_create","name":"nightly","targets":{"tag":"beta"},'"$FW"',"window":{"timezone":"UTC","cutoff_min":10,"slots":[{"start":"00:00","duration_min":60}]}}' >"$W/win.jsonl"
run win
expect_status 0 "$RC" "a campaign with a window"
CW=$(jq 'select(.id == "win") | .result.campaign' "$W/win.out")
echo '{"id":"ws","op":"campaign_status","campaign":'"$CW"'}' >"$W/ws.jsonl"
RC=0
USPC_CLOCK_OFFSET_S=$off_closed uctl <"$W/ws.jsonl" >"$W/ws-closed.out" 2>"$W/ws-closed.err" || RC=$?
expect_status 0 "$RC" "status with the clock at 23:00"
check_jsonl "window closed at 23:00: opens in an hour" \
  '.[0].result.window | .timezone == "UTC" and .open == false and .opens_in_s <= 3600 and .opens_in_s > 3500' "$W/ws-closed.out"
USPC_CLOCK_OFFSET_S=$off_open uctl <"$W/ws.jsonl" >"$W/ws-open.out" 2>"$W/ws-open.err" || RC=$?
check_jsonl "window open at 00:10: 50 minutes left" \
  '.[0].result.window | .open == true and .left_s <= 3000 and .left_s > 2900' "$W/ws-open.out"
RC=0
USPC_CLOCK_OFFSET_S=soon uctl <"$W/ws.jsonl" >"$W/ws-bad.out" 2>"$W/ws-bad.err" || RC=$?
expect_status 2 "$RC" "a bad USPC_CLOCK_OFFSET_S"

# ---- uspctl --follow ----------------------------------------------------------------
RC=0
uctl --follow "$CA" >"$W/follow-aborted.out" 2>"$W/follow-aborted.err" || RC=$?
expect_status 1 "$RC" "--follow an aborted campaign"
check_jsonl "--follow prints the final status" \
  'length == 1 and .[0].id == "follow" and .[0].ok and .[0].result.campaign == '"$CA"'
     and .[0].result.state == "aborted" and .[0].result.counts.canceled > 0' \
  "$W/follow-aborted.out"
grep -q "campaign $CA gw-2.0 aborted" "$W/follow-aborted.err" || fail "--follow: no progress line"
RC=0
uctl --follow old-3.0 >"$W/follow-ok.out" 2>"$W/follow-ok.err" || RC=$?
expect_status 0 "$RC" "--follow a campaign that finished without failures (by name)"
# a running campaign: followed until it finishes, a line every 10 s off a terminal
"$USPCTL" --db "$DB_URL" --follow "$CW" >"$W/follow-run.out" 2>"$W/follow-run.err" &
FPID=$!
track "$FPID"
sleep 3
alive "$FPID" || fail "--follow ended while the campaign runs"
[ "$(count_lines "$W/follow-run.err" "^campaign $CW nightly running wave 1/1: 0 succeeded, 0 failed, 0 in progress, 40 pending, 0 skipped; 0/min; eta -")" = 1 ] ||
  fail "--follow: progress lines $(cat "$W/follow-run.err")"
q "UPDATE campaign_devices SET state = 'succeeded', finished_at = now() WHERE campaign = $CW AND state = 'pending' AND rank > 1" >/dev/null
q "UPDATE campaign_devices SET state = 'failed', reason = 'boot_fallback', fail_class = 'image', finished_at = now() WHERE campaign = $CW AND rank = 1" >/dev/null
q "UPDATE campaigns SET state = 'finished' WHERE id = $CW" >/dev/null
wait_exit "$FPID" 10 || fail "--follow did not end with the campaign"
expect_status 1 "$EXIT_RC" "--follow a campaign that finished with a failed device"
check_jsonl "--follow: final status" '.[0].result.state == "finished" and .[0].result.counts.failed == 1' "$W/follow-run.out"
# Ctrl-C stops following and leaves the campaign alone
"$USPCTL" --db "$DB_URL" --follow "$CC" >"$W/follow-int.out" 2>"$W/follow-int.err" &
FPID=$!
track "$FPID"
sleep 1.5
kill -INT "$FPID"
wait_exit "$FPID" 10 || fail "--follow did not stop on SIGINT"
expect_status 1 "$EXIT_RC" "--follow interrupted"
[ "$(q "SELECT state FROM campaigns WHERE id = $CC")" = running ] || fail "--follow touched the campaign"
grep -q "stopped following" "$W/follow-int.err" || fail "--follow: no word on the interrupt"
RC=0
uctl --follow 999999 >"$W/follow-unknown.out" 2>"$W/follow-unknown.err" || RC=$?
expect_status 2 "$RC" "--follow an unknown campaign"
grep -q "unknown_campaign" "$W/follow-unknown.err" || fail "--follow unknown: no message"

# ---- the credentials were never printed --------------------------------------------
if grep -l -F -- "$PW" "$W"/*.out "$W"/*.err; then
  fail "the image password appears in the output above"
fi
log "PASS"
