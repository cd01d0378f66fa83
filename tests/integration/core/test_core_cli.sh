#!/usr/bin/env bash
# Operating the daemon: --check-config (valid, invalid with file:line, a
# password on the command line refused, secrets never printed), --help,
# the shipped example config passes, SIGHUP reloads the log level from
# the config file while the daemon runs, and the daemon's threads are named.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

cfg=$W/uspc.conf
printf 'endpoint_id = %s\nstats_interval = 2\nlog_level = info\n' "$CTL_EID" >"$cfg"
out=$(USPC_DB_PASSWORD=s3cret-db "$USPC" --config "$cfg" --check-config) || fail "--check-config failed"
grep -q "^endpoint_id = $CTL_EID\$" <<<"$out" || fail "effective endpoint_id not printed"
grep -q '^db_password = (set)$' <<<"$out" || fail "secret not reported as set"
grep -q 's3cret-db' <<<"$out" && fail "secret printed"

printf 'endpoint_id = x\nmax_pending = lots\n' >"$W/bad.conf"
rc=0; err=$("$USPC" --config "$W/bad.conf" --check-config 2>&1) || rc=$?
[ $rc = 2 ] || fail "bad config: exit $rc, want 2"
grep -q "bad.conf:2: max_pending: expected an integer" <<<"$err" || fail "bad config message: $err"

rc=0; err=$("$USPC" --check-config --db 'postgresql://u:hunter2@127.0.0.1/x' 2>&1) || rc=$?
[ $rc = 2 ] || fail "password on argv accepted"
grep -q hunter2 <<<"$err" && fail "password echoed"

"$USPC" --help | grep -q -- '--check-config' || fail "--help"
# The example config lists every non-secret key the daemon knows.
keys=$("$USPC" --check-config | sed -n 's/^\([a-z_]*\) = .*/\1/p' | grep -v '_password$' | sort)
ex=$(sed -n 's/^#\{0,1\}\([a-z_]*\) =.*/\1/p' "$USPC_SOURCE_DIR/deploy/uspc.conf.example" | sort -u)
[ "$keys" = "$ex" ] || fail "deploy/uspc.conf.example keys differ: $(diff <(echo "$keys") <(echo "$ex") | tr '\n' ' ')"
"$USPC" --config "$USPC_SOURCE_DIR/deploy/uspc.conf.example" --check-config >/dev/null \
  || fail "deploy/uspc.conf.example does not pass --check-config"

# SIGHUP: change log_level in the file, reload, see debug lines.
new_db "core_cli"
start_uspc d1 --config "$cfg" --log-level info
grep -q ' DEBUG ' "$W/d1.log" && fail "debug lines before reload"
printf 'endpoint_id = %s\nstats_interval = 2\nlog_level = debug\n' "$CTL_EID" >"$cfg"
# The flag given at start still wins over the file: drop it by restarting
# without it is not needed; instead check the reload reports the state.
kill -HUP "$PID_d1"
wait_log "$W/d1.log" 'SIGHUP: configuration reloaded, 0 setting' 10
# Threads carry names an operator can tell apart in top -H / ps -L (the
# bench harness splits uspc's CPU by them).
names=$(cat /proc/"$PID_d1"/task/*/comm | sort | tr '\n' ' ')
for t in uspc-writer uspc-feeder uspc-mqtt uspc-metrics MQTTAsync_rcv MQTTAsync_send; do
  grep -qw -- "$t" <<<"$names" || fail "no thread named $t (threads: $names)"
done
stop_pid "$PID_d1" || fail "daemon exit status $?"
start_uspc d2 --config "$cfg"
printf 'endpoint_id = %s\nstats_interval = 2\nlog_level = warn\n' "$CTL_EID" >"$cfg"
kill -HUP "$PID_d2"
wait_log "$W/d2.log" 'SIGHUP: configuration reloaded, 1 setting' 10
n=$(wc -l <"$W/d2.log")
sleep 2.5
tail -n +"$((n + 1))" "$W/d2.log" | grep -q ' stats: ' && fail "info stats line after reload to warn"
printf 'endpoint_id = %s\nbogus = 1\n' "$CTL_EID" >"$cfg"
kill -HUP "$PID_d2"
wait_log "$W/d2.log" 'SIGHUP: configuration not reloaded: .*bogus' 10
kill -0 "$PID_d2" || fail "daemon died on a bad reload"
stop_pid "$PID_d2" || fail "daemon exit status $?"
log "ok"
