#!/usr/bin/env bash
# local-stack.sh — a private MQTT 5 broker (mosquitto) and PostgreSQL cluster
# on 127.0.0.1 for development, demos and tests.
#
#   deploy/local-stack.sh start|stop|status|restart-broker|restart-db|env|destroy
#                         [--dir DIR] [--fresh]
#
# Everything (configuration, data, sockets, logs, pids) lives in DIR
# (default: <repo>/.uspc-local); several stacks in different DIRs run side by
# side. `start` prints, and writes to DIR/env, shell lines for the programs
# and tests:
#   export USPC_MQTT=mqtt://127.0.0.1:PORT
#   export USPC_DB=postgresql://uspc@127.0.0.1:PORT/uspc
#   export PGPASSFILE=DIR/pgpass      (the password; libpq reads it from there)
#   export USPC_STACK_DIR / USPC_MQTT_PORT / USPC_PG_PORT / USPC_PG_BIN
#   export USPC_AGENT_IDENTITY=optional  (the broker is anonymous, so nothing
#                                ties an agent to its topic level; uspc warns)
# so `eval "$(deploy/local-stack.sh start)"` or `. DIR/env` sets them up.
#
# Privileges: neither server ever runs as root. Started as root, PostgreSQL
# runs as the `postgres` system user (created by Debian's postgresql package;
# it owns DIR/pg, DIR/pg-run and its log file) and mosquitto is told
# `user mosquitto`, so it drops to that user right after opening its listener;
# it needs nothing writable (no persistence, no pid file of its own, logs via
# the stderr this script opened). Started as another user, both run as that
# user. The database superuser is the role `uspc`, with a random password
# that is only ever stored in DIR/pgpass (mode 600), never printed.
#
# This is a development stack: anonymous MQTT without TLS on loopback. See
# deploy/mosquitto/production.conf and README.md for production.
set -euo pipefail

SELF=$(basename "$0")
REPO=$(cd "$(dirname "$0")/.." && pwd -P)
TEMPLATE="$REPO/deploy/mosquitto/local.conf.in"
PORT_MIN=20000 # below Linux's ephemeral range (32768+), so outgoing
PORT_SPAN=12000 # connections never sit on the port we pick
START_TIMEOUT=60
PG_ROLE=uspc
PG_DB=uspc

die() {
	echo "$SELF: error: $*" >&2
	exit 1
}
note() { echo "$SELF: $*" >&2; }
is_root() { [ "$(id -u)" -eq 0 ]; }

usage() {
	cat <<EOF
usage: $SELF COMMAND [--dir DIR] [--fresh]

Commands:
  start           start mosquitto and PostgreSQL (idempotent), print the env lines
  stop            stop both servers (idempotent), keep the data
  status          say what runs, with ports (exit 0 only if both run)
  restart-broker  stop and start mosquitto on the same port
  restart-db      stop and start PostgreSQL on the same port, keeping the data
  env             print DIR/env
  destroy         stop both servers and delete DIR

Options:
  --dir DIR       state directory (default: $REPO/.uspc-local)
  --fresh         with start: delete the data of a stopped stack first
EOF
}

# ---------------------------------------------------------------- arguments
CMD=${1:-}
[ -n "$CMD" ] || {
	usage >&2
	exit 2
}
shift
DIR="$REPO/.uspc-local"
FRESH=0
while [ $# -gt 0 ]; do
	case $1 in
	--dir)
		[ $# -ge 2 ] || die "--dir needs a directory"
		DIR=$2
		shift 2
		;;
	--dir=*)
		DIR=${1#--dir=}
		shift
		;;
	--fresh)
		FRESH=1
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
done
case $CMD in
start | stop | status | restart-broker | restart-db | env | destroy) ;;
-h | --help | help)
	usage
	exit 0
	;;
*) die "unknown command '$CMD' (try --help)" ;;
esac
[ -n "$DIR" ] || die "--dir is empty"

# ---------------------------------------------------------------- tools
find_pg_bin() {
	if [ -n "${USPC_PG_BIN:-}" ] && [ -x "$USPC_PG_BIN/initdb" ]; then
		echo "$USPC_PG_BIN"
		return
	fi
	local d best=""
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && best=$d
	done
	[ -n "$best" ] || best=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")
	[ -x "$best/initdb" ] || die "PostgreSQL server binaries not found (install the 'postgresql' package: deploy/setup-deps.sh)"
	echo "$best"
}

need() {
	command -v "$1" >/dev/null 2>&1 || die "'$1' not found (run deploy/setup-deps.sh)"
}

# Paths inside DIR (set once DIR is absolute).
set_paths() {
	MQ_DIR="$DIR/mosquitto"
	MQ_CONF="$MQ_DIR/mosquitto.conf"
	MQ_PID="$MQ_DIR/mosquitto.pid"
	PG_DATA="$DIR/pg"
	PG_RUN="$DIR/pg-run"
	LOG_DIR="$DIR/logs"
	MQ_LOG="$LOG_DIR/mosquitto.log"
	PG_LOG="$LOG_DIR/postgresql.log"
	STATE="$DIR/state"
	ENV_FILE="$DIR/env"
	PGPASS="$DIR/pgpass"
}

# Run a PostgreSQL server command as the unprivileged user (pg_ctl and initdb
# refuse root). The lock descriptor is not passed on to the servers.
as_pg() {
	if is_root; then
		(cd "$DIR" && runuser -u "$PG_USER" -- "$@" 9>&-)
	else
		(cd "$DIR" && "$@" 9>&-)
	fi
}

# ---------------------------------------------------------------- state
state_get() { # key -> value or empty
	[ -r "$STATE" ] || return 0
	sed -n "s/^$1=\\([0-9]*\\)\$/\\1/p" "$STATE" | tail -n 1
}

state_write() {
	printf 'MQTT_PORT=%s\nPG_PORT=%s\n' "$MQTT_PORT" "$PG_PORT" >"$STATE.tmp"
	mv -f "$STATE.tmp" "$STATE"
}

env_lines() {
	cat <<EOF
export USPC_MQTT=mqtt://127.0.0.1:$MQTT_PORT
export USPC_DB=postgresql://$PG_ROLE@127.0.0.1:$PG_PORT/$PG_DB
export PGPASSFILE=$PGPASS
export USPC_STACK_DIR=$DIR
export USPC_MQTT_PORT=$MQTT_PORT
export USPC_PG_PORT=$PG_PORT
export USPC_PG_BIN=$PG_BIN
export USPC_AGENT_IDENTITY=optional
EOF
}

write_env() {
	env_lines >"$ENV_FILE.tmp"
	mv -f "$ENV_FILE.tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------- ports
port_in_use() {
	[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

pick_port() { # exclude -> free port
	local p i
	for i in $(seq 1 200); do
		p=$((PORT_MIN + (RANDOM * 32768 + RANDOM) % PORT_SPAN))
		[ "$p" = "${1:-}" ] && continue
		port_in_use "$p" || {
			echo "$p"
			return 0
		}
	done
	die "no free TCP port found in $PORT_MIN-$((PORT_MIN + PORT_SPAN - 1))"
}

log_tail() { # file first-line
	echo "---- last lines of $1 ----" >&2
	tail -n +"$2" "$1" 2>/dev/null | tail -n 25 >&2 || true
	echo "----" >&2
}

log_lines() { # number of lines in a file (0 if none)
	if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# ---------------------------------------------------------------- mosquitto
mq_pid() { # prints the pid if our mosquitto runs
	local pid
	[ -r "$MQ_PID" ] || return 1
	pid=$(cat "$MQ_PID" 2>/dev/null || true)
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	[ -r "/proc/$pid/cmdline" ] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$MQ_CONF" || return 1
	grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && return 1
	echo "$pid"
}

mq_write_conf() { # port
	local user_line="# (not started as root: runs as the invoking user)"
	if is_root; then
		user_line="user mosquitto"
	fi
	[ -r "$TEMPLATE" ] || die "missing template $TEMPLATE"
	sed -e "s|@PORT@|$1|g" -e "s|@USER_LINE@|$user_line|g" "$TEMPLATE" >"$MQ_CONF.tmp"
	mv -f "$MQ_CONF.tmp" "$MQ_CONF"
}

mq_ping() { # port: one MQTT 5 QoS 1 publish succeeds
	timeout 5 mosquitto_pub -h 127.0.0.1 -p "$1" -V mqttv5 -q 1 \
		-i "uspc-stack-probe-$$" -t uspc/local-stack/probe -m ping >/dev/null 2>&1
}

# Start mosquitto on a port; 0 on success, 2 if the port was taken, 1 otherwise.
mq_start_on() { # port
	local port=$1 first pid i
	mq_write_conf "$port"
	first=$(($(log_lines "$MQ_LOG") + 1))
	echo "== $(date -u +%FT%TZ) $SELF: starting mosquitto on 127.0.0.1:$port" >>"$MQ_LOG"
	(
		ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
		# Own session: a Ctrl-C meant for the caller (deploy/run.sh, ctest)
		# must not reach the broker. (This shell has no job control, so
		# setsid execs in place and $! stays the broker's pid.)
		exec setsid mosquitto -c "$MQ_CONF" </dev/null >>"$MQ_LOG" 2>&1 9>&-
	) &
	pid=$!
	echo "$pid" >"$MQ_PID"
	for i in $(seq 1 $((START_TIMEOUT * 5))); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null || true
			rm -f "$MQ_PID"
			if tail -n +"$first" "$MQ_LOG" | grep -q "Address already in use"; then
				return 2
			fi
			note "mosquitto exited during start-up"
			log_tail "$MQ_LOG" "$first"
			return 1
		fi
		# Ready when this very process listens on the port and answers MQTT
		# (another broker already on the port must not pass for ours).
		if ss -Hltnp "sport = :$port" 2>/dev/null | grep -q "pid=$pid," && mq_ping "$port"; then
			return 0
		fi
		sleep 0.2
	done
	note "mosquitto did not accept MQTT connections on 127.0.0.1:$port within ${START_TIMEOUT}s"
	log_tail "$MQ_LOG" "$first"
	mq_stop
	return 1
}

mq_start() { # [fixed] — keeps MQTT_PORT when fixed, else retries other ports
	local fixed=${1:-} rc try
	if mq_pid >/dev/null; then
		return 0
	fi
	for try in 1 2 3 4 5; do
		if [ -z "$MQTT_PORT" ] || { [ -z "$fixed" ] && port_in_use "$MQTT_PORT"; }; then
			MQTT_PORT=$(pick_port "$PG_PORT")
		fi
		rc=0
		mq_start_on "$MQTT_PORT" || rc=$?
		[ $rc -eq 0 ] && return 0
		[ $rc -eq 2 ] || return 1
		if [ -n "$fixed" ]; then
			note "port $MQTT_PORT is taken by another process; cannot restart mosquitto on the same port"
			return 1
		fi
		note "port $MQTT_PORT was taken meanwhile, trying another"
		MQTT_PORT=""
	done
	return 1
}

mq_stop() {
	local pid i
	pid=$(mq_pid) || {
		rm -f "$MQ_PID"
		return 0
	}
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 100); do
		mq_pid >/dev/null || break
		sleep 0.1
	done
	if mq_pid >/dev/null; then
		note "mosquitto (pid $pid) did not stop within 10 s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
		for i in $(seq 1 50); do
			mq_pid >/dev/null || break
			sleep 0.1
		done
	fi
	mq_pid >/dev/null && die "mosquitto (pid $pid) is still running"
	rm -f "$MQ_PID"
}

# ---------------------------------------------------------------- postgres
pg_running() {
	[ -f "$PG_DATA/postmaster.pid" ] || return 1
	as_pg "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

pg_socket_dir() { # port -> dir for the unix socket, empty if the path would be too long
	local path="$PG_RUN/.s.PGSQL.$1"
	if [ ${#path} -le 100 ]; then echo "$PG_RUN"; fi
}

pg_write_conf() { # port
	local sock
	sock=$(pg_socket_dir "$1")
	cat >"$PG_DATA/uspc_local.conf.tmp" <<EOF
# Written by deploy/local-stack.sh at every start; included from postgresql.conf.
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = '$sock'
unix_socket_permissions = 0700
max_connections = 200
shared_buffers = 128MB
# Durable like production (a test that kills a server must not lose
# acknowledged commits); only initdb skips fsync, to start fast.
fsync = on
synchronous_commit = on
wal_level = minimal
max_wal_senders = 0
log_destination = 'stderr'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
EOF
	if is_root; then chown "$PG_USER:" "$PG_DATA/uspc_local.conf.tmp"; fi
	mv -f "$PG_DATA/uspc_local.conf.tmp" "$PG_DATA/uspc_local.conf"
}

pg_init() {
	local pwfile="$DIR/.pw-init"
	note "creating PostgreSQL cluster in $PG_DATA"
	mkdir -p "$PG_DATA" "$PG_RUN"
	chmod 700 "$PG_DATA" "$PG_RUN"
	if is_root; then
		chown "$PG_USER:" "$PG_DATA" "$PG_RUN"
	fi
	# Password: random, stored only in DIR/pgpass (libpq's password file).
	local pw
	pw=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
	(umask 077 && printf '*:*:*:%s:%s\n' "$PG_ROLE" "$pw" >"$PGPASS")
	(umask 077 && printf '%s\n' "$pw" >"$pwfile")
	if is_root; then chown "$PG_USER:" "$pwfile"; fi
	if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_ROLE" --pwfile="$pwfile" \
		-A scram-sha-256 -E UTF8 --no-locale --no-sync --no-instructions \
		>>"$PG_LOG" 2>&1; then
		rm -f "$pwfile"
		log_tail "$PG_LOG" 1
		rm -rf "$PG_DATA"
		die "initdb failed"
	fi
	rm -f "$pwfile"
	echo "include_if_exists = 'uspc_local.conf'" >>"$PG_DATA/postgresql.conf"
	# Passwords over TCP from loopback and on our private socket; nothing else.
	cat >"$PG_DATA/pg_hba.conf" <<EOF
# Written by deploy/local-stack.sh: loopback and the private socket only.
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
EOF
	if is_root; then chown "$PG_USER:" "$PG_DATA/pg_hba.conf"; fi
	return 0
}

# Start PostgreSQL on a port; 0 on success, 2 if the port was taken, 1 otherwise.
pg_start_on() { # port
	local port=$1 first out
	pg_write_conf "$port"
	first=$(($(log_lines "$PG_LOG") + 1))
	# setsid: the postmaster gets its own session, out of reach of a Ctrl-C
	# meant for the caller (SIGINT would be a fast shutdown).
	if ! out=$(as_pg setsid "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t "$START_TIMEOUT" 2>&1); then
		[ -z "$out" ] || printf '%s\n' "$out" | sed "s/^/$SELF: pg_ctl: /" >&2
		if pg_running; then
			note "PostgreSQL did not become ready within ${START_TIMEOUT}s"
			log_tail "$PG_LOG" "$first"
			pg_stop
			return 1
		fi
		if tail -n +"$first" "$PG_LOG" | grep -q "Address already in use"; then
			return 2
		fi
		note "PostgreSQL failed to start"
		log_tail "$PG_LOG" "$first"
		return 1
	fi
	return 0
}

pg_psql() { # sql...
	PGPASSFILE="$PGPASS" PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -At \
		-h 127.0.0.1 -p "$PG_PORT" -U "$PG_ROLE" "$@"
}

pg_start() { # [fixed]
	local fixed=${1:-} rc try
	if pg_running; then
		return 0
	fi
	[ -f "$PG_DATA/PG_VERSION" ] || pg_init
	for try in 1 2 3 4 5; do
		if [ -z "$PG_PORT" ] || { [ -z "$fixed" ] && port_in_use "$PG_PORT"; }; then
			PG_PORT=$(pick_port "$MQTT_PORT")
		fi
		rc=0
		pg_start_on "$PG_PORT" || rc=$?
		[ $rc -eq 0 ] && break
		[ $rc -eq 2 ] || return 1
		if [ -n "$fixed" ]; then
			note "port $PG_PORT is taken by another process; cannot restart PostgreSQL on the same port"
			return 1
		fi
		note "port $PG_PORT was taken meanwhile, trying another"
		PG_PORT=""
	done
	pg_running || return 1
	if [ -z "$(pg_psql -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" ]; then
		pg_psql -d postgres -c "CREATE DATABASE $PG_DB OWNER $PG_ROLE" ||
			die "could not create database $PG_DB"
	fi
	[ "$(pg_psql -d "$PG_DB" -c 'SELECT 1')" = 1 ] || {
		log_tail "$PG_LOG" 1
		die "PostgreSQL runs but does not answer 'SELECT 1' on 127.0.0.1:$PG_PORT"
	}
}

pg_stop() {
	[ -f "$PG_DATA/PG_VERSION" ] || return 0
	pg_running || return 0
	if ! as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 >/dev/null 2>&1; then
		note "PostgreSQL did not stop within 60 s (fast); stopping it immediately"
		as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m immediate -w -t 30 >/dev/null 2>&1 || true
	fi
	pg_running && die "PostgreSQL in $PG_DATA is still running"
	return 0
}

# ---------------------------------------------------------------- commands
prepare_dir() { # create DIR (start) or require it (others); make DIR absolute
	if [ "$CMD" = start ]; then
		mkdir -p "$DIR"
	elif [ ! -d "$DIR" ]; then
		return 1
	fi
	DIR=$(cd "$DIR" && pwd -P)
	set_paths
	return 0
}

lock_dir() {
	exec 9>"$DIR/.lock"
	flock -w 180 9 || die "another $SELF is working on $DIR (lock held for 180 s)"
}

start_cleanup() {
	local rc=$?
	[ $rc -eq 0 ] && return 0
	note "start failed; stopping what this start started in $DIR"
	[ "$MQ_WAS_RUNNING" = 1 ] || mq_stop || true
	[ "$PG_WAS_RUNNING" = 1 ] || pg_stop || true
	exit $rc
}

cmd_start() {
	need mosquitto
	need mosquitto_pub
	need ss
	need flock
	if is_root; then need runuser; fi
	if [ "$FRESH" = 1 ] && [ -d "$DIR" ]; then
		prepare_dir
		lock_dir
		mq_stop
		pg_stop
		rm -rf "$PG_DATA" "$PG_RUN" "$MQ_DIR" "$LOG_DIR" "$STATE" "$ENV_FILE" "$PGPASS"
	else
		prepare_dir
		lock_dir
	fi
	if is_root; then
		chmod 755 "$DIR"
		runuser -u "$PG_USER" -- test -x "$DIR" ||
			die "user '$PG_USER' (which runs PostgreSQL when started as root) cannot reach $DIR: every parent directory must be searchable by it (o+x); choose another --dir"
	fi
	# From here on, a failed start stops what this invocation started.
	MQ_WAS_RUNNING=0
	PG_WAS_RUNNING=0
	if mq_pid >/dev/null; then MQ_WAS_RUNNING=1; fi
	if pg_running; then PG_WAS_RUNNING=1; fi
	trap start_cleanup EXIT
	mkdir -p "$MQ_DIR" "$LOG_DIR"
	touch "$MQ_LOG" "$PG_LOG"
	if is_root; then chown "$PG_USER:" "$PG_LOG"; fi
	MQTT_PORT=$(state_get MQTT_PORT)
	PG_PORT=$(state_get PG_PORT)
	mq_start || die "mosquitto did not start (log: $MQ_LOG)"
	state_write
	pg_start || die "PostgreSQL did not start (log: $PG_LOG)"
	state_write
	write_env
	trap - EXIT
	note "mosquitto on 127.0.0.1:$MQTT_PORT, PostgreSQL on 127.0.0.1:$PG_PORT (state in $DIR)"
	cat "$ENV_FILE"
}

cmd_stop() {
	prepare_dir || {
		note "no stack in $DIR (nothing to stop)"
		return 0
	}
	lock_dir
	mq_stop
	pg_stop
	note "stopped (data kept in $DIR)"
}

cmd_status() {
	prepare_dir || {
		echo "no stack in $DIR"
		return 1
	}
	local rc=0 pid
	MQTT_PORT=$(state_get MQTT_PORT)
	PG_PORT=$(state_get PG_PORT)
	if pid=$(mq_pid); then
		echo "mosquitto:  running (pid $pid) on 127.0.0.1:$MQTT_PORT"
	else
		echo "mosquitto:  not running${MQTT_PORT:+ (last port $MQTT_PORT)}"
		rc=1
	fi
	if pg_running; then
		echo "postgresql: running (pid $(head -n 1 "$PG_DATA/postmaster.pid")) on 127.0.0.1:$PG_PORT"
	else
		echo "postgresql: not running${PG_PORT:+ (last port $PG_PORT)}"
		rc=1
	fi
	echo "state dir:  $DIR"
	return $rc
}

cmd_restart() { # broker|db
	prepare_dir || die "no stack in $DIR (start it first)"
	lock_dir
	MQTT_PORT=$(state_get MQTT_PORT)
	PG_PORT=$(state_get PG_PORT)
	[ -n "$MQTT_PORT" ] && [ -n "$PG_PORT" ] || die "no stack in $DIR (start it first)"
	if [ "$1" = broker ]; then
		mq_stop
		mq_start fixed || die "mosquitto did not restart on port $MQTT_PORT (log: $MQ_LOG)"
		note "mosquitto restarted on 127.0.0.1:$MQTT_PORT"
	else
		pg_stop
		pg_start fixed || die "PostgreSQL did not restart on port $PG_PORT (log: $PG_LOG)"
		note "PostgreSQL restarted on 127.0.0.1:$PG_PORT"
	fi
}

cmd_destroy() {
	prepare_dir || return 0
	lock_dir
	mq_stop
	pg_stop
	exec 9>&-
	rm -rf "$DIR"
	note "destroyed $DIR"
}

PG_BIN=$(find_pg_bin)
PG_USER=postgres
if is_root; then
	id -u "$PG_USER" >/dev/null 2>&1 ||
		die "running as root, but there is no '$PG_USER' system user to run PostgreSQL (install the 'postgresql' package)"
fi

case $CMD in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
restart-broker) cmd_restart broker ;;
restart-db) cmd_restart db ;;
env)
	prepare_dir && [ -r "$ENV_FILE" ] || die "no env file in $DIR (start the stack first)"
	cat "$ENV_FILE"
	;;
destroy) cmd_destroy ;;
esac
