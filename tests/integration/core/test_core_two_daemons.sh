#!/usr/bin/env bash
# Two daemons on one database and broker (shared subscription, own reply
# topics, own node ids): agents are onboarded once, the task batch is split
# between both daemons and no task runs twice (one attempt each, every task
# done once), and each Boot!/notification row exists once. When the agents
# stop, every one is offline in the inventory, also when its
# DisconnectRecord reached the daemon that did not see it connect.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

AGENTS=40
TASKS=800
new_db "core_two_daemons"
start_uspc d1 --shared-group core2d --max-pending 100
start_uspc d2 --shared-group core2d --max-pending 100
start_sim s1 $AGENTS
wait_sql "SELECT count(*) FROM agents WHERE onboarded_at IS NOT NULL" $AGENTS 60
wait_sql "SELECT count(*) FROM agent_subscriptions" $((AGENTS * 5)) 30

q "INSERT INTO tasks (eid, op, request)
   SELECT a.eid, 'get', '{\"param_paths\":[\"Device.DeviceInfo.UpTime\"]}'
   FROM agents a, generate_series(1, $((TASKS / AGENTS))); NOTIFY uspc_task_new" >/dev/null
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" $TASKS 90
[ "$(q "SELECT count(*) FROM tasks WHERE attempts <> 1")" = 0 ] || fail "a task was claimed twice"
d1=$(q "SELECT count(*) FROM tasks WHERE claimed_by = '$T-d1'")
d2=$(q "SELECT count(*) FROM tasks WHERE claimed_by = '$T-d2'")
log "tasks run by d1: $d1, by d2: $d2"
[ "$((d1 + d2))" = $TASKS ] || fail "claimed_by does not account for every task ($d1 + $d2)"
[ "$d1" -ge $((TASKS / 10)) ] && [ "$d2" -ge $((TASKS / 10)) ] || fail "work not shared"
# Both daemons answered agents they never saw connect (reply topic from the store).
grep -q 'rejected (unknown_response)' "$W/d1.log" "$W/d2.log" && fail "responses reached the wrong daemon"
# Every agent holds exactly five uspc subscriptions (onboarding ran once per contact).
q "INSERT INTO tasks (eid, op, request) SELECT eid, 'get',
   '{\"param_paths\":[\"Device.LocalAgent.Subscription.*.ID\"]}' FROM agents; NOTIFY uspc_task_new" >/dev/null
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" $((TASKS + AGENTS)) 30
[ "$(q "SELECT count(*) FROM snapshot WHERE path LIKE 'Device.LocalAgent.Subscription.%.ID'
  AND value LIKE 'uspc-%'")" = $((AGENTS * 5)) ] || fail "duplicate subscriptions on agents"
# Agents that only connect and stop: each one's MQTTConnectRecord and
# DisconnectRecord go to either daemon (a shared subscription), so about
# half reach the daemon that did not see them come online.
stop_pid "$PID_sim_s1" || true
wait_sql "SELECT count(*) FROM agents WHERE online" 0 20
start_sim s2 16 --first-index 1001
wait_sql "SELECT count(*) FROM agents WHERE online" 16 60
stop_pid "$PID_sim_s2" || true
wait_sql "SELECT count(*) FROM agents WHERE online" 0 20
stop_pid "$PID_d1" || fail "d1 exit status $?"
stop_pid "$PID_d2" || fail "d2 exit status $?"
log "ok"
