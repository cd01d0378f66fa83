#!/usr/bin/env bash
# SIGHUP of max_pending reaches the task feeder's claim limit: with the
# agents frozen (no answers, so nothing finishes), a daemon started with
# max_pending = 10 holds exactly 10 claimed tasks of 60; after the file says
# 40 and SIGHUP, it claims up to 40 (5 agents x max_pending_per_agent 8);
# after 15 and SIGHUP it claims nothing more. Then the agents answer and all
# 60 tasks finish once.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

AGENTS=5
cfg=$W/uspc.conf
conf() { printf 'endpoint_id = %s\nmax_pending = %s\nmax_pending_per_agent = 8\n' "$CTL_EID" "$1" >"$cfg"; }
conf 10
new_db "core_reload"
start_uspc d1 --config "$cfg" --request-timeout-ms 60000
start_sim s1 $AGENTS
wait_sql "SELECT count(*) FROM agents WHERE onboarded_at IS NOT NULL" $AGENTS 40
freeze_sim "$PID_sim_s1"

for _ in $(seq 12); do add_tasks get '{"param_paths":["Device.DeviceInfo.UpTime"]}' 1 $AGENTS; done
wait_sql "SELECT count(*) FROM tasks WHERE state = 'sent'" 10 20
sleep 1.5                                   # several polls (task_poll_ms 300)
[ "$(q "SELECT count(*) FROM tasks WHERE state = 'sent'")" = 10 ] || fail "claimed beyond max_pending 10"

conf 40
kill -HUP "$PID_d1"
wait_log "$W/d1.log" 'SIGHUP: configuration reloaded, 1 setting' 10
wait_sql "SELECT count(*) FROM tasks WHERE state = 'sent'" 40 20
sleep 1.5
[ "$(q "SELECT count(*) FROM tasks WHERE state = 'sent'")" = 40 ] || fail "claimed beyond max_pending 40"
log "max_pending 10 -> 40 on SIGHUP: the feeder now holds 40 tasks"

conf 15
kill -HUP "$PID_d1"
end=$((SECONDS + 10))
until [ "$(grep -c 'SIGHUP: configuration reloaded, 1 setting' "$W/d1.log")" = 2 ]; do
  [ $SECONDS -lt $end ] || fail "second reload not logged"
  sleep 0.2
done
sleep 1.5
[ "$(q "SELECT count(*) FROM tasks WHERE state = 'sent'")" = 40 ] || fail "lowering max_pending changed held tasks"

thaw_sim "$PID_sim_s1"
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" 60 60
[ "$(q "SELECT count(*) FROM tasks WHERE attempts <> 1")" = 0 ] || fail "a task ran twice"
stop_pid "$PID_d1" || fail "daemon exit status $?"
log "ok"
