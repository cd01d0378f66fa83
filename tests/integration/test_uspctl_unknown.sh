#!/usr/bin/env bash
# test_uspctl_unknown.sh — a task that ends 'unknown' (a Set whose request
# may have reached the agent but whose outcome was lost, e.g. its daemon
# crashed; it is never sent again) is a final state for uspctl: the waiting
# uspctl prints an `outcome_unknown` line with the reason, exits 1 (like a
# failure), and task_status shows the state. No daemon or agent is needed:
# the test plays the daemon in the table.
# shellcheck disable=SC2119 # uctl takes its own flags
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-uspctl.sh
. "$(dirname "$0")/itest-uspctl.sh"

new_db "$DB_NAME"
uctl </dev/null >"$W/migrate.out" 2>"$W/migrate.err" || fail "uspctl did not set up the schema"
A1=$(agent 1)
q "INSERT INTO agents (eid, online, online_since, onboarded_at) VALUES ('$A1', true, now(), now())" >/dev/null

echo '{"id":"u","op":"set","targets":"'"$A1"'","params":{"Device.Time.NTPServer1":"ntp.example"}}' >"$W/set.jsonl"
# not through uctl(): $! must be uspctl itself, not a subshell
"$USPCTL" --db "$DB_URL" --no-progress --timeout 60 --expires 600 \
  <"$W/set.jsonl" >"$W/set.out" 2>"$W/set.err" &
UCTL=$!
track "$UCTL"
end=$((SECONDS + 20))
until [ "$(q "SELECT count(*) FROM tasks WHERE state = 'queued'")" = 1 ]; do
  [ $SECONDS -lt $end ] || fail "the Set was not queued"
  sleep 0.2
done
# What a restarted daemon's feeder does with a Set it held.
q "UPDATE tasks SET state = 'sent', claimed_by = 'node-x', claimed_at = now(), sent_at = now(), attempts = 1" >/dev/null
q "WITH u AS (UPDATE tasks SET state = 'unknown', finished_at = now(),
     error_message = 'outcome unknown: daemon node-x restarted after the request may have been sent to the agent; set is not idempotent, so it is not sent again (attempt 1)'
     RETURNING id)
   SELECT pg_notify('uspc_task_done', string_agg(id::text, ',')) FROM u" >/dev/null
start=$SECONDS
rc=0
wait "$UCTL" || rc=$?
took=$((SECONDS - start))
expect_status 1 $rc "a task that ended unknown"
[ $took -le 15 ] || fail "uspctl took $took s to see the final state"
check_jsonl "unknown: its own error code, the reason, the task" \
  'length == 1 and (.[0] | .id == "u" and .ok == false and .agent == "'"$A1"'" and .task > 0
    and .error.code == "outcome_unknown" and (.error.message | startswith("outcome unknown: daemon node-x restarted")))' \
  "$W/set.out"
grep -q "1 failed" "$W/set.err" || fail "the summary does not count the unknown task as failed"

TASK=$(jq .task "$W/set.out")
printf '%s\n' '{"id":"s","op":"task_status","tasks":['"$TASK"']}' '{"id":"c","op":"cancel","tasks":['"$TASK"']}' >"$W/status.jsonl"
rc=0
uctl <"$W/status.jsonl" >"$W/status.out" 2>"$W/status.err" || rc=$?
expect_status 1 $rc "task_status and a refused cancel"
check_jsonl "task_status: state unknown with the reason" \
  '.[] | select(.id == "s") | .ok and .result.state == "unknown" and (.result.error_message | startswith("outcome unknown"))' \
  "$W/status.out"
check_jsonl "cancel: an unknown task is not cancelable" \
  '.[] | select(.id == "c") | .ok == false and .error.code == "not_cancelable"' "$W/status.out"
log "PASS"
