#!/usr/bin/env bash
# test_uspctl_errors.sh — bad input and unhappy paths, through the daemon:
# malformed JSON, unknown op, bad path, unknown agent, an empty selector and
# an over-long line each get their own error line while the other lines
# still run; a batch survives a daemon restart; an agent that does not
# answer times out; a task for an offline agent expires; a queued task can
# be canceled and its status read.
# shellcheck disable=SC2119 # uctl takes its own flags
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-uspctl.sh
. "$(dirname "$0")/itest-uspctl.sh"

new_db "$DB_NAME"
start_uspc uspc
start_sim main 2
wait_onboarded 2 60
A1=$(agent 1) A2=$(agent 2)

# ---- bad lines among good ones --------------------------------------------
{
  echo '{"id":"good1","op":"get","targets":"'"$A1"'","paths":"Device.DeviceInfo.SoftwareVersion"}'
  echo '{"id":"broken", "op": "get", '
  echo '{"id":"frob","op":"frobnicate","targets":"'"$A1"'"}'
  echo '{"id":"badpath","op":"get","targets":"'"$A1"'","paths":["Device..DeviceInfo"]}'
  echo '{"id":"who","op":"get","targets":["'"$A2"'","proto::nobody-here"],"paths":"Device.DeviceInfo.ModelName"}'
  echo '# a comment line, and a blank one, are skipped'
  echo ''
  echo '{"id":"none","op":"get","targets":{"model":"no-such-model"},"paths":"Device."}'
  printf '{"id":"huge","op":"get","pad":"%s"}\n' "$(head -c 1100000 /dev/zero | tr '\0' x)"
  echo '{"id":"good2","op":"get","targets":{"all":true},"paths":"Device.Time.NTPServer1"}'
} >"$W/bad.jsonl"
rc=0
uctl --timeout 30 <"$W/bad.jsonl" >"$W/bad.out" 2>"$W/bad.err" || rc=$?
expect_status 1 $rc "batch with bad lines"
check_jsonl "malformed JSON: error line with its line number, no agent" \
  '.[] | select(.line == 2) | .id == null and .error.code == "malformed_json" and (has("agent") | not)' "$W/bad.out"
check_jsonl "unknown op" '.[] | select(.id == "frob") | .line == 3 and .error.code == "unknown_op"' "$W/bad.out"
check_jsonl "bad path" '.[] | select(.id == "badpath") | .line == 4 and .error.code == "invalid_path"' "$W/bad.out"
check_jsonl "unknown agent fails alone; the known one runs" \
  '([.[] | select(.id == "who")] | length == 2) and
   (.[] | select(.id == "who" and .agent == "proto::nobody-here") | .error.code == "unknown_agent") and
   (.[] | select(.id == "who" and .agent == "'"$A2"'") | .ok)' "$W/bad.out"
check_jsonl "selector matching nothing: no_targets" '.[] | select(.id == "none") | .line == 8 and .error.code == "no_targets"' "$W/bad.out"
check_jsonl "over-long line: line_too_long" '.[] | select(.line == 9) | .error.code == "line_too_long"' "$W/bad.out"
check_jsonl "the good lines ran" \
  '([.[] | select(.id == "good1" and .ok)] | length == 1) and ([.[] | select(.id == "good2" and .ok)] | length == 2)' "$W/bad.out"
check_jsonl "nothing else was printed" 'length == 10' "$W/bad.out"

# ---- a batch survives a daemon restart ------------------------------------
kill_pid "$PID_uspc"
echo '{"id":"restart","op":"get","targets":{"all":true},"paths":"Device.DeviceInfo.SerialNumber"}' >"$W/restart.jsonl"
uctl --timeout 60 <"$W/restart.jsonl" >"$W/restart.out" 2>"$W/restart.err" &
UCTL=$!
track "$UCTL"
sleep 2
[ "$(q "SELECT count(*) FROM tasks WHERE state = 'queued' AND batch_id LIKE 'uspctl-%'")" = 2 ] ||
  fail "tasks were not queued while the daemon was down"
start_uspc uspc
rc=0
wait "$UCTL" || rc=$?
expect_status 0 $rc "batch across a daemon restart"
check_jsonl "both agents answered after the restart" '[.[] | select(.ok)] | length == 2' "$W/restart.out"

# ---- an agent that does not answer: timeout --------------------------------
freeze_sim "$PID_sim_main"
echo '{"id":"slow","op":"get","targets":"'"$A1"'","paths":"Device.DeviceInfo."}' >"$W/slow.jsonl"
rc=0
start=$SECONDS
uctl --timeout 3 --expires 60 <"$W/slow.jsonl" >"$W/slow.out" 2>"$W/slow.err" || rc=$?
took=$((SECONDS - start))
thaw_sim "$PID_sim_main"
expect_status 1 $rc "timeout"
check_jsonl "timeout: error line with the task id" \
  '.[0] | .id == "slow" and .error.code == "timeout" and .task > 0' "$W/slow.out"
[ $took -le 8 ] || fail "timeout of 3 s took $took s"

# ---- an offline agent: the task expires ------------------------------------
kill_pid "$PID_sim_main"
offline "$A1" 5
echo '{"id":"offline","op":"get","targets":"'"$A1"'","paths":"Device.DeviceInfo."}' >"$W/off.jsonl"
rc=0
start=$SECONDS
uctl --timeout 30 --expires 2 <"$W/off.jsonl" >"$W/off.out" 2>"$W/off.err" || rc=$?
took=$((SECONDS - start))
expect_status 1 $rc "offline agent"
check_jsonl "offline agent: the task expired" '.[0] | .id == "offline" and .error.code == "expired" and .task > 0' "$W/off.out"
[ $took -le 10 ] || fail "expiry after 2 s took $took s"
[ "$(q "SELECT state FROM tasks WHERE id = $(jq .task "$W/off.out")")" = expired ] ||
  fail "the task row is not 'expired'"

# ---- Ctrl-C while waiting: the queued task is canceled ---------------------
echo '{"id":"intr","op":"get","targets":"'"$A1"'","paths":"Device.DeviceInfo."}' >"$W/intr.jsonl"
# not through uctl(): $! must be uspctl itself, not a subshell
"$USPCTL" --db "$DB_URL" --no-progress --timeout 60 --expires 600 \
  <"$W/intr.jsonl" >"$W/intr.out" 2>"$W/intr.err" &
UCTL=$!
track "$UCTL"
end=$((SECONDS + 10))
until [ "$(q "SELECT count(*) FROM tasks WHERE state = 'queued'")" = 1 ]; do
  [ $SECONDS -lt $end ] || fail "the task for the offline agent was not queued"
  sleep 0.2
done
kill -INT "$UCTL"
rc=0
wait "$UCTL" || rc=$?
expect_status 1 $rc "interrupted batch"
check_jsonl "interrupt: the queued task is reported canceled" '.[0] | .id == "intr" and .error.code == "canceled" and .task > 0' "$W/intr.out"
[ "$(q "SELECT state FROM tasks WHERE id = $(jq .task "$W/intr.out")")" = canceled ] ||
  fail "the interrupted task is not 'canceled' in the table"

# ---- no-wait, then cancel and task_status ---------------------------------
echo '{"id":"later","op":"set","targets":"'"$A1"'","params":{"Device.Time.NTPServer2":"ntp.example"}}' >"$W/later.jsonl"
rc=0
uctl --no-wait --expires 600 <"$W/later.jsonl" >"$W/later.out" 2>"$W/later.err" || rc=$?
expect_status 0 $rc "--no-wait"
check_jsonl "--no-wait prints the queued task" '.[0] | .ok and .task > 0 and .result.state == "queued"' "$W/later.out"
TASK=$(jq .task "$W/later.out")
printf '%s\n' '{"id":"c","op":"cancel","tasks":['"$TASK"']}' '{"id":"s","op":"task_status","tasks":"'"$TASK"'"}' >"$W/cancel.jsonl"
rc=0
uctl <"$W/cancel.jsonl" >"$W/cancel.out" 2>"$W/cancel.err" || rc=$?
expect_status 0 $rc "cancel"
check_jsonl "cancel: the queued task is canceled" '.[] | select(.id == "c") | .ok and .result.state == "canceled"' "$W/cancel.out"
check_jsonl "task_status: canceled, for the agent" '.[] | select(.id == "s") | .result.state == "canceled" and .agent == "'"$A1"'"' "$W/cancel.out"

# ---- usage and connection errors: exit 2 -----------------------------------
rc=0
"$USPCTL" --bogus </dev/null >/dev/null 2>&1 || rc=$?
expect_status 2 $rc "unknown flag"
rc=0
echo '{"id":"x","op":"list_agents"}' | "$USPCTL" --db "postgresql://uspc@127.0.0.1:1/none?connect_timeout=2" >/dev/null 2>"$W/noconn.err" || rc=$?
expect_status 2 $rc "database unreachable"
grep -q "cannot use the database" "$W/noconn.err" || fail "no clear message: $(cat "$W/noconn.err")"
log PASS
