#!/usr/bin/env bash
# test_uspctl_fanout.sh — a Get fanned out to 1,000 simulated agents returns
# exactly one result per agent, all ok; then the same with --max-inflight
# 100, so tasks are inserted as earlier ones finish. Prints the times.
# Neither the daemon's claims and results nor uspctl's status reads scan
# the whole tasks table, although its statistics are those of an empty
# table (a fresh database, autovacuum kept off it).
# shellcheck disable=SC2119 # uctl takes its own flags
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-uspctl.sh
. "$(dirname "$0")/itest-uspctl.sh"
N=${USPCTL_FANOUT_AGENTS:-1000}

new_db "$DB_NAME"
start_uspc uspc
start_sim main "$N" --connect-rate 1000
t0=$SECONDS
wait_onboarded "$N" 240
log "$N agents online and onboarded in $((SECONDS - t0)) s"

# Backends publish their table counters at most once a second.
tasks_seq_scans() {
  sleep 1.5
  # (tasks is partitioned by day: its partitions hold the counters)
  q "SELECT pg_stat_clear_snapshot(); SELECT sum(seq_scan) FROM pg_stat_user_tables
     WHERE relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'tasks'::regclass)" | tail -1
}
q "DO \$\$ DECLARE p regclass; BEGIN FOR p IN SELECT inhrelid FROM pg_inherits
   WHERE inhparent = 'tasks'::regclass LOOP
   EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = false)', p); END LOOP; END \$\$"
scans0=$(tasks_seq_scans)

for a in $(seq "$N"); do agent "$a"; echo; done | sort >"$W/expected.txt"
echo '{"id":"fw","op":"get","targets":{"all":true},"paths":["Device.DeviceInfo.SoftwareVersion"]}' >"$W/get.jsonl"

run() {
  local tag=$1
  shift
  local rc=0 t1 t2
  t1=$(date +%s.%N)
  uctl --timeout 120 "$@" <"$W/get.jsonl" >"$W/$tag.out" 2>"$W/$tag.err" || rc=$?
  t2=$(date +%s.%N)
  expect_status 0 $rc "fan-out $tag"
  [ "$(wc -l <"$W/$tag.out")" -eq "$N" ] || fail "$tag: $(wc -l <"$W/$tag.out") lines for $N agents"
  jq -r .agent "$W/$tag.out" | sort >"$W/$tag.agents"
  cmp -s "$W/$tag.agents" "$W/expected.txt" || fail "$tag: the agents answering are not exactly the $N agents"
  check_jsonl "$tag: every line ok with the SoftwareVersion" \
    'all(.ok and .result.req_path_results[0].resolved_path_results[0].result_params.SoftwareVersion == "1.0.0")' "$W/$tag.out"
  check_jsonl "$tag: one task per agent" '[.[].task] | unique | length == '"$N" "$W/$tag.out"
  log "$tag: Get to $N agents: $(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", b - a }') s ($(cat "$W/$tag.err"))"
}
run all
run inflight100 --max-inflight 100
scans1=$(tasks_seq_scans)
[ "$scans1" -eq "$scans0" ] || fail "the tasks table was scanned whole $((scans1 - scans0)) times during the fan-outs"
log PASS
