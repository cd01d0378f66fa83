#!/usr/bin/env bash
# test_uspctl_dbrestart.sh — PostgreSQL restarts in the middle of a batch:
# uspctl reconnects, re-reads the task table and still prints exactly one
# result per agent (an insert whose commit fate is unknown is looked up by
# its batch id, never duplicated). Uses a private stack, since it restarts
# the database server.
# shellcheck disable=SC2119 # uctl takes its own flags
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-uspctl.sh
. "$(dirname "$0")/itest-uspctl.sh"
N=200
STACK=$W/stack
private_stack "$STACK"
DB_URL=$USPC_DB

start_uspc uspc
start_sim main $N --connect-rate 1000
wait_onboarded $N 120

for a in $(seq $N); do agent "$a"; echo; done | sort >"$W/expected.txt"
echo '{"id":"g","op":"get","targets":{"all":true},"paths":"Device.DeviceInfo.SerialNumber"}' >"$W/get.jsonl"
# With the daemon stopped and 10 tasks in flight at most, uspctl is
# certainly in the middle of the batch (10 queued, 190 not inserted yet)
# when the database restarts; then the daemon comes back and it all runs.
kill_pid "$PID_uspc"
uctl --timeout 90 --max-inflight 10 <"$W/get.jsonl" >"$W/get.out" 2>"$W/get.err" &
UCTL=$!
track "$UCTL"
end=$((SECONDS + 20))
until [ "$(psql -XAtq "$DB_URL" -c "SELECT count(*) FROM tasks WHERE state = 'queued'" 2>/dev/null)" = 10 ]; do
  [ $SECONDS -lt $end ] || fail "uspctl did not queue its first 10 tasks"
  sleep 0.2
done
"$USPC_LOCAL_STACK" restart-db --dir "$STACK" >/dev/null
log "database restarted"
start_uspc uspc
rc=0
wait "$UCTL" || rc=$?
expect_status 0 $rc "batch across a database restart"
grep -q "re-established" "$W/get.err" || fail "uspctl did not see the restart (it finished too early?): $(cat "$W/get.err")"
[ "$(wc -l <"$W/get.out")" -eq $N ] || fail "$(wc -l <"$W/get.out") lines for $N agents"
jq -r .agent "$W/get.out" | sort | cmp -s - "$W/expected.txt" || fail "not exactly one line per agent"
check_jsonl "all ok, one task each" 'all(.ok) and ([.[].task] | unique | length) == '$N "$W/get.out"
[ "$(psql -XAtq "$DB_URL" -c "SELECT count(*) FROM tasks WHERE batch_id LIKE 'uspctl-%'")" = $N ] ||
  fail "tasks were duplicated by the reconnect"
log PASS
