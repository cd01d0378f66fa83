#!/usr/bin/env bash
# A record with a to_id that is not ours, undecodable bytes, an oversized
# record, a session-context record and an MQTTConnectRecord whose topic is
# a wildcard filter are dropped and counted (per reason,
# in the log and the stats line); the daemon keeps serving: a valid
# MQTTConnectRecord afterwards still brings its agent online, and the
# session-context sender gets a DisconnectRecord with code 7106.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

new_db "core_bad_records"
start_uspc d1 --max-record-size 4096 --reject-log-interval 0 --onboard false

enc() { protoc -I"$USPC_SOURCE_DIR/proto" --encode=usp_record.Record "$USPC_SOURCE_DIR/proto/usp-record.proto"; }
pub() { mosquitto_pub -L "${USPC_MQTT}/$CTL_TOPIC" -V mqttv5 -q 1 -s; }
A1=$(agent 1)

# 1. undecodable bytes
printf '\xff\xff\xff\xff garbage' | pub
# 2. a well-formed record for someone else
printf 'version: "1.4"\nto_id: "proto::someone-else"\nfrom_id: "%s"\nmqtt_connect { version: V5 subscribed_topic: "usp/agent/%s" }\n' \
  "$A1" "$A1" | enc | pub
# 3. larger than max_record_size
head -c 6000 /dev/zero | pub
# 4. session context: answered with Disconnect 7106 on the agent's topic
mosquitto_sub -L "${USPC_MQTT}/usp/agent/$A1" -V mqttv5 -C 1 -W 15 -F '%x' >"$W/sub.hex" &
SUB=$!
track "$SUB"
sleep 0.5
printf 'version: "1.4"\nto_id: "%s"\nfrom_id: "%s"\nsession_context { session_id: 5 sequence_id: 1 expected_id: 1 payload: "x" }\n' \
  "$CTL_EID" "$A1" | enc | mosquitto_pub -L "${USPC_MQTT}/$CTL_TOPIC" -V mqttv5 -q 1 \
  -D publish response-topic "usp/agent/$A1" -s

# 5. a connect record whose topic is a filter: no answer could reach it
printf 'version: "1.4"\nto_id: "%s"\nfrom_id: "%s"\nmqtt_connect { version: V5 subscribed_topic: "usp/agent/#" }\n' \
  "$CTL_EID" "$A1" | enc | pub

wait_log "$W/d1.log" 'rejected \(record_undecodable\)' 10
wait_log "$W/d1.log" 'rejected \(record_wrong_to_id\) from '"$A1"': proto::someone-else' 10
wait_log "$W/d1.log" 'rejected \(record_too_large\)' 10
wait_log "$W/d1.log" 'rejected \(record_session_context\) from '"$A1" 10
wait_log "$W/d1.log" 'rejected \(connect_without_topic\) from '"$A1" 10
wait "$SUB" || fail "no answer to the session-context record"
fromhex <"$W/sub.hex" | protoc -I"$USPC_SOURCE_DIR/proto" --decode=usp_record.Record \
  "$USPC_SOURCE_DIR/proto/usp-record.proto" >"$W/disconnect.txt"
grep -q 'reason_code: 7106' "$W/disconnect.txt" || fail "expected Disconnect 7106, got: $(cat "$W/disconnect.txt")"
grep -q "to_id: \"$A1\"" "$W/disconnect.txt" || fail "Disconnect not addressed to $A1"

# Nothing of the rejected records reached the inventory...
[ "$(q "SELECT count(*) FROM agents")" = 0 ] || fail "a rejected record created an agent"
# ...and the daemon still serves: a valid connect record brings the agent online.
printf 'version: "1.3"\nto_id: "%s"\nfrom_id: "%s"\nmqtt_connect { version: V5 subscribed_topic: "usp/agent/%s" }\n' \
  "$CTL_EID" "$A1" "$A1" | enc | pub
wait_sql "SELECT online::text || ' ' || reply_topic || ' ' || mqtt_version FROM agents WHERE eid = '$A1'" \
  "true usp/agent/$A1 5" 10

# The stats line counts all five rejections.
sleep 2.5
[ "$(stat_field "$W/d1.log" rejected)" = 5 ] || fail "stats: rejected=$(stat_field "$W/d1.log" rejected), want 5"
by=$(grep 'rejected by reason:' "$W/d1.log" | tail -n 1)
for r in record_undecodable=1 record_wrong_to_id=1 record_too_large=1 record_session_context=1 \
  connect_without_topic=1; do
  grep -q " $r" <<<"$by" || fail "per-reason count $r missing: $by"
done
kill -0 "$PID_d1" || fail "daemon died"
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"
log "ok"
