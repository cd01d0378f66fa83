#!/usr/bin/env bash
# kill -9 of uspc in the middle of a 1,000-task batch, then restart with the
# same node_id: every task ends exactly once (1,000 rows 'done', none left
# queued/sent/failed), the tasks that were in flight ran again (attempts 2).
# Then SIGTERM during a second batch drains cleanly (exit 0, nothing left
# 'sent', nothing run twice), and SIGTERM with tasks waiting for a per-agent
# slot gives those back to 'queued' at once.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

AGENTS=50
TASKS=1000
new_db "core_kill9"
start_uspc d1 --node-id core-kill9 --max-pending 200
start_sim s1 $AGENTS
wait_sql "SELECT count(*) FROM agents WHERE onboarded_at IS NOT NULL" $AGENTS 60

q "INSERT INTO tasks (eid, op, request, batch_id)
   SELECT a.eid, 'get', '{\"param_paths\":[\"Device.DeviceInfo.UpTime\",\"Device.WiFi.SSID.*.SSID\"]}', 'k9'
   FROM agents a, generate_series(1, $((TASKS / AGENTS))); NOTIFY uspc_task_new" >/dev/null
# Kill while the batch is running. The agents answer in 50 ms slices and
# are frozen while the count is read, so a fast run cannot finish the whole
# batch between a look at the count and the kill.
end=$((SECONDS + 60))
freeze_sim "$PID_sim_s1"
while [ "$(q "SELECT count(*) FROM tasks WHERE state = 'done'")" -lt 150 ]; do
  [ $SECONDS -lt $end ] || fail "batch did not start"
  thaw_sim "$PID_sim_s1"
  sleep 0.05
  freeze_sim "$PID_sim_s1"
done
kill -KILL "$PID_d1"
wait "$PID_d1" 2>/dev/null || true
thaw_sim "$PID_sim_s1"
at_kill=$(q "SELECT count(*) FROM tasks WHERE state = 'done'")
in_flight=$(q "SELECT count(*) FROM tasks WHERE state = 'sent'")
log "killed with $at_kill done, $in_flight sent"
[ "$at_kill" -lt $TASKS ] || fail "batch finished before the kill; nothing tested"

start_uspc d2 --node-id core-kill9 --max-pending 200
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" $TASKS 90
[ "$(q "SELECT count(*) FROM tasks")" = $TASKS ] || fail "task rows changed"
[ "$(q "SELECT count(*) FROM tasks WHERE state <> 'done' OR finished_at IS NULL OR result IS NULL")" = 0 ] \
  || fail "tasks not finished cleanly"
[ "$(q "SELECT count(*) FROM tasks WHERE result->>'type' <> 'get_resp'")" = 0 ] || fail "wrong results"
[ "$(q "SELECT max(attempts) FROM tasks")" -le 2 ] || fail "a task ran more than twice"
log "re-run after the crash: $(q "SELECT count(*) FROM tasks WHERE attempts = 2") task(s)"

# SIGTERM in the middle of a second batch: the daemon stops claiming, answers
# what it holds, exits 0 and leaves nothing 'sent'; a new daemon finishes.
q "INSERT INTO tasks (eid, op, request, batch_id)
   SELECT a.eid, 'get', '{\"param_paths\":[\"Device.DeviceInfo.UpTime\"]}', 'term'
   FROM agents a, generate_series(1, 10); NOTIFY uspc_task_new" >/dev/null
end=$((SECONDS + 30))
while [ "$(q "SELECT count(*) FROM tasks WHERE batch_id = 'term' AND state = 'done'")" -lt 50 ]; do
  [ $SECONDS -lt $end ] || fail "second batch did not start"
  sleep 0.05
done
stop_pid "$PID_d2" || fail "daemon exit status $? after SIGTERM"
grep -q 'stopping; draining' "$W/d2.log" || fail "no drain logged"
[ "$(q "SELECT count(*) FROM tasks WHERE state = 'sent'")" = 0 ] || fail "tasks left 'sent' after a clean stop"
log "stopped with $(q "SELECT count(*) FROM tasks WHERE batch_id = 'term' AND state = 'done'") of 500 done"
start_uspc d3 --node-id core-kill9 --request-timeout-ms 60000 --drain-timeout-ms 1500
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" $((TASKS + 500)) 60
[ "$(q "SELECT count(*) FROM tasks WHERE batch_id = 'term' AND attempts <> 1")" = 0 ] \
  || fail "a task of the drained batch ran twice"

# SIGTERM while claimed tasks wait for a per-agent slot: with the agents
# frozen, d3 claims 10 tasks per agent, sends 8 (max_pending_per_agent) and
# holds 2 back. At stop those 100 never-sent tasks go back to 'queued' at
# once (not after the lease); the 400 sent ones stay 'sent' (they may have
# reached the agent) until this node restarts.
freeze_sim "$PID_sim_s1"
q "INSERT INTO tasks (eid, op, request, batch_id)
   SELECT a.eid, 'get', '{\"param_paths\":[\"Device.DeviceInfo.UpTime\"]}', 'slot'
   FROM agents a, generate_series(1, 10) g ORDER BY a.eid, g; NOTIFY uspc_task_new" >/dev/null
end=$((SECONDS + 30))
until [ "$(stat_field "$W/d3.log" deferred)" = $((AGENTS * 2)) ]; do
  [ $SECONDS -lt $end ] || fail "no tasks waiting for a slot (deferred=$(stat_field "$W/d3.log" deferred))"
  sleep 0.2
done
stop_pid "$PID_d3" || fail "daemon exit status $? after SIGTERM"
grep -q "stop: $((AGENTS * 2)) claimed task(s) still waiting for an agent slot given back" "$W/d3.log" \
  || fail "deferred tasks not given back at stop"
[ "$(q "SELECT count(*) FROM tasks WHERE batch_id = 'slot' AND state = 'queued'
  AND claimed_by IS NULL AND attempts = 0")" = $((AGENTS * 2)) ] || fail "unsent tasks not back to queued"
[ "$(q "SELECT count(*) FROM tasks WHERE batch_id = 'slot' AND state = 'sent'")" = $((AGENTS * 8)) ] \
  || fail "sent tasks: $(q "SELECT count(*) FROM tasks WHERE batch_id = 'slot' AND state = 'sent'")"
[ "$(q "SELECT max(n) FROM (SELECT count(*) n FROM tasks WHERE state = 'sent' GROUP BY eid) x")" = 8 ] \
  || fail "an agent has more tasks 'sent' than were sent to it"
thaw_sim "$PID_sim_s1"
start_uspc d4 --node-id core-kill9
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" $((TASKS + 1000)) 60
[ "$(q "SELECT count(*) FROM tasks WHERE batch_id = 'slot' AND attempts = 1")" = $((AGENTS * 2)) ] \
  || fail "released tasks did not run exactly once"
stop_pid "$PID_d4" || fail "daemon exit status $?"
log "ok"
