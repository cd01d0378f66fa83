#!/usr/bin/env bash
# The broker restarts: uspc reconnects, resubscribes and carries on — agents
# that reconnect are onboarded again and tasks sent after the restart are
# answered.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

AGENTS=5
private_stack "$W/stack"
new_db "core_broker_restart"
start_uspc d1 --mqtt-reconnect-min-ms 200 --mqtt-reconnect-max-ms 1000
start_sim s1 $AGENTS --status-interval 1
wait_sql "SELECT count(*) FROM agents WHERE onboarded_at IS NOT NULL" $AGENTS 40
add_tasks get '{"param_paths":["Device.DeviceInfo.UpTime"]}' 1 $AGENTS
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" $AGENTS 20

log "restarting the broker"
"$USPC_LOCAL_STACK" restart-broker --dir "$W/stack" >/dev/null
wait_log "$W/d1.log" "MQTT connection lost" 20
end=$((SECONDS + 30))
until [ "$(grep -c 'MQTT connected' "$W/d1.log")" -ge 2 ]; do
  [ $SECONDS -lt $end ] || fail "uspc did not reconnect"
  sleep 0.2
done
# Agents come back on their own; a connect record an agent publishes before
# we have resubscribed is lost with the broker's state (no persistence). The
# agents whose Will marked them offline as the broker went down are probed
# by uspc after its reconnect, so every agent must be online again and
# answer the second round of tasks (this failed about half the time before
# the probe existed).
end=$((SECONDS + 30))
until tail -n 1 "$W/sim-s1.log" | grep -Eq "online $AGENTS connecting 0 .* disc [1-9]"; do
  [ $SECONDS -lt $end ] || fail "agents did not reconnect"
  sleep 0.3
done
wait_sql "SELECT count(*) FROM agents WHERE online" $AGENTS 30
add_tasks get '{"param_paths":["Device.DeviceInfo.UpTime"]}' 1 $AGENTS
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" $((AGENTS * 2)) 30
kill -0 "$PID_d1" || fail "daemon died"
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"
log "ok"
