#!/usr/bin/env bash
# Start-up reconcile: agents the database shows online but not onboarded
# since they came online (a daemon took their connect records and crashed
# before onboarding them) are probed by the next daemon at start, so they
# are onboarded and their parked tasks run, although the agents themselves
# stay quiet (no new connect record, no notification).
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

AGENTS=5
new_db "core_reconcile"
start_uspc d1 --node-id core-reconcile
start_sim s1 $AGENTS --host-churn 0
wait_sql "SELECT count(*) FROM agents WHERE onboarded_at >= online_since" $AGENTS 60
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"

# What a daemon that died between an agent's connect record and its
# onboarding leaves behind: online since now, never onboarded since.
q "UPDATE agents SET online = true, online_since = now(), onboarded_at = NULL" >/dev/null
q "INSERT INTO tasks (eid, op, request)
   SELECT eid, 'get', '{\"param_paths\":[\"Device.DeviceInfo.UpTime\"]}' FROM agents" >/dev/null

start_uspc d2 --node-id core-reconcile
wait_sql "SELECT count(*) FROM agents WHERE onboarded_at >= online_since" $AGENTS 30
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" $AGENTS 30
grep -q "start-up: probing $AGENTS agent" "$W/d2.log" || fail "the start-up probe was not logged"
stop_pid "$PID_d2" || fail "daemon exit status $? after SIGTERM"
log "ok: $AGENTS un-onboarded agents probed and onboarded at start, their tasks done"
