#!/usr/bin/env bash
# Request timeouts: an agent that stops answering (its simulator process is
# and its workers are stopped with SIGSTOP) fails its tasks with a timeout and, after
# offline_after_timeouts consecutive timeouts, is marked offline; when it
# resumes, its late answers are counted as unknown responses and dropped
# (the tasks stay failed, ended once), and its records bring it back online.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

new_db "core_timeouts"
start_uspc d1 --request-timeout-ms 1000 --offline-after-timeouts 3 --reject-log-interval 0
start_sim s1 1
wait_sql "SELECT count(*) FROM agents WHERE online AND onboarded_at IS NOT NULL" 1 30
A=$(agent 1)

# The simulator runs its agents in forked workers: stop them all.
SIMPIDS="$PID_sim_s1 $(pgrep -P "$PID_sim_s1" | tr '\n' ' ')"
for p in $SIMPIDS; do track "$p"; done
# shellcheck disable=SC2086
kill -STOP $SIMPIDS
add_tasks get '{"param_paths":["Device.DeviceInfo.UpTime"]}' 1 1
add_tasks get '{"param_paths":["Device.DeviceInfo.UpTime"]}' 1 1
add_tasks get '{"param_paths":["Device.DeviceInfo.UpTime"]}' 1 1
wait_sql "SELECT count(*) FROM tasks WHERE state = 'failed' AND error_message LIKE 'timeout%'" 3 20
wait_sql "SELECT online FROM agents WHERE eid = '$A'" f 10
wait_log "$W/d1.log" "$A offline: 3 consecutive request timeouts" 5

# shellcheck disable=SC2086
kill -CONT $SIMPIDS
wait_log "$W/d1.log" "rejected \(unknown_response\) from $A" 15
wait_sql "SELECT online FROM agents WHERE eid = '$A'" t 15
[ "$(q "SELECT count(*) FROM tasks WHERE state <> 'failed'")" = 0 ] || fail "a timed-out task changed state"
# Back online: new tasks run again.
add_tasks get '{"param_paths":["Device.DeviceInfo.UpTime"]}' 1 1
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" 1 20
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"
log "ok"
