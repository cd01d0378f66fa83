#!/usr/bin/env bash
# Tasks queued for agents that are offline wait, and run once the agents
# come online (and are onboarded); a task whose expiry passes while its agent
# is away ends 'expired' and is never sent. Tasks queued while known agents
# are offline are parked by the claim (still 'queued') and unparked by the
# daemon's writer when the agents have come back and onboarded, once each.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

new_db "core_offline_tasks"
start_uspc d1
GET='{"param_paths":["Device.DeviceInfo.SoftwareVersion"]}'
# Three agents that are not connected yet (the simulator's first three).
q "INSERT INTO tasks (eid, op, request) SELECT format('%s%s', '$AGENT_PREFIX', lpad(i::text, 4, '0')),
   'get', '$GET' FROM generate_series(1, 3) i;
   INSERT INTO tasks (eid, op, request, expires_at) VALUES ('${AGENT_PREFIX}9999', 'get', '$GET', now() + interval '2 s');
   NOTIFY uspc_task_new" >/dev/null
sleep 3
[ "$(q "SELECT count(*) FROM tasks WHERE state = 'queued'")" = 3 ] || fail "tasks for offline agents did not wait"
wait_sql "SELECT state FROM tasks WHERE eid = '${AGENT_PREFIX}9999'" expired 10
[ "$(q "SELECT count(*) FROM tasks WHERE eid = '${AGENT_PREFIX}9999' AND sent_at IS NOT NULL")" = 0 ] \
  || fail "expired task was sent"

start_sim s1 3
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done' AND result->>'type' = 'get_resp'" 3 40
# They ran after onboarding.
[ "$(q "SELECT count(*) FROM tasks t JOIN agents a USING (eid) WHERE t.state = 'done'
  AND t.sent_at >= a.onboarded_at")" = 3 ] || fail "a task ran before its agent was onboarded"
[ "$(q "SELECT state FROM tasks WHERE eid = '${AGENT_PREFIX}9999'")" = expired ] || fail "expired task changed"

# The agents go away; tasks queued for them now are parked, not sent.
stop_pid "$PID_sim_s1" || true
wait_sql "SELECT count(*) FROM agents WHERE online" 0 30
first_ids=$(q "SELECT max(id) FROM tasks")
# Parked so far: tasks the first claims found for agents online but not
# yet onboarded (0 to 3, depending on timing). Read from a stats line
# (every 2 s) written after they were all done.
sleep 2.5
parked0=$(stat_field "$W/d1.log" tasks_parked)
q "INSERT INTO tasks (eid, op, request) SELECT eid, 'get', '$GET' FROM agents
   WHERE eid <> '${AGENT_PREFIX}9999'; NOTIFY uspc_task_new" >/dev/null
wait_sql "SELECT count(*) FROM tasks WHERE state = 'queued' AND parked" 3 20
for _ in $(seq 50); do
  [ "$(stat_field "$W/d1.log" tasks_parked)" = $((parked0 + 3)) ] && break
  sleep 0.2
done
[ "$(stat_field "$W/d1.log" tasks_parked)" = $((parked0 + 3)) ] \
  || fail "stats: tasks_parked=$(stat_field "$W/d1.log" tasks_parked), want $parked0 + 3"
# They come back: unparked, sent after onboarding, done.
start_sim s2 3
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done' AND result->>'type' = 'get_resp'" 6 40
[ "$(q "SELECT count(*) FROM tasks WHERE parked")" = 0 ] || fail "a finished task is still parked"
[ "$(q "SELECT count(*) FROM tasks t JOIN agents a USING (eid) WHERE t.id > $first_ids
  AND t.state = 'done' AND t.sent_at >= a.onboarded_at")" = 3 ] \
  || fail "a task ran before its agent was onboarded again"
# Coming back online did not unpark them only to have a claim park them
# again before onboarding finished: onboarding alone unparked them.
sleep 2.5
[ "$(stat_field "$W/d1.log" tasks_parked)" = $((parked0 + 3)) ] \
  || fail "tasks parked again on reconnect: tasks_parked=$(stat_field "$W/d1.log" tasks_parked), want $parked0 + 3"
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"
log "ok"
