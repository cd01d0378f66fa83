#!/usr/bin/env bash
# Broker outage longer than the request timeout: with the broker stopped, a
# Get and a Set task are claimed for an online agent; request_timeout_ms is
# 3 s, so both tasks end (failed, or unknown for the Set) while the broker
# is still down. Then the broker returns — the daemon held (SIGSTOP) until a
# capture subscribed to the agent's topic, so anything it sends after its
# reconnect is seen — and the agent must never receive either request
# (neither the capture nor the simulator's --trace log sees their msg_ids):
# each request carries an MQTT 5 Message Expiry no longer than its task may
# still wait, and one whose task already ended is not sent at all. The
# daemon still serves afterwards. (The agent has no Will, so it stays online
# for the daemon throughout.)
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

private_stack "$W/stack"
new_db "core_broker_outage_expiry"
start_uspc d1 --request-timeout-ms 3000 --mqtt-reconnect-min-ms 500 --mqtt-reconnect-max-ms 1000 \
  --protocol-trace true --log-level debug
# No Will: mosquitto publishes Wills as it stops, which would mark the agent
# offline and park its tasks; the agent must stay online for the daemon.
start_sim s1 1 --trace --no-will --status-interval 1
wait_sql "SELECT count(*) FROM agents WHERE online AND onboarded_at IS NOT NULL" 1 30
wait_sql "SELECT count(*) FROM agent_subscriptions WHERE sub_id = 'uspc-swversion'" 1 30
A=$(agent 1)

stop_broker "$W/stack"
t_down=$SECONDS
wait_log "$W/d1.log" "MQTT connection lost" 10
add_tasks get '{"param_paths":["Device.DeviceInfo.UpTime"]}' 1 1
add_tasks set '{"allow_partial":false,"update_objs":[{"obj_path":"Device.DeviceInfo.",
  "param_settings":[{"param":"ProvisioningCode","value":"outage-1","required":true}]}]}' 1 1
end=$((SECONDS + 15))
until [ "$(q "SELECT count(*) FROM tasks WHERE state IN ('failed', 'unknown', 'expired', 'canceled', 'done')")" = 2 ]; do
  [ $SECONDS -lt $end ] || fail "tasks did not end during the outage: $(q "SELECT op, state FROM tasks")"
  sleep 0.3
done
ended=$(q "SELECT string_agg(op || '=' || state || ' (' || coalesce(error_message, '') || ')', ', ' ORDER BY id) FROM tasks")
log "ended $((SECONDS - t_down)) s into the outage: $ended"
[ "$(q "SELECT count(*) FROM tasks WHERE state = 'done'")" = 0 ] || fail "a task ended 'done' with the broker down"
[ "$(q "SELECT count(*) FROM tasks WHERE op = 'get' AND state = 'failed'")" = 1 ] || fail "the Get did not fail: $ended"
[[ $(q "SELECT state FROM tasks WHERE op = 'set'") =~ ^(failed|unknown)$ ]] || fail "the Set did not end failed/unknown: $ended"
MSG_IDS=$(q "SELECT msg_id FROM tasks WHERE msg_id IS NOT NULL")
log "their msg_ids: ${MSG_IDS//$'\n'/ }"
sleep 1

kill -STOP "$PID_d1"
start_broker "$W/stack"
mosquitto_sub -L "${USPC_MQTT}/usp/agent/$A" -V mqttv5 -q 1 -F '%x' >"$W/agent-topic.hex" &
SUB=$!
track "$SUB"
sleep 1
log "broker back after $((SECONDS - t_down)) s"
kill -CONT "$PID_d1"
end=$((SECONDS + 20))
until [ "$(grep -c 'MQTT connected' "$W/d1.log")" -ge 2 ]; do
  [ $SECONDS -lt $end ] || fail "uspc did not reconnect"
  sleep 0.2
done
# The agent is back (reconnected, subscribed) and serves a new task; the
# old requests never came.
end=$((SECONDS + 20))
until tail -n 1 "$W/sim-s1.log" | grep -Eq "online 1 connecting 0 .* disc [1-9]"; do
  [ $SECONDS -lt $end ] || fail "the agent did not reconnect"
  sleep 0.3
done
add_tasks get '{"param_paths":["Device.DeviceInfo.SerialNumber"]}' 1 1
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" 1 20
sleep 1
kill -TERM "$SUB"
wait "$SUB" 2>/dev/null || true
log "after the outage: $(wc -l <"$W/agent-topic.hex") message(s) on the agent's topic, expired publishes: $(stat_field "$W/d1.log" publish_expired)"
for id in $MSG_IDS; do
  grep -q "$(printf '%s' "$id" | tohex)" "$W/agent-topic.hex" && fail "request $id reached the agent's topic after its task ended"
  grep -F "$A <- $CTL_EID: " "$W/sim-s1.log" | grep -qF "\"$id\"" && fail "the agent received request $id after its task ended"
done
[ "$(q "SELECT count(*) FROM tasks WHERE state IN ('queued', 'sent')")" = 0 ] || fail "a task did not end"
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"
log "ok"
