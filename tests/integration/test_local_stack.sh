#!/usr/bin/env bash
# test_local_stack.sh — checks deploy/local-stack.sh itself (does not use the
# shared ctest fixture): two stacks started side by side in two directories
# under USPC_TEST_WORK_DIR get distinct ports and both answer (MQTT 5 round
# trip, `SELECT 1`); messages do not cross between them; restart-broker and
# restart-db keep the port (and the data); stop leaves no process and no
# listener behind and is idempotent; nothing is written outside the two
# directories.
set -uo pipefail

STACK=${USPC_LOCAL_STACK:?USPC_LOCAL_STACK not set (run through ctest)}
REPO=${USPC_SOURCE_DIR:?USPC_SOURCE_DIR not set (run through ctest)}
W=${USPC_TEST_WORK_DIR:?USPC_TEST_WORK_DIR not set (run through ctest)}
rm -rf "$W"
mkdir -p "$W"
chmod 755 "$W"
A=$W/stack-a
B=$W/stack-b

passed=0
failed=0
ok() {
	echo "ok - $*"
	passed=$((passed + 1))
}
fail() {
	echo "FAIL - $*"
	failed=$((failed + 1))
}
check() { # description command...
	local d=$1
	shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

cleanup() {
	"$STACK" destroy --dir "$A" >/dev/null 2>&1 || true
	"$STACK" destroy --dir "$B" >/dev/null 2>&1 || true
}
trap cleanup EXIT

envval() { # dir var -> value from the dir's env file
	(
		# shellcheck disable=SC1091
		. "$1/env" && eval "printf '%s' \"\${$2}\""
	)
}

listing() { # dir -> top-level names, one per line (build trees excluded)
	find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null |
		grep -v -e '^build' | sort
}

# MQTT 5 round trip on one broker: a subscriber waits for one message, a
# publisher repeats until it is received (no sleep-and-hope for SUBACK).
mqtt_roundtrip() { # port topic
	local port=$1 topic=$2 out=$W/rt.$$.$RANDOM i
	mosquitto_sub -V mqttv5 -h 127.0.0.1 -p "$port" -q 1 -t "$topic" -C 1 -W 20 >"$out" 2>&1 &
	local sub=$!
	for i in $(seq 1 100); do
		kill -0 "$sub" 2>/dev/null || break
		mosquitto_pub -V mqttv5 -h 127.0.0.1 -p "$port" -q 1 -t "$topic" -m "hello-$port" \
			>/dev/null 2>&1
		sleep 0.1
	done
	wait "$sub"
	local rc=$?
	local got
	got=$(cat "$out")
	rm -f "$out"
	[ $rc -eq 0 ] && [ "$got" = "hello-$port" ]
}

# A subscriber on broker B must NOT see what is published on broker A.
mqtt_isolated() { # port_a port_b
	local out=$W/iso.$$ topic=uspc/test/isolation
	mosquitto_sub -V mqttv5 -h 127.0.0.1 -p "$2" -q 1 -t "$topic" -C 1 -W 2 >"$out" 2>&1 &
	local sub=$!
	sleep 0.5
	mosquitto_pub -V mqttv5 -h 127.0.0.1 -p "$1" -q 1 -t "$topic" -m leak >/dev/null 2>&1
	wait "$sub"
	local got
	got=$(cat "$out")
	rm -f "$out"
	! grep -q leak <<<"$got"
}

sql() { # dir sql -> output
	(
		# shellcheck disable=SC1091
		. "$1/env" && psql "$USPC_DB" -X -q -At -v ON_ERROR_STOP=1 -c "$2"
	)
}

pids_of_stack() { # dir -> mosquitto pid, postmaster pid and its children
	local d=$1 pm
	cat "$d/mosquitto/mosquitto.pid" 2>/dev/null
	pm=$(head -n 1 "$d/pg/postmaster.pid" 2>/dev/null)
	if [ -n "$pm" ]; then
		echo "$pm"
		pgrep -P "$pm" 2>/dev/null
	fi
}

alive() { # pid: exists and is not a zombie
	[ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

not_listening() { [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }

# Files in the usual system places that name one of our ports (a socket,
# lock or pid file) or that a default-configured broker would write.
outside_files() {
	find /tmp /run /var/run /var/lib/postgresql /var/lib/mosquitto /var/log/mosquitto \
		/var/log/postgresql -maxdepth 3 -newer "$marker" 2>/dev/null |
		grep -v -F -e "$W" | grep -E -e "[.:-]($mq_a|$pg_a|$mq_b|$pg_b)([.]|\$)" \
		-e '^/var/(lib|log)/mosquitto/' | sort -u | tr '\n' ' ' || true
}


# ---------------------------------------------------------------- before
marker=$W/.marker
touch "$marker"
sleep 1 # -newer has one-second granularity on some file systems
repo_before=$(listing "$REPO")
home_before=$(listing "${HOME:-/nonexistent}")

# ---------------------------------------------------------------- start both at once
"$STACK" start --dir "$A" >"$W/start-a.out" 2>"$W/start-a.err" &
pa=$!
"$STACK" start --dir "$B" >"$W/start-b.out" 2>"$W/start-b.err" &
pb=$!
wait "$pa"
ra=$?
wait "$pb"
rb=$?
check "stack A starts" [ $ra -eq 0 ]
check "stack B starts" [ $rb -eq 0 ]
if [ $ra -ne 0 ] || [ $rb -ne 0 ]; then
	cat "$W"/start-*.err
	finish
	exit 1
fi
check "start prints the env file's lines" cmp -s "$W/start-a.out" "$A/env"
check "start prints USPC_MQTT and USPC_DB" \
	grep -q -e '^export USPC_MQTT=mqtt://127.0.0.1:[0-9]*$' "$W/start-a.out"
check "USPC_DB names role and database uspc on loopback" \
	grep -q -e '^export USPC_DB=postgresql://uspc@127.0.0.1:[0-9]*/uspc$' "$A/env"

mq_a=$(envval "$A" USPC_MQTT_PORT)
pg_a=$(envval "$A" USPC_PG_PORT)
mq_b=$(envval "$B" USPC_MQTT_PORT)
pg_b=$(envval "$B" USPC_PG_PORT)
echo "# stack A: mqtt $mq_a pg $pg_a; stack B: mqtt $mq_b pg $pg_b"
check "USPC_MQTT matches USPC_MQTT_PORT" [ "$(envval "$A" USPC_MQTT)" = "mqtt://127.0.0.1:$mq_a" ]
check "USPC_STACK_DIR is the stack dir" [ "$(envval "$B" USPC_STACK_DIR)" = "$(cd "$B" && pwd -P)" ]
check "USPC_PG_BIN holds pg_ctl" [ -x "$(envval "$A" USPC_PG_BIN)/pg_ctl" ]
check "four distinct ports" [ "$(printf '%s\n' "$mq_a" "$pg_a" "$mq_b" "$pg_b" | sort -u | wc -l)" -eq 4 ]
check "no password in the env file" \
	bash -c '! grep -q -- "$(cut -d: -f5 "$1/pgpass")" "$1/env"' _ "$A"
check "password file is private (600)" [ "$(stat -c %a "$A/pgpass")" = 600 ]
check "broker A listens on 127.0.0.1 only" \
	bash -c '[ "$(ss -Hltn "sport = :$1" | awk "{print \$4}")" = "127.0.0.1:$1" ]' _ "$mq_a"
check "database B listens on 127.0.0.1 only" \
	bash -c '[ "$(ss -Hltn "sport = :$1" | awk "{print \$4}")" = "127.0.0.1:$1" ]' _ "$pg_b"

# ---------------------------------------------------------------- both answer
check "MQTT 5 round trip on broker A" mqtt_roundtrip "$mq_a" uspc/test/a
check "MQTT 5 round trip on broker B" mqtt_roundtrip "$mq_b" uspc/test/b
check "a message published on A does not reach B" mqtt_isolated "$mq_a" "$mq_b"
check "SELECT 1 on database A" [ "$(sql "$A" 'SELECT 1')" = 1 ]
check "SELECT 1 on database B" [ "$(sql "$B" 'SELECT 1')" = 1 ]
check "connected as uspc to database uspc" \
	[ "$(sql "$B" 'SELECT current_user || current_database()')" = uspcuspc ]
check "status says both run (exit 0)" "$STACK" status --dir "$A"
check "start on a running stack is a no-op with the same ports" \
	bash -c '"$1" start --dir "$2" 2>/dev/null | cmp -s - "$2/env"' _ "$STACK" "$A"

# Sockets, lock and pid files exist only while the servers run: look now.
leaks_running=$(outside_files)

# ---------------------------------------------------------------- restarts keep ports and data
sql "$A" 'CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)' >/dev/null
old_mq_pid=$(cat "$A/mosquitto/mosquitto.pid")
check "restart-broker succeeds" "$STACK" restart-broker --dir "$A"
check "restart-broker keeps the port" [ "$(envval "$A" USPC_MQTT_PORT)" = "$mq_a" ]
check "restart-broker runs a new process" [ "$(cat "$A/mosquitto/mosquitto.pid")" != "$old_mq_pid" ]
check "old broker process is gone" bash -c '! [ -d /proc/$1 ] || grep -q "^State:.*Z" /proc/$1/status' _ "$old_mq_pid"
check "MQTT round trip after restart-broker" mqtt_roundtrip "$mq_a" uspc/test/a2
old_pm=$(head -n 1 "$A/pg/postmaster.pid")
check "restart-db succeeds" "$STACK" restart-db --dir "$A"
check "restart-db keeps the port" [ "$(envval "$A" USPC_PG_PORT)" = "$pg_a" ]
check "restart-db runs a new postmaster" [ "$(head -n 1 "$A/pg/postmaster.pid")" != "$old_pm" ]
check "restart-db keeps the data" [ "$(sql "$A" 'SELECT v FROM kept')" = 42 ]
check "stack B unaffected by A's restarts" mqtt_roundtrip "$mq_b" uspc/test/b2

# ---------------------------------------------------------------- stop
pids=$( (pids_of_stack "$A"; pids_of_stack "$B") | sort -u)
check "found the servers' processes" [ "$(echo "$pids" | wc -w)" -ge 4 ]
check "stop A" "$STACK" stop --dir "$A"
check "stop B" "$STACK" stop --dir "$B"
check "stop again is idempotent" "$STACK" stop --dir "$A"
check "status after stop exits non-zero" bash -c '! "$1" status --dir "$2" >/dev/null' _ "$STACK" "$B"
left=""
for p in $pids; do
	if alive "$p"; then left="$left $p"; fi
done
check "no server process left (pids:$(echo $pids))" [ -z "$left" ]
check "no process mentions either dir" \
	bash -c '! pgrep -f -- "$1/" >/dev/null && ! pgrep -f -- "$2/" >/dev/null' _ "$A" "$B"
for p in "$mq_a" "$pg_a" "$mq_b" "$pg_b"; do
	check "port $p no longer listening" not_listening "$p"
done

# ---------------------------------------------------------------- nothing outside the dirs
check "no new entry at the repo root" [ "$(listing "$REPO")" = "$repo_before" ]
check "no new entry in \$HOME" [ "$(listing "${HOME:-/nonexistent}")" = "$home_before" ]
leaks_after=$(outside_files)
check "no socket, pid or log file of ours elsewhere while running${leaks_running:+: $leaks_running}" \
	[ -z "$leaks_running" ]
check "none after stop either${leaks_after:+: $leaks_after}" [ -z "$leaks_after" ]
check "servers logged inside their dirs" \
	bash -c '[ -s "$1/logs/mosquitto.log" ] && [ -s "$2/logs/postgresql.log" ]' _ "$A" "$B"

finish
