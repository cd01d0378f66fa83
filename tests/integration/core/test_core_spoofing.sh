#!/usr/bin/env bash
# Spoofing suite: no agent can speak for another.
#
# Production setup: a private mosquitto running deploy/mosquitto/production.conf
# (paths, port and log destination adapted) with deploy/mosquitto/production.acl
# verbatim; certificates from make-test-certs.sh (controller CN self::uspc,
# agent A = agent1, agent B = agent2); uspc with the controller certificate
# and agent_identity = required; A and B simulated agents with their own
# certificates on their identity topics. B is frozen with a Get to it
# outstanding (request timeout 60 s).
#
# Agent A, with its own valid certificate (usp-probe), forges for B: an
# MQTTConnectRecord (subscribed_topic = A's topic), a DisconnectRecord, a
# ValueChange, an OperationComplete and a TransferComplete! Notify, a
# GetResp and a DeleteResp carrying B's outstanding msg_id — each on A's
# identity level, B's identity level, the bare controller topic, B's and
# A's per-agent response topics and the bare reply topic. A also sends
# 10,000 records with random from_ids (5,000 connect records and 5,000
# ValueChanges) on its own level and 100 on the bare topic, and a record
# with extra levels below its own. B itself answers its Get with a
# DeleteResp (wrong type).
#
# Every forged publish is stopped by one layer: the broker refuses it
# (PUBACK 0x87, counted by usp-probe) or the daemon rejects it (counted per
# reason in the stats line) — the counts add up exactly, per reason. Nothing
# changed: B's agents row (reply topic, online, ...), snapshot,
# notifications, operation results, subscriptions and tasks; no agents row
# or registry entry was added (count, stats agents=). The rejections table
# counts every one per reason too, B's forgeries under B with A's topic.
# Thawed, B answers its
# Get itself (B's serial number, not the forged one), a new Get to B is
# published to B and never reaches A's topic.
#
# Dev stack: an obuspa-style agent publishing on the bare controller topic
# is rejected (identity_missing, logged with from_id and topic) with
# agent_identity = required; with optional the daemon warns at start and
# --check-config says so, and the agent is onboarded, answers a Get and its
# notifications are stored.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

A=$(agent 1)
B=$(agent 2)
NODE="$T-d1"
REPLY="$CTL_TOPIC/reply/$NODE"
CERTS=$W/certs
make_certs "$CERTS" "$A" "$B"
start_broker_conf mq_production production_conf
URL="mqtts://127.0.0.1:$MQ_PORT"
TLS_D=(--mqtt "$URL" --mqtt-ca-file "$CERTS/ca.crt")
new_db "core_spoofing"
# agent_identity = required through the environment: the stack's env file
# may set USPC_AGENT_IDENTITY=optional for the dev stack.
USPC_AGENT_IDENTITY=required start_uspc d1 "${TLS_D[@]}" --mqtt-cert-file "$CERTS/controller.crt" \
  --mqtt-key-file "$CERTS/controller.key" --request-timeout-ms 60000 --stats-interval 1 \
  --protocol-trace true --log-level debug
start_sim sa 1 --broker "$URL" --cafile "$CERTS/ca.crt" --cert "$CERTS/agent1.crt" --key "$CERTS/agent1.key" \
  --host-churn 0 --status-interval 1
start_sim sb 1 --first-index 2 --broker "$URL" --cafile "$CERTS/ca.crt" --cert "$CERTS/agent2.crt" \
  --key "$CERTS/agent2.key" --host-churn 0 --status-interval 1
wait_sql "SELECT count(*) FROM agents WHERE online AND onboarded_at IS NOT NULL" 2 40
wait_sql "SELECT count(*) FROM agent_subscriptions WHERE sub_id = 'uspc-swversion'" 2 20
[ "$(q "SELECT reply_topic FROM agents WHERE eid = '$B'")" = "usp/agent/$B" ] || fail "B's reply topic is not its own"

# What lands on A's topic from now on (A reads it with its certificate).
mosquitto_sub -h 127.0.0.1 -p "$MQ_PORT" --cafile "$CERTS/ca.crt" --cert "$CERTS/agent1.crt" \
  --key "$CERTS/agent1.key" -i "$A-capture" -V mqttv5 -q 1 -t "usp/agent/$A" -F '%x' >"$W/a-inbox.hex" &
CAP=$!
track "$CAP"

# A Get to B outstanding: B frozen.
# Its msg_id from the protocol trace.
freeze_sim "$PID_sim_sb"
n_gets=$(trace_sent "$W/d1.log" get "$B")
add_tasks get '{"param_paths":["Device.DeviceInfo.SerialNumber"]}' 2 2
wait_sql "SELECT state FROM tasks WHERE eid = '$B'" sent 10
MSG_B=$(trace_next_msg_id "$W/d1.log" get "$B" "$n_gets")
[ -n "$MSG_B" ] || fail "no msg_id for B's Get"
log "B's outstanding Get: msg_id $MSG_B"

# B's state, everything the forgeries could touch.
b_state() {
  q "SELECT 'agent', online, reply_topic, mqtt_version, online_since, state_at, last_seen, onboarded_at,
       manufacturer, serial_number, software_version FROM agents WHERE eid = '$B'"
  q "SELECT 'snapshot', obj, params FROM snapshot_objects WHERE eid = '$B' ORDER BY obj"
  q "SELECT 'notification', msg_id, kind, path, payload FROM notifications WHERE eid = '$B' ORDER BY id"
  q "SELECT 'oper', command_key, obj_path, command_name, state, output, err_code FROM operation_results
     WHERE eid = '$B' ORDER BY 2, 3, 4"
  q "SELECT 'sub', sub_id, enabled FROM agent_subscriptions WHERE eid = '$B' ORDER BY sub_id"
  q "SELECT 'task', id, state, msg_id, attempts, result, error_message FROM tasks WHERE eid = '$B' ORDER BY id"
}
sleep 2
b_state >"$W/b-before.txt"
agents0=$(q "SELECT count(*) FROM agents")
reg0=$(stat_field "$W/d1.log" agents)
rej0=$(stat_field "$W/d1.log" rejected)
REASONS="identity_mismatch identity_missing identity_bad_topic response_type_mismatch"
for r in $REASONS; do printf -v "r0_$r" '%s' "$(stat_reason "$W/d1.log" "$r")"; done
log "before: agents rows $agents0, registry agents=$reg0, rejected=$rej0"

# Expected daemon rejections per reason, from what the broker let through.
declare -A WANT=([identity_mismatch]=0 [identity_missing]=0 [identity_bad_topic]=0 [response_type_mismatch]=0)
SENT_TOTAL=0 REFUSED_TOTAL=0
# attack NAME N REASON [usp-probe options] — N records; those the broker
# lets through must be rejected with REASON.
attack() {
  local name=$1 n=$2 reason=$3; shift 3
  forge "$name" --broker "$URL" --cafile "$CERTS/ca.crt" --to-id "$CTL_EID" --no-answer "$@"
  log "  $name: $n record(s), $FORGE_REFUSED refused by the broker, $((n - FORGE_REFUSED)) to the daemon ($reason)"
  [ "$FORGE_REFUSED" -le "$n" ] || fail "$name: more refusals than publishes"
  WANT[$reason]=$((WANT[$reason] + n - FORGE_REFUSED))
  SENT_TOTAL=$((SENT_TOTAL + n))
  REFUSED_TOTAL=$((REFUSED_TOTAL + FORGE_REFUSED))
}
AS_A=(--cert "$CERTS/agent1.crt" --key "$CERTS/agent1.key" --client-id "$A-forger" --topic "usp/agent/$A")
VC='{"type":"notify","subscription_id":"uspc-swversion","send_resp":true,"value_change":{"param_path":"Device.DeviceInfo.SoftwareVersion","param_value":"FORGED-9.9"}}'
OPC='{"type":"notify","subscription_id":"uspc-fw-complete","send_resp":true,"oper_complete":{"obj_path":"Device.DeviceInfo.FirmwareImage.2.","command_name":"Download()","command_key":"forged-fw","req_output_args":{"output_args":{}}}}'
XFER='{"type":"notify","subscription_id":"uspc-transfer","send_resp":true,"event":{"obj_path":"Device.LocalAgent.","event_name":"TransferComplete!","params":{"Command":"Device.DeviceInfo.FirmwareImage.2.Download()","CommandKey":"forged-xfer","Requestor":"Device.LocalAgent.Controller.1","TransferType":"Download","Affected":"","TransferURL":"http://forged.invalid/fw","StartTime":"2026-01-01T00:00:00Z","CompleteTime":"2026-01-01T00:00:01Z","FaultCode":"0","FaultString":""}}}'
GETRESP='{"type":"get_resp","msg_id":"'"$MSG_B"'","req_path_results":[{"requested_path":"Device.DeviceInfo.SerialNumber","resolved_path_results":[{"resolved_path":"Device.DeviceInfo.","result_params":{"SerialNumber":"FORGED"}}]}]}'
DELRESP='{"type":"delete_resp","msg_id":"'"$MSG_B"'","deleted_obj_results":[{"requested_path":"Device.DeviceInfo.","oper_status":{"oper_success":{"affected_paths":["Device.DeviceInfo."]}}}]}'
FORGERIES=(--send-connect "usp/agent/$A" --send-disconnect "$VC" "$OPC" "$XFER" "$GETRESP" "$DELRESP")
NF=7

log "A forges records for B:"
attack on-A-level $NF identity_mismatch "${AS_A[@]}" --id "$B" --agent-topic "$CTL_TOPIC/$A" "${FORGERIES[@]}"
attack on-B-level $NF identity_mismatch "${AS_A[@]}" --id "$B" --agent-topic "$CTL_TOPIC/$B" "${FORGERIES[@]}"
attack on-bare-topic $NF identity_missing "${AS_A[@]}" --id "$B" --agent-topic "$CTL_TOPIC" "${FORGERIES[@]}"
attack on-B-reply $NF identity_mismatch "${AS_A[@]}" --id "$B" --agent-topic "$REPLY/$B" "${FORGERIES[@]}"
attack on-A-reply $NF identity_mismatch "${AS_A[@]}" --id "$B" --agent-topic "$REPLY/$A" "${FORGERIES[@]}"
attack on-bare-reply $NF identity_missing "${AS_A[@]}" --id "$B" --agent-topic "$REPLY" "${FORGERIES[@]}"
attack extra-levels 1 identity_bad_topic "${AS_A[@]}" --id "$A" --agent-topic "$CTL_TOPIC/$A/x/y" "$VC"
attack random-ids 10000 identity_mismatch "${AS_A[@]}" --id "proto::rnd-" --random-id --repeat 5000 \
  --agent-topic "$CTL_TOPIC/$A" --send-connect "usp/agent/$A" "$VC"
attack random-ids-bare 100 identity_missing "${AS_A[@]}" --id "proto::rnd-" --random-id --repeat 50 \
  --agent-topic "$CTL_TOPIC" --send-connect "usp/agent/$A" "$VC"
# B itself answers its Get with the wrong response type.
attack b-wrong-type 1 response_type_mismatch --cert "$CERTS/agent2.crt" --key "$CERTS/agent2.key" \
  --client-id "$B-wrong" --topic "usp/agent/$B" --id "$B" --agent-topic "$REPLY/$B" "$DELRESP"
[ "$FORGE_REFUSED" = 0 ] || fail "the broker refused B's publish on its own response topic"
reached=$((SENT_TOTAL - REFUSED_TOTAL))
log "$SENT_TOTAL records: $REFUSED_TOTAL refused by the broker, $reached reached the daemon"

# Let the daemon take them all (every one counted as rejected, or 20 s).
end=$((SECONDS + 20))
until [ "$(stat_field "$W/d1.log" rejected)" -ge $((rej0 + reached)) ] || [ $SECONDS -ge $end ]; do sleep 0.5; done
sleep 2.5
alive "$PID_d1" || fail "daemon died"
by=$(grep 'rejected by reason:' "$W/d1.log" | tail -n 1 || true)
log "daemon: rejected=$(stat_field "$W/d1.log" rejected) $by"

# Nothing changed.
b_state >"$W/b-after.txt"
diff "$W/b-before.txt" "$W/b-after.txt" >"$W/b-diff.txt" || fail "B's state changed: $(head -c 1500 "$W/b-diff.txt")"
[ "$(q "SELECT count(*) FROM agents")" = "$agents0" ] || fail "agents rows: $(q "SELECT count(*) FROM agents"), were $agents0"
[ "$(stat_field "$W/d1.log" agents)" = "$reg0" ] || fail "registry: agents=$(stat_field "$W/d1.log" agents), was $reg0"
[ "$(q "SELECT count(*) FROM notifications WHERE payload::text LIKE '%FORGED%' OR payload::text LIKE '%forged%'")" = 0 ] ||
  fail "a forged notification was stored"
[ "$(q "SELECT count(*) FROM operation_results WHERE command_key LIKE 'forged%'")" = 0 ] || fail "a forged operation result was stored"

# The daemon rejected every one that reached it, each for its reason.
[ "$(stat_field "$W/d1.log" rejected)" = $((rej0 + reached)) ] ||
  fail "rejected=$(stat_field "$W/d1.log" rejected), want $((rej0 + reached))"
for r in $REASONS; do
  v0="r0_$r"
  got=$(($(stat_reason "$W/d1.log" "$r") - ${!v0}))
  [ "$got" = "${WANT[$r]}" ] || fail "$r: the daemon counted $got rejection(s), want ${WANT[$r]} ($by)"
done
for r in identity_mismatch response_type_mismatch; do
  grep -q "rejected ($r)" "$W/d1.log" || fail "no log line for a rejection ($r)"
done
grep "rejected (identity_mismatch)" "$W/d1.log" | grep -qF "$CTL_TOPIC/$A" ||
  fail "the identity_mismatch log line does not name the topic"
# The rejections table counts the same per reason (the random from_ids past
# the daemon's cap of senders per second in "(many senders)" rows), and
# names B with the topic level A used.
for r in $REASONS; do
  wait_sql "SELECT coalesce(sum(count), 0) FROM rejections WHERE reason = '$r'" "$(stat_reason "$W/d1.log" "$r")" 10
done
[ "$(q "SELECT count(*) FROM rejections WHERE sender = '$B' AND reason = 'identity_mismatch'
        AND topic LIKE '%/$A'")" = 1 ] ||
  fail "no rejections row for B's forged records: $(q "SELECT * FROM rejections WHERE sender = '$B'")"
log "rejections rows: $(q "SELECT count(*) FROM rejections"), (many senders): $(q "SELECT string_agg(reason || '=' || count, ' ')
  FROM rejections WHERE sender = '(many senders)'")"

# B answers its own Get; a new Get goes to B, never to A's topic.
thaw_sim "$PID_sim_sb"
wait_sql "SELECT state FROM tasks WHERE eid = '$B' AND msg_id = '$MSG_B'" done 15
serial=$(q "SELECT serial_number FROM agents WHERE eid = '$B'")
res=$(q "SELECT result::text FROM tasks WHERE eid = '$B' AND msg_id = '$MSG_B'")
[[ $res == *get_resp* && $res == *"\"$serial\""* && $res != *FORGED* ]] || fail "B's Get result is not B's answer: $res"
add_tasks get '{"param_paths":["Device.DeviceInfo.UpTime"]}' 2 2
wait_sql "SELECT count(*) FROM tasks WHERE eid = '$B' AND state = 'done'" 2 15
[ "$(q "SELECT online::text || ' ' || reply_topic FROM agents WHERE eid = '$B'")" = "true usp/agent/$B" ] ||
  fail "B's row after the attack: $(q "SELECT online, reply_topic FROM agents WHERE eid = '$B'")"
sleep 1
kill -TERM "$CAP"
wait "$CAP" 2>/dev/null || true
grep -q "$(printf '%s' "$B" | tohex)" "$W/a-inbox.hex" && fail "a record for B reached A's topic"
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"
stop_pid "$PID_sim_sa" || true
stop_pid "$PID_sim_sb" || true

# Dev stack (anonymous broker). With agent_identity = required, an
# obuspa-style agent publishing on the bare controller topic is not taken:
# no agents row, each record rejected as identity_missing, and the log says
# so with its from_id and topic (the operator's "why is my agent not
# showing?").
log "dev stack, agent_identity = required, a single-topic agent"
new_db "core_spoofing_dev"
O1=$(agent 4)
USPC_AGENT_IDENTITY=required start_uspc d3 --stats-interval 1 --reject-log-interval 0
start_sim obuspa_req 1 --first-index 4 --controller-topic "$CTL_TOPIC" --host-churn 0 --vc-rate 2
wait_log "$W/d3.log" "rejected \(identity_missing\) from $O1: topic $CTL_TOPIC( |\$)" 15
sleep 1.5
[ "$(stat_reason "$W/d3.log" identity_missing)" -ge 1 ] || fail "identity_missing not counted: $(grep 'rejected by reason' "$W/d3.log" | tail -n 1)"
[ "$(q "SELECT count(*) FROM agents")" = 0 ] || fail "a record on the bare topic created an agent with agent_identity = required"
[ "$(stat_field "$W/d3.log" agents)" = 0 ] || fail "registry: agents=$(stat_field "$W/d3.log" agents)"
stop_pid "$PID_sim_obuspa_req" || true
stop_pid "$PID_d3" || fail "daemon exit status $? after SIGTERM"

# With agent_identity = optional the same agent works.
log "dev stack, agent_identity = optional"
"$USPC" --check-config --db "$DB_URL" --endpoint-id "$CTL_EID" --agent-identity optional >"$W/check-config.out" 2>&1 ||
  fail "--check-config failed: $(cat "$W/check-config.out")"
grep -i 'agent_identity' "$W/check-config.out" | grep -qi 'optional' ||
  fail "--check-config does not report agent_identity = optional: $(cat "$W/check-config.out")"
USPC_AGENT_IDENTITY=optional start_uspc d2 --stats-interval 1
grep -E 'WARN|ERROR' "$W/d2.log" | grep -qi 'agent_identity' || fail "no warning about agent_identity = optional at start"
start_sim obuspa 1 --first-index 3 --controller-topic "$CTL_TOPIC" --host-churn 0 --vc-rate 2
wait_sql "SELECT count(*) FROM agents WHERE online AND onboarded_at IS NOT NULL AND eid = '$(agent 3)'" 1 30
add_tasks get '{"param_paths":["Device.DeviceInfo.SerialNumber"]}' 3 3
wait_sql "SELECT state FROM tasks" done 15
wait_sql "SELECT count(*) > 0 FROM notifications WHERE kind = 'value_change' AND eid = '$(agent 3)'" t 15
stop_pid "$PID_d2" || fail "daemon exit status $? after SIGTERM"
log "ok"
