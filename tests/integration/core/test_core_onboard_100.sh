#!/usr/bin/env bash
# Onboarding of 100 agents: inventory rows with DeviceInfo fields, the five
# standard subscriptions on every agent (recorded in agent_subscriptions);
# after the daemon and the agents restart, onboarding runs again and finds
# the subscriptions in place: none is created twice (the agents' own tables,
# read back with a Get task, still hold exactly five uspc-* rows each).
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

N=100
new_db "core_onboard_100"
start_uspc d1
start_sim s1 $N

ONBOARDED="SELECT count(*) FROM agents WHERE online AND onboarded_at IS NOT NULL
  AND manufacturer <> '' AND model_name <> '' AND serial_number <> '' AND software_version <> ''"
wait_sql "$ONBOARDED" $N 90
wait_sql "SELECT count(*) FROM agent_subscriptions WHERE sub_id LIKE 'uspc-%'
  AND instance_path LIKE 'Device.LocalAgent.Subscription.%.'" $((N * 5)) 30
[ "$(q "SELECT count(DISTINCT serial_number) FROM agents")" = $N ] || fail "serial numbers not distinct"
[ "$(q "SELECT count(DISTINCT eid) FROM agent_subscriptions")" = $N ] || fail "subscriptions missing on some agents"
q "SELECT eid, sub_id, instance_path FROM agent_subscriptions ORDER BY 1, 2" >"$W/subs-before.txt"
log "first onboarding complete"

# Restart both: the daemon (SIGTERM, clean exit) and the agents.
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"
stop_pid "$PID_sim_s1" || true
T0=$(q "SELECT now()")
start_uspc d2
start_sim s1 $N
wait_sql "SELECT count(*) FROM agents WHERE online AND onboarded_at > '$T0'" $N 90
q "SELECT eid, sub_id, instance_path FROM agent_subscriptions ORDER BY 1, 2" >"$W/subs-after.txt"
cmp -s "$W/subs-before.txt" "$W/subs-after.txt" || fail "subscription instances changed after restart"

# Ask every agent for its subscription IDs: exactly five of ours each.
q "INSERT INTO tasks (eid, op, request) SELECT eid, 'get',
   '{\"param_paths\":[\"Device.LocalAgent.Subscription.*.ID\"]}' FROM agents; NOTIFY uspc_task_new" >/dev/null
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" $N 60
[ "$(q "SELECT count(*) FROM snapshot WHERE path LIKE 'Device.LocalAgent.Subscription.%.ID'
  AND value LIKE 'uspc-%'")" = $((N * 5)) ] || fail "agents hold duplicate or missing uspc subscriptions"
[ "$(q "SELECT count(*) FROM (SELECT eid, value FROM snapshot WHERE path LIKE 'Device.LocalAgent.Subscription.%.ID'
  GROUP BY 1, 2 HAVING count(*) > 1) d")" = 0 ] || fail "a subscription ID appears twice on an agent"
stop_pid "$PID_d2" || fail "daemon exit status $? after SIGTERM"
log "ok"
