#!/usr/bin/env bash
# Broker restart with agents that reconnect late: the agents (no Will, so
# the daemon keeps them online, like an obuspa that waits before it
# retries) reconnect 4 s after losing the broker (--reconnect-delay 4);
# Gets issued in that window are published while nobody listens and lost
# with the broker's state. request_timeout_ms is 30 s, so a task that
# waits for its timeout cannot pass: when an agent announces its new MQTT
# session (its MQTTConnectRecord), the daemon re-sends the idempotent
# requests outstanding to it, and every Get must end 'done' within 6 s of
# the agents' reconnect. A Set issued in the same window is not re-sent (not
# idempotent): it ends 'unknown' in that time, never left to time out.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

AGENTS=5
private_stack "$W/stack"
new_db "core_late_reconnect"
start_uspc d1 --request-timeout-ms 30000 --mqtt-reconnect-min-ms 200 --mqtt-reconnect-max-ms 1000
start_sim s1 $AGENTS --status-interval 1 --reconnect-delay 4 --no-will
wait_sql "SELECT count(*) FROM agents WHERE onboarded_at IS NOT NULL" $AGENTS 40
wait_sql "SELECT count(*) FROM agent_subscriptions WHERE sub_id = 'uspc-swversion'" $AGENTS 20
add_tasks get '{"param_paths":["Device.DeviceInfo.UpTime"]}' 1 $AGENTS
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" $AGENTS 20
FIRST=$(q "SELECT max(id) FROM tasks") # the tasks before the broker restart

log "restarting the broker"
"$USPC_LOCAL_STACK" restart-broker --dir "$W/stack" >/dev/null
t_restart=$SECONDS
end=$((SECONDS + 10))
until [ "$(grep -c 'MQTT connected' "$W/d1.log")" -ge 2 ]; do
  [ $SECONDS -lt $end ] || fail "uspc did not reconnect"
  sleep 0.1
done
# Inside the agents' window: they are all away (the status line says so).
end=$((SECONDS + 3))
until tail -n 1 "$W/sim-s1.log" | grep -q " online 0 "; do
  [ $SECONDS -lt $end ] || fail "the agents did not go away: $(tail -n 1 "$W/sim-s1.log")"
  sleep 0.1
done
add_tasks get '{"param_paths":["Device.DeviceInfo.UpTime"]}' 1 $AGENTS
add_tasks set '{"allow_partial":false,"update_objs":[{"obj_path":"Device.DeviceInfo.",
  "param_settings":[{"param":"ProvisioningCode","value":"late-1","required":true}]}]}' 1 1
log "$AGENTS Gets and a Set issued $((SECONDS - t_restart)) s after the broker restart, the agents still away"
end=$((SECONDS + 15))
until tail -n 1 "$W/sim-s1.log" | grep -Eq "online $AGENTS connecting 0 .* disc [1-9]"; do
  [ $SECONDS -lt $end ] || fail "agents did not reconnect"
  sleep 0.1
done
t_back=$SECONDS
log "agents back $((t_back - t_restart)) s after the broker restart"
end=$((SECONDS + 6))
while [ "$(q "SELECT count(*) FROM tasks WHERE op = 'get' AND state = 'done'")" != $((AGENTS * 2)) ] ||
  [ "$(q "SELECT count(*) FROM tasks WHERE op = 'set' AND state IN ('queued', 'sent')")" != 0 ]; do
  [ $SECONDS -lt $end ] || fail "6 s after the agents reconnected: $(q "SELECT string_agg(op || ' ' || state || ' attempts=' || attempts, ', ') FROM tasks WHERE id > $FIRST")"
  sleep 0.2
done
set_end=$(q "SELECT state || ': ' || coalesce(error_message, '') FROM tasks WHERE op = 'set'")
log "the Set: $set_end"
[ "$(q "SELECT state FROM tasks WHERE op = 'set'")" = unknown ] || fail "the Set ended '$set_end', want 'unknown'"
log "all $AGENTS Gets done $((SECONDS - t_back)) s after the agents reconnected (request timeout 30 s)," \
  "slowest $(q "SELECT round(extract(epoch FROM max(finished_at - created_at))::numeric, 1) FROM tasks WHERE id > $FIRST AND op = 'get'") s after its task was created"
[ "$(q "SELECT count(*) FROM tasks WHERE id > $FIRST AND op = 'get' AND result->>'type' = 'get_resp'")" = $AGENTS ] || fail "wrong results"
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"
log "ok"
