#!/usr/bin/env bash
# Duplicate node_id: a second daemon started with the node_id of a live
# daemon on the same database refuses to start — exit status 1 and an error
# naming the node_id — before it touches the broker (it would share the
# first one's MQTT client id) or the tasks (it would take the first one's
# 'sent' tasks for those of its own crashed past). The first daemon runs on
# unaffected: no MQTT reconnect, its in-flight task stays its own and ends
# once. A crashed daemon's node_id is free again at once.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

NODE="$T-node"
new_db "core_node_id_dup"
start_uspc d1 --node-id "$NODE" --request-timeout-ms 30000
start_sim s1 1
wait_sql "SELECT count(*) FROM agents WHERE online AND onboarded_at IS NOT NULL" 1 30

# A task in flight at d1: its agent is frozen, so the task stays 'sent'.
freeze_sim "$PID_sim_s1"
add_tasks get '{"param_paths":["Device.DeviceInfo.UpTime"]}' 1 1
wait_sql "SELECT state || ' ' || claimed_by || ' ' || attempts FROM tasks" "sent $NODE 1" 10

spawn_uspc d2 --node-id "$NODE" --request-timeout-ms 30000
wait_exit "$PID_d2" 10 || fail "a second daemon with node_id $NODE still runs after 10 s"
log "second daemon: exit status $EXIT_RC: $(grep -m 1 ERROR "$W/d2.log" || true)"
[ "$EXIT_RC" = 1 ] || fail "second daemon exit status $EXIT_RC, want 1"
grep 'ERROR' "$W/d2.log" | grep -F "$NODE" | grep -qi 'node' || fail "no error naming node_id $NODE"
grep -q 'MQTT connected' "$W/d2.log" && fail "the refused daemon connected to the broker"

# The first one: alive, never lost its broker connection, still owns its task.
alive "$PID_d1" || fail "the first daemon died"
grep -q 'MQTT connection lost' "$W/d1.log" && fail "the first daemon lost its MQTT connection"
[ "$(q "SELECT state || ' ' || claimed_by || ' ' || attempts FROM tasks")" = "sent $NODE 1" ] ||
  fail "d1's in-flight task changed: $(q "SELECT state, claimed_by, attempts FROM tasks")"
thaw_sim "$PID_sim_s1"
wait_sql "SELECT state || ' ' || attempts FROM tasks" "done 1" 15
add_tasks get '{"param_paths":["Device.DeviceInfo.UpTime"]}' 1 1
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done' AND attempts = 1" 2 15
grep -q 'MQTT connection lost' "$W/d1.log" && fail "the first daemon lost its MQTT connection"

# kill -9: the node_id is free again for a restart (no stale lock).
kill -KILL "$PID_d1"
wait "$PID_d1" 2>/dev/null || true
start_uspc d3 --node-id "$NODE"
add_tasks get '{"param_paths":["Device.DeviceInfo.UpTime"]}' 1 1
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" 3 15
stop_pid "$PID_d3" || fail "daemon exit status $? after SIGTERM"
log "ok"
