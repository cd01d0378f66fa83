#!/usr/bin/env bash
# uspc-api under systemd's two protocols, played by the test (docs/api.md,
# "Running it"; deploy/systemd/uspc-api.service is Type=notify with a
# watchdog):
#   - notify: with NOTIFY_SOCKET naming a datagram socket the test reads
#     (and WATCHDOG_USEC), uspc-api sends READY=1 with a STATUS= naming its
#     address once it listens, WATCHDOG=1 every quarter of WATCHDOG_USEC, a
#     new STATUS= every 5 s (requests, event streams, database
#     connections), and on SIGTERM STOPPING=1, then exits 0;
#   - journal: with JOURNAL_STREAM naming the DEV:INODE of its stderr, every
#     line starts with its syslog priority and has no timestamp.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-uspctl.sh
. "$(dirname "$0")/itest-uspctl.sh"
need python3 stat curl
unset NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID JOURNAL_STREAM
API=$USPC_BIN_DIR/uspc-api
new_db "$DB_NAME"

SOCK=$W/notify.sock
NOTIFY_LOG=$W/notify.log
notify_listen "$SOCK" "$NOTIFY_LOG"

touch "$W/api.log"
NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=2000000 JOURNAL_STREAM=$(stat -L -c '%d:%i' "$W/api.log") \
  "$API" --db "$DB_URL" --listen 127.0.0.1:0 --console "" >>"$W/api.log" 2>&1 &
PID_api=$!
track "$PID_api"

wait_log "$NOTIFY_LOG" '^READY=1;STATUS=serving on 127\.0\.0\.1:[0-9]+' 30
ADDR=$(grep -oE '^READY=1;STATUS=serving on 127\.0\.0\.1:[0-9]+' "$NOTIFY_LOG" | sed 's/.* on //')
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://$ADDR/healthz") || fail "no answer on $ADDR"
[ "$code" = 200 ] || fail "/healthz on the address READY named: $code"
log "READY=1 names $ADDR, which answers"

# The watchdog every 0.5 s (a quarter of 2 s), and a STATUS= line with the
# numbers after 5 s.
sleep 6
n=$(count_lines "$NOTIFY_LOG" '^WATCHDOG=1$')
[ "$n" -ge 8 ] || fail "$n WATCHDOG=1 in 6 s with WATCHDOG_USEC=2000000 (wanted about 12): $(cat "$NOTIFY_LOG")"
grep -Eq "^STATUS=serving on $ADDR: [0-9]+ requests answered, 0 event streams, [0-9]+ of 8 db connections busy$" "$NOTIFY_LOG" ||
  fail "no periodic STATUS= line: $(cat "$NOTIFY_LOG")"
log "watchdog: $n pings in 6 s; STATUS: $(grep -m1 ' requests answered' "$NOTIFY_LOG")"

# Journal format: priorities, no timestamps.
JLINE='^<[3467]>(ERROR|WARN |INFO |DEBUG|TRACE) [a-z-]+: '
grep -Eq "$JLINE"'listening on http://' "$W/api.log" || fail "no journal-format line: $(head -5 "$W/api.log")"
bad=$(grep -Evc "$JLINE" "$W/api.log" || true)
[ "$bad" = 0 ] || fail "$bad lines of uspc-api's log are not in journal format: $(grep -Ev "$JLINE" "$W/api.log" | head -3)"

# SIGTERM: STOPPING=1, exit 0.
stop_pid "$PID_api" || fail "uspc-api exited with status $? on SIGTERM"
grep -q '^STOPPING=1;STATUS=stopping' "$NOTIFY_LOG" || fail "no STOPPING=1 at SIGTERM: $(tail -3 "$NOTIFY_LOG")"
log "SIGTERM: STOPPING=1, exit 0"
