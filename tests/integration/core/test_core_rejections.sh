#!/usr/bin/env bash
# Rejected records land in table rejections, aggregated per sender and
# reason ("why is my agent not showing?"), and uspctl's op rejections reads
# them back.
#
# d1 (development broker): a record for someone else's to_id, undecodable
# bytes on an agent's identity level (sender: that level), on the bare
# controller topic (sender: the topic) and on a 300-byte level (sender
# capped at 256 bytes), a record whose from_id is not the level it came on
# (identity_mismatch), and a flood of 5,000 records with a wrong to_id from
# one sender: one row with count 5000 exactly, and no more row writes than
# flushes. uspctl rejections: every row, filters by sender (exact and
# glob), reason and since, the limit, newest first; bad input gets a
# bad_field line.
#
# d2 (rejections_max_rows 50, rejections_retention_s 3600): 200 distinct
# senders leave at most 50 rows, and a row older than the retention is
# deleted.
#
# (The production ACL's spoofing cases are test_core_spoofing.sh's; they
# take the same identity_mismatch path in the daemon.)
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"
need jq mosquitto_pub

new_db "core_rejections"
start_uspc d1 --reject-log-interval 0 --onboard false --stats-interval 1
NODE1=$(sed -n 's/.*(node \([^)]*\)).*/\1/p' "$W/d1.log" | head -n 1)
uctl() { "$USPCTL" --db "$DB_URL" -q; }
rawpub() { mosquitto_pub -L "${USPC_MQTT}/$1" -V mqttv5 -q 1 -s; }
probe() { forge "$@" --to-id "${TO_ID:-$CTL_EID}" --no-answer; }

A1=$(agent 1) A2=$(agent 2) A3=$(agent 3) A4=$(agent 4) A5=$(agent 5)
LONG=$(printf 'x%.0s' $(seq 300))

# 1. a record for someone else
TO_ID=proto::someone-else probe wrong --id "$A1" --agent-topic "$CTL_TOPIC/$A1" \
  --send-connect "usp/agent/$A1"
# 2. undecodable bytes: on A2's level, on the bare topic, on a long level
printf '\xff\xff\xff\xff garbage' | rawpub "$CTL_TOPIC/$A2"
printf '\xff\xff\xff\xff garbage' | rawpub "$CTL_TOPIC"
printf '\xff\xff\xff\xff garbage' | rawpub "$CTL_TOPIC/$LONG"
# 3. A3 speaks on A4's level
probe mismatch --id "$A3" --agent-topic "$CTL_TOPIC/$A4" --send-connect "usp/agent/$A3"
# 4. the flood: 5,000 records for someone else from A5
TO_ID=proto::someone-else probe flood --id "$A5" --agent-topic "$CTL_TOPIC/$A5" \
  --send-connect "usp/agent/$A5" --repeat 5000
[ "$FORGE_REFUSED" = 0 ] || fail "the broker refused $FORGE_REFUSED of the flood"

TOTAL=5005
wait_sql "SELECT sum(count) FROM rejections" "$TOTAL" 30
sleep 1.5 # one more flush: nothing more may come
[ "$(q "SELECT sum(count) FROM rejections")" = "$TOTAL" ] || fail "rejections: $(q "SELECT sum(count) FROM rejections") counted, want $TOTAL"
[ "$(stat_field "$W/d1.log" rejected)" = "$TOTAL" ] || fail "stats: rejected=$(stat_field "$W/d1.log" rejected), want $TOTAL"
q "SELECT sender, reason, count, topic, detail, node_id FROM rejections ORDER BY sender, reason" >"$W/rows.txt"
log "rows: $(wc -l <"$W/rows.txt")"
[ "$(q "SELECT count(*) FROM rejections")" = 6 ] || fail "want 6 rows: $(cat "$W/rows.txt")"
row() { q "SELECT count || '|' || coalesce(topic, '') || '|' || coalesce(detail, '') || '|' || coalesce(node_id, '')
            FROM rejections WHERE sender = '$1' AND reason = '$2'"; }
[ "$(row "$A5" record_wrong_to_id)" = "5000|$CTL_TOPIC/$A5|proto::someone-else|$NODE1" ] ||
  fail "flood row: $(row "$A5" record_wrong_to_id)"
[ "$(row "$A1" record_wrong_to_id)" = "1|$CTL_TOPIC/$A1|proto::someone-else|$NODE1" ] ||
  fail "wrong to_id row: $(row "$A1" record_wrong_to_id)"
[[ $(row "$A2" record_undecodable) == "1|$CTL_TOPIC/$A2|"* ]] || fail "undecodable row: $(row "$A2" record_undecodable)"
[[ $(row "$CTL_TOPIC" record_undecodable) == "1|$CTL_TOPIC|"* ]] || fail "bare-topic row: $(row "$CTL_TOPIC" record_undecodable)"
[ "$(row "$A3" identity_mismatch)" = "1|$CTL_TOPIC/$A4|topic $CTL_TOPIC/$A4|$NODE1" ] ||
  fail "identity row: $(row "$A3" identity_mismatch)"
[[ $(row "${LONG:0:256}" record_undecodable) == "1|$CTL_TOPIC/$LONG|"* ]] ||
  fail "long sender not capped at 256 bytes: $(cut -c1-80 "$W/rows.txt")"
[ "$(q "SELECT first_at <= last_at AND last_at > now() - interval '1 minute' FROM rejections
        WHERE sender = '$A5'")" = t ] || fail "flood row times: $(q "SELECT first_at, last_at FROM rejections WHERE sender = '$A5'")"
# counted in memory: a handful of row writes per flush, not one per record
writes=$(q "SELECT n_tup_ins + n_tup_upd FROM pg_stat_user_tables WHERE relname = 'rejections'")
log "row writes for $TOTAL rejections: $writes"
[ "$writes" -lt 200 ] || fail "$writes row writes for $TOTAL rejections"

# uspctl rejections
echo '{"id":"all","op":"rejections"}' | uctl >"$W/all.out" || fail "rejections failed: $(cat "$W/all.out")"
[ "$(wc -l <"$W/all.out")" = 6 ] || fail "rejections: $(cat "$W/all.out")"
jq -e -s 'all(.[]; .id == "all" and .ok and (.result | has("sender") and has("reason") and has("topic")
  and has("detail") and has("count") and has("first_at") and has("last_at") and has("node")))' "$W/all.out" \
  >/dev/null || fail "rejections lines: $(head -n 2 "$W/all.out")"
jq -e -s '[.[].result.last_at] as $t | $t == ($t | sort | reverse)' "$W/all.out" >/dev/null ||
  fail "not newest first: $(jq -c '.result.last_at' "$W/all.out")"
jq -e -s '.[0].result.first_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+[+-][0-9]{2}(:[0-9]{2})?$")' "$W/all.out" >/dev/null ||
  fail "time not ISO: $(head -n 1 "$W/all.out")"

echo '{"id":"one","op":"rejections","sender":"'"$A5"'"}' | uctl >"$W/one.out"
jq -e -s 'length == 1 and .[0].result.count == 5000 and .[0].result.reason == "record_wrong_to_id"
  and .[0].result.node == "'"$NODE1"'" and .[0].result.topic == "'"$CTL_TOPIC/$A5"'"' "$W/one.out" >/dev/null ||
  fail "sender filter: $(cat "$W/one.out")"
echo '{"id":"glob","op":"rejections","sender":"'"$AGENT_PREFIX"'*"}' | uctl >"$W/glob.out"
[ "$(jq -r '.result.sender' "$W/glob.out" | sort | tr '\n' ' ')" = "$A1 $A2 $A3 $A5 " ] ||
  fail "glob filter: $(jq -r '.result.sender' "$W/glob.out" | tr '\n' ' ')"
echo '{"id":"r","op":"rejections","reason":"record_undecodable"}' | uctl >"$W/reason.out"
if [ "$(jq -r '.result.reason' "$W/reason.out" | sort -u)" != record_undecodable ] ||
  [ "$(wc -l <"$W/reason.out")" != 3 ]; then
  fail "reason filter: $(cat "$W/reason.out")"
fi
echo '{"id":"l","op":"rejections","limit":2}' | uctl >"$W/limit.out"
[ "$(wc -l <"$W/limit.out")" = 2 ] || fail "limit: $(cat "$W/limit.out")"
[ "$(jq -c '.result.sender' "$W/limit.out")" = "$(head -n 2 "$W/all.out" | jq -c '.result.sender')" ] ||
  fail "limit does not keep the newest: $(cat "$W/limit.out")"
q "UPDATE rejections SET last_at = now() - interval '2 hours', first_at = now() - interval '3 hours'
   WHERE sender = '$A1'" >/dev/null
echo '{"id":"s","op":"rejections","since":3600}' | uctl >"$W/since.out"
if [ "$(wc -l <"$W/since.out")" != 5 ] || grep -qF "\"$A1\"" "$W/since.out"; then
  fail "since filter: $(cat "$W/since.out")"
fi
echo '{"id":"none","op":"rejections","sender":"proto::nobody"}' | uctl >"$W/none.out" ||
  fail "no rows is not an error: $(cat "$W/none.out")"
[ ! -s "$W/none.out" ] || fail "no rows: $(cat "$W/none.out")"

# bad input: one clear error line each, exit status 1
printf '%s\n' '{"id":"b1","op":"rejections","color":"red"}' '{"id":"b2","op":"rejections","limit":0}' \
  '{"id":"b3","op":"rejections","limit":10001}' '{"id":"b4","op":"rejections","reason":"Not A Reason"}' \
  '{"id":"b5","op":"rejections","since":-1}' '{"id":"b6","op":"rejections","targets":{"all":true}}' \
  '{"id":"b7","op":"rejections","sender":"abc\\"}' | uctl >"$W/bad.out" && fail "bad lines exited 0"
[ "$(jq -r 'select(.ok == false and .error.code == "bad_field") | .id' "$W/bad.out" | tr '\n' ' ')" = "b1 b2 b3 b4 b5 b6 b7 " ] ||
  fail "bad input: $(cat "$W/bad.out")"
grep -q "does not take field 'color'" "$W/bad.out" || fail "unknown field message: $(cat "$W/bad.out")"
grep -q "'limit' must be a whole number from 1 to 10000" "$W/bad.out" || fail "limit message: $(cat "$W/bad.out")"
stop_pid "$PID_d1" || fail "d1 exit status $? after SIGTERM"

# d2: the table's bounds
new_db "core_rejections_cap"
start_uspc d2 --reject-log-interval 0 --onboard false --stats-interval 1 --rejections-max-rows 50 \
  --rejections-retention-s 3600
q "INSERT INTO rejections VALUES ('proto::old', 'record_wrong_to_id', 't', 'd', 7,
   now() - interval '3 hours', now() - interval '2 hours', 'n')" >/dev/null
TO_ID=proto::someone-else probe many --id "${AGENT_PREFIX}rnd-" --random-id --repeat 200 \
  --agent-topic "$CTL_TOPIC" --send-connect "usp/agent/x"
end=$((SECONDS + 20))
until [ "$(stat_field "$W/d2.log" rejected)" = 200 ] || [ $SECONDS -ge $end ]; do sleep 0.3; done
[ "$(stat_field "$W/d2.log" rejected)" = 200 ] || fail "d2: rejected=$(stat_field "$W/d2.log" rejected), want 200"
sleep 2.5 # the flush after the last one
rows=$(q "SELECT count(*) FROM rejections")
log "d2: $rows rows after 200 senders"
[ "$rows" = 50 ] || fail "rejections_max_rows 50: $rows rows"
[ "$(q "SELECT count(*) FROM rejections WHERE sender = 'proto::old'")" = 0 ] ||
  fail "a row older than rejections_retention_s was kept"
[ "$(q "SELECT count(*) FROM rejections WHERE count <> 1 OR sender NOT LIKE '${AGENT_PREFIX}rnd-%'")" = 0 ] ||
  fail "d2 rows: $(q "SELECT sender, count FROM rejections LIMIT 5")"
alive "$PID_d2" || fail "d2 died"
stop_pid "$PID_d2" || fail "d2 exit status $? after SIGTERM"
log "ok"
