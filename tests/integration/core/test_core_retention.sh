#!/usr/bin/env bash
# Partitions and retention (schema migration 10, store_retention.c), with a
# real daemon, agents, PostgreSQL and a moved clock
# (maintenance_clock_offset_s):
# 1. bad retention settings are refused at start, the database untouched;
# 2. a database that holds rows (schema version 9) is migrated: every row
#    kept (as each table's legacy partition), a task queued before the
#    migration still runs, new ids start at today's first id;
# 3. partitions are created partition_ahead_days ahead;
# 4. notifications that arrive for a day without a partition wait in the
#    DEFAULT partition and are moved into their day's when the maintenance
#    creates it: none lost;
# 5. a daemon killed while its DROP waits for a lock leaves the partition
#    whole (rows and all); the next run drops it;
# 6. a clock 35 days ahead: days older than the retention are dropped, the
#    legacy partitions with them, an open task of such a day expired first
#    (operation_results too: a command of a day ahead, moved out of
#    DEFAULT, stays);
# 7. two daemons race for the maintenance: one at a time (the advisory
#    lock), each day created once, no errors; a session holding the lock
#    keeps every daemon out;
# 8. a long reader of a table makes the maintenance put a step off (it
#    waits at most 1 s for a lock), and other readers are not held up
#    behind it.
# shellcheck disable=SC2154 # start_uspc, spawn_uspc and start_sim set PID_<name>
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

DAY=86400
day_tag() { date -u -d "@$(($(date -u +%s) + $1 * DAY))" +%Y%m%d; }
parts() { q "SELECT string_agg(name, ' ' ORDER BY name) FROM uspc_part_list('$1')"; }
has_part() { [ "$(q "SELECT count(*) FROM uspc_part_list('$1') WHERE name = '$2'")" = 1 ]; }
TODAY=$(day_tag 0)

new_db "core_retention"

# ---- 1. bad settings ----------------------------------------------------------
for bad in "--retention-tasks-days -1" "--retention-notifications-days 100000" \
  "--retention-profile-history-days x" "--partition-ahead-days 0" "--maintenance-interval-s -5"; do
  # shellcheck disable=SC2086 # (the flag and its value)
  if out=$("$USPC" --db "$DB_URL" --endpoint-id "$CTL_EID" $bad 2>&1); then
    fail "uspc started with $bad"
  fi
  grep -Eq "(is outside|expected an integer)" <<<"$out" || fail "no clear message for $bad: $out"
done
[ "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ] \
  || fail "a refused start changed the database"

# ---- 2. migration of a database that holds rows -------------------------------
{
  echo "BEGIN;"
  echo "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now());"
  for f in "$USPC_SOURCE_DIR"/controller/store/migrations/000[1-9]_*.sql; do
    cat "$f"
    n=$(basename "$f" .sql)
    echo ";INSERT INTO schema_migrations (version, name) VALUES (${n%%_*}, '$n');"
  done
  echo "COMMIT;"
} | psql -XAtq -v ON_ERROR_STOP=1 "$DB_URL" >/dev/null || fail "schema version 9 not built"
A1=$(agent 1)
q "INSERT INTO tasks (eid, op, request, state, created_at, finished_at)
     SELECT 'old::' || i, 'get', '{}', 'done', now() - interval '3 days', now() - interval '3 days'
     FROM generate_series(1, 500) i;
   INSERT INTO tasks (eid, op, request) VALUES ('$A1', 'get',
     '{\"param_paths\":[\"Device.DeviceInfo.SoftwareVersion\"]}');
   INSERT INTO notifications (eid, msg_id, kind, payload, received_at)
     SELECT 'old::' || (i % 10), 'm' || i, 'event', '{}', now() - i * interval '5 minutes'
     FROM generate_series(1, 1000) i;
   INSERT INTO profile_history (eid, name, version, triggers, outcome, entry, at)
     SELECT 'old::' || i, 'p', 1, '{boot}', 'applied', '{}', now() - interval '2 days'
     FROM generate_series(1, 20) i;
   INSERT INTO operation_results (eid, command_key, obj_path, command_name, state, updated_at)
     VALUES ('old::1', 'k1', 'Device.', 'Reboot()', 'complete', now())" >/dev/null
old_task=$(q "SELECT id FROM tasks WHERE eid = '$A1'")

start_uspc d1 --maintenance-interval-s 1
wait_log "$W/d1.log" "schema migration 10 \(0010_partitions\) applied" 10
[ "$(q "SELECT count(*) FROM tasks")" = 501 ] || fail "tasks lost in the migration"
[ "$(q "SELECT count(*) FROM notifications")" = 1000 ] || fail "notifications lost in the migration"
[ "$(q "SELECT count(*) FROM profile_history")" = 20 ] || fail "profile history lost in the migration"
[ "$(q "SELECT count(*) FROM operation_results")" = 1 ] || fail "operation results lost in the migration"
for t in tasks notifications profile_history operation_results; do
  has_part $t ${t}_legacy || fail "$t: no legacy partition: $(parts $t)"
  [ "$(q "SELECT count(*) FROM ONLY ${t}_default")" = 0 ] || fail "$t: rows in DEFAULT after the migration"
done
# a command of a day ten days ahead (no partition yet: DEFAULT, then moved)
q "INSERT INTO operation_results (eid, command_key, obj_path, command_name, state, updated_at, day)
   VALUES ('old::2', 'k2', 'Device.', 'Reboot()', 'complete', now() + interval '10 days',
     uspc_utc_day(now() + interval '10 days'))" >/dev/null
# the task queued before the migration runs when its agent comes
start_sim s1 2 --vc-rate 4
wait_sql "SELECT state FROM tasks WHERE id = $old_task" "done" 40
new_task=$(q "INSERT INTO tasks (eid, op, request) VALUES ('$A1', 'get',
  '{\"param_paths\":[\"Device.DeviceInfo.ModelName\"]}') RETURNING id; NOTIFY uspc_task_new" | head -n 1)
[ "$(q "SELECT $new_task >= uspc_day_id(current_date)")" = t ] || fail "new task id $new_task below today's first id"
[ "$(q "SELECT tableoid::regclass FROM tasks WHERE id = $new_task")" = "tasks_p$TODAY" ] \
  || fail "new task not in today's partition"
wait_sql "SELECT state FROM tasks WHERE id = $new_task" "done" 20

# ---- 3. partitions ahead --------------------------------------------------------
wait_log "$W/d1.log" "maintenance done" 15
for t in tasks notifications profile_history operation_results; do
  for k in 0 1 2 3; do
    has_part $t "${t}_p$(day_tag $k)" || fail "$t: no partition for day +$k: $(parts $t)"
  done
  has_part $t "${t}_p$(day_tag 4)" && fail "$t: a partition past partition_ahead_days"
done
stop_pid "$PID_sim_s1" || true
stop_pid "$PID_d1" || fail "d1 exit status $? after SIGTERM"

# ---- 4. a day without its partition -----------------------------------------------
start_uspc d1 --maintenance-interval-s 0
curl -fsS "$(metrics_base d1)/metrics" | grep -q '^uspc_retention_' \
  && fail "retention metrics from a daemon whose maintenance is off"
before=$(q "SELECT count(*) FROM notifications")
q "DELETE FROM notifications WHERE day = current_date; DROP TABLE notifications_p$TODAY" >/dev/null
before=$(q "SELECT count(*) FROM notifications")
start_sim s2 2 --vc-rate 4
wait_sql "SELECT count(*) >= 6 FROM ONLY notifications_default" t 40
stop_pid "$PID_sim_s2" || true
sleep 1.5 # the writer commits what it holds
waiting=$(q "SELECT count(*) FROM ONLY notifications_default")
total=$(q "SELECT count(*) FROM notifications")
[ "$total" = $((before + waiting)) ] || fail "notifications: $total rows, wanted $before + $waiting"
[ "$(q "SELECT count(*) FROM (SELECT 1 FROM notifications GROUP BY eid, msg_id HAVING count(*) > 1) d")" = 0 ] \
  || fail "a notification stored twice"
start_uspc d2 --maintenance-interval-s 1
wait_log "$W/d2.log" "notifications: partition of [0-9-]+ created late: $waiting row\(s\) had waited" 15
[ "$(q "SELECT count(*) FROM ONLY notifications_default")" = 0 ] || fail "rows left in DEFAULT"
[ "$(q "SELECT count(*) FROM notifications_p$TODAY")" = "$waiting" ] || fail "rows not moved to their day"
[ "$(q "SELECT count(*) FROM notifications")" = "$total" ] || fail "notifications lost in the move"
stop_pid "$PID_d2" || fail "d2 exit status $? after SIGTERM"
stop_pid "$PID_d1" || fail "d1 exit status $? after SIGTERM"

# ---- 5. killed while a DROP waits --------------------------------------------------
# (a task of today that never runs: part 6 expires it; queued now, while
# ids are still today's)
q "INSERT INTO tasks (eid, op, request) VALUES ('offline::1', 'get', '{}')" >/dev/null
open_task=$(q "SELECT max(id) FROM tasks WHERE eid = 'offline::1'")
AHEAD=(--retention-notifications-days 30 --retention-tasks-days 30
  --retention-profile-history-days 30 --retention-operation-results-days 30)
rows=$(q "SELECT count(*) FROM notifications_p$TODAY")
psql -XAtq "$DB_URL" -c "BEGIN; LOCK TABLE notifications_p$TODAY IN ACCESS SHARE MODE;
  SELECT pg_sleep(12); COMMIT" >/dev/null 2>&1 &
locker=$!
track "$locker"
wait_sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
  WHERE c.relname = 'notifications_p$TODAY' AND l.granted" 1 10
spawn_uspc d3 --maintenance-interval-s 1 --maintenance-clock-offset-s $((35 * DAY)) "${AHEAD[@]}"
wait_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'uspc-retention'
  AND wait_event_type = 'Lock' AND query LIKE '%uspc_part_drop%'" 1 30
kill -9 "$PID_d3"
wait_exit "$PID_d3" 5 || true
has_part notifications "notifications_p$TODAY" || fail "partition gone after a killed drop"
[ "$(q "SELECT count(*) FROM notifications_p$TODAY")" = "$rows" ] || fail "rows changed by a killed drop"
wait "$locker" 2>/dev/null || true
q "INSERT INTO notifications (eid, msg_id, kind, payload, received_at, day)
   VALUES ('x::1', 'after-kill', 'event', '{}', now(), current_date)" >/dev/null \
  || fail "notifications not writable after a killed drop"
grep -q "dropping notifications_p$TODAY: put off" "$W/d3.log" \
  || log "(the drop was killed before its lock wait timed out)"

# ---- 6. a clock 35 days ahead ------------------------------------------------------
start_uspc d3 --maintenance-interval-s 1 --maintenance-clock-offset-s $((35 * DAY)) "${AHEAD[@]}"
wait_log "$W/d3.log" "tasks: 1 task\(s\) created before [0-9-]+ were still open and are expired" 20
wait_log "$W/d3.log" "tasks: tasks_p$TODAY dropped" 20
wait_log "$W/d3.log" "notifications: notifications_legacy dropped" 20
wait_log "$W/d3.log" "profile_history: profile_history_legacy dropped" 20
cutoff=$(day_tag 5) # 35 - 30: every day before it goes
for t in tasks notifications profile_history operation_results; do
  [ "$(q "SELECT count(*) FROM uspc_part_list('$t') WHERE NOT is_default AND hi <= to_date('$cutoff', 'YYYYMMDD')")" = 0 ] \
    || fail "$t: days before the retention left: $(parts $t)"
  for k in 34 35 38; do
    has_part $t "${t}_p$(day_tag $k)" || fail "$t: no partition for day +$k under the moved clock"
  done
done
[ "$(q "SELECT count(*) FROM tasks WHERE id = $open_task")" = 0 ] || fail "the open task's day was kept"
[ "$(q "SELECT count(*) FROM notifications WHERE msg_id = 'after-kill'")" = 0 ] || fail "an old notification kept"
[ "$(q "SELECT string_agg(command_key, ',') FROM operation_results")" = k2 ] \
  || fail "operation_results: $(q "SELECT string_agg(command_key, ',') FROM operation_results"), wanted k2"
grep -E "ERROR +retention" "$W/d3.log" && fail "the maintenance logged errors"
# its metrics say so (the snapshot behind /metrics is a second old at most)
base=$(metrics_base d3)
for _ in $(seq 30); do
  m=$(curl -fsS "$base/metrics") || fail "no /metrics from d3"
  dropped=$(awk '$1 == "uspc_retention_partitions_dropped_total" { print $2 }' <<<"$m")
  [ "${dropped:-0}" -gt 0 ] && break
  sleep 0.2
done
[ "${dropped:-0}" -gt 0 ] || fail "uspc_retention_partitions_dropped_total=${dropped:-absent}"
last=$(awk '$1 == "uspc_retention_last_run_timestamp_seconds" { print int($2) }' <<<"$m")
[ "${last:-0}" -gt $(($(date +%s) - 30)) ] || fail "uspc_retention_last_run_timestamp_seconds=${last:-absent}"
[ "$(awk '$1 == "uspc_retention_errors_total" { print $2 }' <<<"$m")" = 0 ] || fail "retention errors counted"
stop_pid "$PID_d3" || fail "d3 exit status $? after SIGTERM"

# ---- 7. two daemons race; a held lock keeps them out -------------------------------
psql -XAtq "$DB_URL" -c "SELECT pg_advisory_lock(7571706302); SELECT pg_sleep(9)" >/dev/null 2>&1 &
holder=$!
track "$holder"
wait_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
  AND (classid::bigint << 32) + objid::bigint = 7571706302" 1 10
start_uspc d4 --maintenance-interval-s 1 --maintenance-clock-offset-s $((70 * DAY)) --log-level debug
start_uspc d5 --maintenance-interval-s 1 --maintenance-clock-offset-s $((70 * DAY)) --log-level debug
sleep 6.5 # both daemons' first runs (5 s after start) meet the held lock
has_part notifications "notifications_p$(day_tag 70)" && fail "a daemon ran the maintenance while the lock was held"
grep -q "another daemon is running it" "$W/d4.log" || fail "d4 did not meet the held lock"
wait "$holder" 2>/dev/null || true
wait_sql "SELECT count(*) FROM uspc_part_list('notifications') WHERE name = 'notifications_p$(day_tag 73)'" 1 15
sleep 3
for t in tasks notifications profile_history operation_results; do
  n=$(cat "$W/d4.log" "$W/d5.log" | grep -c "$t: partition of $(date -u -d "@$(($(date -u +%s) + 73 * DAY))" +%F) created")
  [ "$n" = 1 ] || fail "$t: day +73 created $n times"
done
grep -E "ERROR +retention" "$W/d4.log" "$W/d5.log" && fail "the racing daemons logged errors"
stop_pid "$PID_d4" || fail "d4 exit status $? after SIGTERM"
stop_pid "$PID_d5" || fail "d5 exit status $? after SIGTERM"

# ---- 8. a long reader puts a creation off, and is not held up by it ---------------
psql -XAtq "$DB_URL" -c "BEGIN; LOCK TABLE notifications_default IN ACCESS SHARE MODE;
  SELECT pg_sleep(15); COMMIT" >/dev/null 2>&1 &
reader=$!
track "$reader"
wait_sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
  WHERE c.relname = 'notifications_default' AND l.granted AND l.mode = 'AccessShareLock'" 1 10
start_uspc d6 --maintenance-interval-s 1 --maintenance-clock-offset-s $((100 * DAY))
day99=$(date -u -d "@$(($(date -u +%s) + 99 * DAY))" +%F)
wait_log "$W/d6.log" "notifications: creating the partition of $day99: put off, a lock it needs stayed busy" 20
has_part notifications "notifications_p$(day_tag 99)" && fail "a partition attached under a reader's lock"
# Another reader of the table gets through while the maintenance keeps
# trying (each attempt gives up after 1 s); without the timeout it would
# wait behind the attach until the long reader ends.
t0=$SECONDS
q "SELECT count(*) FROM notifications" >/dev/null
[ $((SECONDS - t0)) -lt 8 ] || fail "a reader waited $((SECONDS - t0)) s behind the maintenance"
alive "$reader" || fail "the long reader ended before the check (the check tested nothing)"
wait "$reader" 2>/dev/null || true
wait_sql "SELECT count(*) FROM uspc_part_list('notifications') WHERE name = 'notifications_p$(day_tag 99)'" 1 15
grep -E "ERROR +retention" "$W/d6.log" && fail "a put-off step was logged as an error"
stop_pid "$PID_d6" || fail "d6 exit status $? after SIGTERM"
log "ok"
