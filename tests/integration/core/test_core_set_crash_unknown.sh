#!/usr/bin/env bash
# Crash between an agent's answer and its commit, for a Set: the Set is
# sent, PostgreSQL is stopped (SIGSTOP) so its result cannot be committed,
# the agent answers (the daemon's protocol trace shows the SetResp arrive),
# the daemon is killed with SIGKILL, PostgreSQL runs again and the daemon is
# restarted with the same node_id. The agent received the Set exactly once
# (the simulator's --trace log) and the task ends 'unknown' with the reason
# ("outcome unknown: ..."), attempt 1 — not re-sent, not 'done' twice.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

NODE="$T-node"
private_stack "$W/stack"
new_db "core_set_crash_unknown"
start_uspc d1 --node-id "$NODE" --request-timeout-ms 30000 --protocol-trace true --log-level debug
start_sim s1 1 --trace
wait_sql "SELECT count(*) FROM agent_subscriptions WHERE sub_id = 'uspc-swversion'" 1 30
A=$(agent 1)
# Set requests the agent received (its trace: "<eid> <- <controller>: {json}").
sets_received() { grep -F "$A <- $CTL_EID: " "$W/sim-s1.log" | grep -c 'crash-1' || true; }

freeze_sim "$PID_sim_s1"
n_sets=$(trace_sent "$W/d1.log" set "$A")
add_tasks set '{"allow_partial":false,"update_objs":[{"obj_path":"Device.DeviceInfo.",
  "param_settings":[{"param":"ProvisioningCode","value":"crash-1","required":true}]}]}' 1 1
wait_sql "SELECT state FROM tasks" sent 10
MSG_ID=$(trace_next_msg_id "$W/d1.log" set "$A" "$n_sets")
[ -n "$MSG_ID" ] || fail "no msg_id for the Set"
freeze_pg "$W/stack"
thaw_sim "$PID_sim_s1"
wait_log "$W/d1.log" "trace: in set_resp $A msg_id=$MSG_ID" 10
sleep 0.5
kill -KILL "$PID_d1"
wait "$PID_d1" 2>/dev/null || true
thaw_pg "$W/stack"
log "killed after the SetResp for $MSG_ID arrived; Sets received: $(sets_received)"
[ "$(q "SELECT state FROM tasks")" = sent ] || fail "the result was committed before the kill; nothing tested"

start_uspc d2 --node-id "$NODE" --request-timeout-ms 30000
end=$((SECONDS + 30))
until [[ $(q "SELECT state FROM tasks") =~ ^(done|failed|unknown|expired|canceled)$ ]]; do
  [ $SECONDS -lt $end ] || fail "the task did not end after the restart: $(q "SELECT state, attempts FROM tasks")"
  sleep 0.3
done
sleep 2 # a re-sent Set would reach the agent within this
row=$(q "SELECT state || ' attempts=' || attempts || ' finished=' || (finished_at IS NOT NULL) || ' ' || coalesce(error_message, '') FROM tasks")
log "task after the restart: $row; Sets received: $(sets_received)"
[ "$(sets_received)" = 1 ] || fail "the agent received the Set $(sets_received) times"
[ "$(q "SELECT state FROM tasks")" = unknown ] || fail "task ended '$(q "SELECT state FROM tasks")', want 'unknown'"
[ "$(q "SELECT attempts FROM tasks")" = 1 ] || fail "the task was attempted $(q "SELECT attempts FROM tasks") times"
[ "$(q "SELECT count(*) FROM tasks WHERE finished_at IS NOT NULL AND error_message LIKE 'outcome unknown%'")" = 1 ] ||
  fail "no finished_at / 'outcome unknown: ...' reason: $row"
stop_pid "$PID_d2" || fail "daemon exit status $? after SIGTERM"
log "ok"
