#!/usr/bin/env bash
# Back-pressure, not loss: with a one-message MQTT window, a 16-message
# out-queue and a 64-op store writer queue, a 600-task batch makes the
# transport refuse publishes (BUSY, counted in the stats line) and fills
# the writer; the daemon keeps every message, slows down, and every task
# ends exactly once with its result; no store op is refused.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

AGENTS=20
TASKS=600
new_db "core_backpressure"
start_uspc d1 --mqtt-max-inflight 1 --mqtt-out-queue 16 --db-writer-queue 64 \
  --db-writer-batch 8 --max-pending 600 --max-pending-per-agent 40 --stats-interval 1
start_sim s1 $AGENTS
wait_sql "SELECT count(*) FROM agents WHERE onboarded_at IS NOT NULL" $AGENTS 60
q "INSERT INTO tasks (eid, op, request)
   SELECT a.eid, 'get', '{\"param_paths\":[\"Device.DeviceInfo.\"]}'
   FROM agents a, generate_series(1, $((TASKS / AGENTS))); NOTIFY uspc_task_new" >/dev/null
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done' AND result->>'type' = 'get_resp'" $TASKS 90
[ "$(q "SELECT count(*) FROM tasks WHERE attempts <> 1")" = 0 ] || fail "a task ran twice"
sleep 1.2
busy=$(stat_field "$W/d1.log" mqtt_busy)
log "publishes refused with BUSY and retried: $busy"
[ "${busy:-0}" -gt 0 ] || fail "the transport never pushed back; nothing tested"
grep -q 'not queued' "$W/d1.log" && fail "a store op was refused"
[ "$(stat_field "$W/d1.log" tasks_failed)" = 0 ] || fail "tasks failed"
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"
log "ok"
