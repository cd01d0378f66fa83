#!/usr/bin/env bash
# uspc under systemd's two protocols, played by the test (docs/uspc.md,
# "Logs" and "systemd"):
#   - notify: with NOTIFY_SOCKET naming a datagram socket the test reads
#     (and WATCHDOG_USEC), the daemon sends READY=1 with a STATUS= summary
#     at the end of its start, WATCHDOG=1 every quarter of WATCHDOG_USEC, a new
#     STATUS= with each stats line (agents, tasks done, db and mqtt state),
#     and on SIGTERM STOPPING=1 first, with a "draining: " STATUS, then the
#     store's flush;
#   - journal: with JOURNAL_STREAM naming the DEV:INODE of its stderr (a
#     regular file here; journald's socket under systemd), every line starts
#     with its syslog priority (<6> info, <4> warn, <3> error: also a
#     configuration error and a failed start) and has no timestamp;
#   - without JOURNAL_STREAM, or with one naming another stream (inherited,
#     stderr redirected since), lines keep their UTC timestamp and no prefix.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"
need python3 stat
unset NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID JOURNAL_STREAM

AGENTS=3
new_db "core_systemd"

# The notify socket: one line per datagram, its newlines as ';'.
SOCK=$W/notify.sock
NOTIFY_LOG=$W/notify.log
notify_listen "$SOCK" "$NOTIFY_LOG"

# journal_stream FILE — JOURNAL_STREAM's value for stderr going to FILE.
journal_stream() {
  touch "$1"
  stat -L -c '%d:%i' "$1"
}
# A journal line: priority, level tag, component, and nothing before.
JLINE='^<[3467]>(ERROR|WARN |INFO |DEBUG|TRACE) [a-z]+: '
TLINE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z (ERROR|WARN |INFO |DEBUG|TRACE) [a-z]+: '

# ---- d1: notify socket, watchdog, journal ------------------------------------
export NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=2000000
JOURNAL_STREAM=$(journal_stream "$W/d1.log")
export JOURNAL_STREAM
start_uspc d1 --agent-identity optional
unset NOTIFY_SOCKET WATCHDOG_USEC JOURNAL_STREAM

# (the MQTT client may still be connecting, and the store writer connects
# with its first write: either may say down here)
wait_log "$NOTIFY_LOG" '^READY=1;STATUS=agents 0 online 0, pending 0, tasks done 0 failed 0, db (up|down), mqtt (up|down)$' 10
log "READY=1 with its STATUS"
start_sim s1 $AGENTS
wait_sql "SELECT count(*) FROM agents WHERE onboarded_at IS NOT NULL" $AGENTS 40
add_tasks get '{"param_paths":["Device.DeviceInfo.UpTime"]}' 1 $AGENTS
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" $AGENTS 30
# the next stats lines (every 2 s) carry the new numbers
wait_log "$NOTIFY_LOG" "^STATUS=agents $AGENTS online $AGENTS, pending [0-9]+, tasks done $AGENTS failed 0, db up, mqtt up\$" 10
log "STATUS follows the stats line"
end=$((SECONDS + 5))
until [ "$(count_lines "$NOTIFY_LOG" '^WATCHDOG=1$')" -ge 4 ]; do
  [ $SECONDS -lt $end ] || fail "$(count_lines "$NOTIFY_LOG" '^WATCHDOG=1$') WATCHDOG=1 (every 500 ms expected)"
  sleep 0.2
done
grep -q "^<6>INFO  core: systemd watchdog: pinging every 500 ms\$" "$W/d1.log" ||
  fail "watchdog interval not logged"

# An error under the journal: a start stopped by a port in use (d1's).
ADDR1=$(metrics_base d1)
JOURNAL_STREAM=$(journal_stream "$W/d2.log")
export JOURNAL_STREAM
spawn_uspc d2 --metrics-listen "${ADDR1#http://}"
unset JOURNAL_STREAM
wait_exit "$PID_d2" 30 || fail "d2 started on a metrics port in use"
[ "$EXIT_RC" = 2 ] || fail "d2 exit status $EXIT_RC"
grep -q '^<3>ERROR main: start-up failed: ' "$W/d2.log" || fail "no <3> error line: $(cat "$W/d2.log")"

stop_pid "$PID_d1" || fail "d1 exit status $?"
grep -Eq "^STOPPING=1;STATUS=draining: agents $AGENTS online [0-9]+, pending [0-9]+, tasks done $AGENTS " "$NOTIFY_LOG" ||
  fail "no STOPPING=1 with a draining STATUS"
stopping=$(grep -n '^STOPPING=1' "$NOTIFY_LOG" | head -n 1 | cut -d: -f1)
flush=$(grep -n '^STATUS=stopping: committing to the database' "$NOTIFY_LOG" | head -n 1 | cut -d: -f1)
ready=$(grep -n '^READY=1' "$NOTIFY_LOG" | head -n 1 | cut -d: -f1)
[ -n "$flush" ] || fail "no STATUS for the store's flush"
if [ "$ready" -ge "$stopping" ] || [ "$stopping" -ge "$flush" ]; then
  fail "notify order: READY=1 line $ready, STOPPING=1 line $stopping, flush line $flush"
fi
log "SIGTERM: STOPPING=1, then the flush's STATUS"

bad=$(grep -Evc "$JLINE" "$W/d1.log" || true)
[ "$bad" = 0 ] || fail "$bad line(s) of d1.log without a journal priority: $(grep -Ev "$JLINE" "$W/d1.log" | head -n 3)"
grep -Eq '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (ERROR|WARN|INFO)' "$W/d1.log" && fail "a timestamp under the journal"
grep -q '^<6>INFO  core: running as ' "$W/d1.log" || fail "no <6> info line"
grep -q '^<6>INFO  stats: agents=' "$W/d1.log" || fail "no <6> stats line"
grep -q '^<4>WARN  core: \*\*\* agent_identity = optional' "$W/d1.log" || fail "no <4> warning"
grep -q '^<6>INFO  main: stopped (exit status 0)$' "$W/d1.log" || fail "no <6> last line"
log "journal: every line with its priority, none with a timestamp"

# ---- a configuration error under the journal: <3> -----------------------------
js=$(journal_stream "$W/cfg.err")
rc=0
JOURNAL_STREAM=$js "$USPC" --max-pending nope 2>>"$W/cfg.err" || rc=$?
[ "$rc" = 2 ] || fail "configuration error: exit status $rc"
grep -q '^<3>uspc: configuration error: ' "$W/cfg.err" || fail "configuration error without <3>: $(cat "$W/cfg.err")"
log "errors: <3> (a failed start, a configuration error)"

# ---- without the journal: timestamps as before -----------------------------------
JOURNAL_STREAM=$(journal_stream "$W/other.log") # another file: not d3's stderr
export JOURNAL_STREAM
start_uspc d3
unset JOURNAL_STREAM
stop_pid "$PID_d3" || fail "d3 exit status $?"
start_uspc d4
stop_pid "$PID_d4" || fail "d4 exit status $?"
for d in d3 d4; do
  bad=$(grep -Evc "$TLINE" "$W/$d.log" || true)
  [ "$bad" = 0 ] || fail "$bad line(s) of $d.log without a timestamp: $(grep -Ev "$TLINE" "$W/$d.log" | head -n 3)"
  grep -q '^<[0-9]>' "$W/$d.log" && fail "$d: a priority prefix without the journal"
  grep -Eq 'Z INFO  main: stopped \(exit status 0\)$' "$W/$d.log" || fail "$d: no last line"
done
[ "$(count_lines "$NOTIFY_LOG" 'READY=1')" = 1 ] || fail "a daemon without NOTIFY_SOCKET notified"
log "ok"
