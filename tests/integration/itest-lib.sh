# shellcheck shell=bash disable=SC2034 # (settings and results read by the tests)
# itest-lib.sh — the one library of the shell integration tests (sourced,
# not a test itself). Every tests/integration/**/test_*.sh sources it first,
# then, if it needs them, the helpers of its area, which only add to it:
#   itest-core.sh    the uspc daemon's tests (core/test_core_*.sh)
#   itest-sim.sh     usp-agent-sim's tests (test_sim_*.sh)
#   itest-uspctl.sh  uspctl's tests (test_uspctl_*.sh)
#
# What it gives a test:
#   - strict mode; W, its work dir ($USPC_TEST_WORK_DIR, emptied by
#     with-stack.sh); T, its name (the script's name without test_ and .sh);
#     the programs of the build: USPC, SIM_BIN, PROBE, USPCTL;
#   - log, fail (the message, then the tail of every $W/*.log), need;
#   - one cleanup on EXIT: area hooks (at_cleanup), then every process the
#     test started (thawed, SIGTERM, SIGKILL after 10 s), the daemons' MQTT
#     sessions, its databases and private stacks; then the sanitizer check:
#     in a sanitizer build a report in any $W/*.log or $W/*.err fails the
#     test even when it came while a program shut down in this trap;
#   - processes: track, stop_pid (SIGTERM, its exit status), kill_pid,
#     alive, wait_exit, freeze_sim / thaw_sim;
#   - one way to start each program, every one logging into $W and stopped
#     by the cleanup: spawn_uspc / start_uspc (the daemon; metrics_base: the
#     address of its /metrics), start_sim (the simulator), probe_bg /
#     wait_bg (usp-probe in the background);
#   - PostgreSQL: new_db, q, wait_sql; private_stack; free_port; wait_log,
#     count_lines; notify_listen (systemd's notify socket, for the daemons'
#     notify tests).
#
# An area sets, before it starts programs: CTL_EID (the controller endpoint
# ID), EID_PATTERN (the agents' endpoint IDs, a printf pattern), and may set
# USPC_ARGS / SIM_ARGS (flags every daemon / simulator gets first),
# USPC_NODE (the daemons' node id; default "$T-NAME"), SIM_STATE_DIRS=1
# (each simulator keeps its state in $W/sim-NAME) and
# USPC_CONNECT_TIMEOUT (start_uspc's patience, default 20 s).
#
# Needs: USPC_BIN_DIR, USPC_TEST_WORK_DIR (ctest sets them), and for most
# tests USPC_MQTT / USPC_DB (exported by with-stack.sh) and USPC_SOURCE_DIR,
# USPC_LOCAL_STACK.
set -euo pipefail

: "${USPC_BIN_DIR:?USPC_BIN_DIR must point at the bin directory of the build}"
: "${USPC_TEST_WORK_DIR:?USPC_TEST_WORK_DIR must name the work dir of the test (run through ctest)}"
W=$USPC_TEST_WORK_DIR
mkdir -p "$W"
T=$(basename "$0" .sh)
T=${T#test_}
USPC=$USPC_BIN_DIR/uspc
SIM_BIN=$USPC_BIN_DIR/usp-agent-sim
PROBE=$USPC_BIN_DIR/usp-probe
USPCTL=$USPC_BIN_DIR/uspctl

CTL_EID=""
EID_PATTERN=""
USPC_ARGS=()
SIM_ARGS=()
USPC_NODE=""
SIM_STATE_DIRS=0
USPC_CONNECT_TIMEOUT=20

PIDS=()           # every process started: the cleanup stops them
DBS=()            # databases made by new_db on the shared server
MQTT_SESSIONS=()  # "url client_id" of every daemon started
PRIVATE_STACKS=() # stacks started by private_stack
CLEANUP_HOOKS=()  # functions the cleanup runs first (at_cleanup)

# ---- reporting -------------------------------------------------------------

log() { echo "[$(date +%H:%M:%S)] $T: $*" >&2; }

# fail MESSAGE — log it with the tail of every log in $W, and exit 1.
fail() {
	log "FAIL: $*"
	local f
	for f in "$W"/*.log; do
		[ -f "$f" ] || continue
		echo "----- tail of $f" >&2
		tail -n 25 "$f" >&2
	done
	exit 1
}

# need CMD... — fail unless every CMD is installed.
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || fail "$c is required"
	done
}

# Printed lines that only a sanitizer writes (ASan, LSan, UBSan, TSan).
SANITIZER_REPORT_RE='ERROR: (Address|Leak)Sanitizer|runtime error:|WARNING: ThreadSanitizer'

# sanitizer_reports DIR — print the *.log and *.err files directly in DIR
# that hold a sanitizer report; status 0 when there is at least one. (File
# by file: one grep over all would exit 2, hiding the report, when a
# pattern matches no file, e.g. a work dir without *.err files.)
sanitizer_reports() {
	local f found=1
	for f in "$1"/*.log "$1"/*.err; do
		[ -f "$f" ] || continue
		if grep -q -E "$SANITIZER_REPORT_RE" "$f"; then
			echo "$f"
			found=0
		fi
	done
	return $found
}

# ---- cleanup ---------------------------------------------------------------

# at_cleanup FUNC — run FUNC first when the test exits (e.g. thaw a frozen
# server, so the processes below can stop).
at_cleanup() { CLEANUP_HOOKS+=("$1"); }

cleanup() {
	local rc=$? h p s d sess
	set +e
	for h in "${CLEANUP_HOOKS[@]}"; do "$h" >/dev/null 2>&1; done
	for p in "${PIDS[@]}"; do
		ours "$p" || continue
		# shellcheck disable=SC2046
		kill -CONT "$p" $(pgrep -P "$p" 2>/dev/null) 2>/dev/null # thaw frozen simulators
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do ours "$p" && kill_pid "$p"; done
	# The daemons keep durable MQTT sessions (mqtt_session_expiry); end them
	# so a later test on the same broker finds no stale session or queued
	# messages: a clean-start connect with the same client id discards it.
	for sess in "${MQTT_SESSIONS[@]}"; do
		timeout 5 mosquitto_sub -L "${sess% *}/uspc-test-end-session" -V mqttv5 -i "${sess#* }" -E \
			>/dev/null 2>&1
	done
	for d in "${DBS[@]}"; do
		psql -XAtq "$USPC_DB" -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1
	done
	for s in "${PRIVATE_STACKS[@]}"; do "$USPC_LOCAL_STACK" stop --dir "$s" >/dev/null 2>&1; done
	# Sanitizer builds: a report from any program we ran fails the test.
	if sanitizer_reports "$W"; then
		log "FAIL: sanitizer report in the files above"
		[ $rc -ne 0 ] || rc=1
	fi
	exit $rc
}
trap cleanup EXIT

# ---- processes -------------------------------------------------------------

# ours PID — PID is still a child of this test's shell. A tracked process
# the test already stopped and reaped is not: its number may belong to
# another program by now (another test's, running beside this one), which
# the cleanup must not signal.
ours() { [ "$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')" = "$$" ]; }

# track PID — the cleanup stops PID.
track() { PIDS+=("$1"); }

# stop_pid PID — SIGTERM and wait; returns its exit status.
stop_pid() {
	local rc=0
	kill -TERM "$1"
	wait "$1" || rc=$?
	return $rc
}

# kill_pid PID — stop PID whatever it does: SIGTERM, SIGKILL if it still
# runs after 10 s; reaps it. Never fails.
kill_pid() {
	[ -n "${1:-}" ] || return 0
	kill -TERM "$1" 2>/dev/null || true
	for _ in $(seq 100); do alive "$1" || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# alive PID — the process runs (an exited child not yet waited for is a
# zombie, which kill -0 still finds).
alive() {
	local s
	s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $s != Z* ]]
}

# wait_exit PID TIMEOUT_S — wait up to TIMEOUT_S for child PID to exit; sets
# EXIT_RC to its exit status and returns 0, or returns 1 if it still runs.
wait_exit() {
	local end=$((SECONDS + $2))
	while alive "$1"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.1
	done
	EXIT_RC=0
	wait "$1" || EXIT_RC=$?
}

# freeze_sim PID / thaw_sim PID — stop / continue a simulator and its worker
# processes (its agents then neither send nor answer; their connections stay).
freeze_sim() {
	# shellcheck disable=SC2046
	kill -STOP $(pgrep -P "$1") "$1"
}
thaw_sim() {
	# shellcheck disable=SC2046
	kill -CONT "$1" $(pgrep -P "$1")
}

# free_port — a TCP port of 127.0.0.1 nobody listens on, below the
# ephemeral range.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

# count_lines FILE REGEX — how many lines of FILE match REGEX (0 if none,
# or no such file).
count_lines() {
	local n
	n=$(grep -Ec "$2" "$1" 2>/dev/null || true)
	echo "${n:-0}"
}

# wait_log FILE REGEX TIMEOUT_S — until a line of FILE matches REGEX.
wait_log() {
	local end=$((SECONDS + $3))
	while [ $SECONDS -lt $end ]; do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	fail "after $3s: no line matching '$2' in $1"
}

# ---- programs --------------------------------------------------------------

# spawn_uspc NAME [flags...] — start a daemon for this test's endpoint ID
# (its database DB_URL, its node id USPC_NODE or "$T-NAME", its metrics
# listener on an ephemeral loopback port so that daemons never clash, then
# USPC_ARGS and the flags) and return at once; sets PID_<NAME>. Logs to
# $W/NAME.log.
spawn_uspc() {
	local name=$1
	shift
	local node=${USPC_NODE:-$T-$name} url=$USPC_MQTT a prev="" pid
	local args=(--db "$DB_URL" --endpoint-id "$CTL_EID" --node-id "$node"
		--metrics-listen 127.0.0.1:0 "${USPC_ARGS[@]}" "$@")
	for a in "${args[@]}"; do
		case $prev in --node-id) node=$a ;; --mqtt) url=$a ;; esac
		prev=$a
	done
	case " ${MQTT_SESSIONS[*]:-} " in *" uspc-$node "*) ;; *) MQTT_SESSIONS+=("$url uspc-$node") ;; esac
	"$USPC" "${args[@]}" >>"$W/$name.log" 2>&1 &
	pid=$!
	track "$pid"
	printf -v "PID_$name" '%s' "$pid"
}

# start_uspc NAME [flags...] — spawn_uspc, then wait (USPC_CONNECT_TIMEOUT)
# until it logs a new "MQTT connected" (so a restart into the same log
# waits for its own connection); fails if it exits first.
start_uspc() {
	local log=$W/$1.log before end pid
	before=$(count_lines "$log" "MQTT connected")
	spawn_uspc "$@"
	pid=PID_$1
	pid=${!pid}
	end=$((SECONDS + USPC_CONNECT_TIMEOUT))
	while [ "$(count_lines "$log" "MQTT connected")" -le "$before" ]; do
		alive "$pid" || fail "uspc $1 exited at start"
		[ $SECONDS -lt $end ] || fail "after ${USPC_CONNECT_TIMEOUT}s: uspc $1 did not connect to the broker"
		sleep 0.1
	done
}

# metrics_base NAME — "http://ADDRESS" of daemon NAME's metrics listener,
# from the last "metrics on http://ADDRESS/metrics" line of $W/NAME.log
# (waits up to 10 s for it).
metrics_base() {
	wait_log "$W/$1.log" 'metrics on http://[^ ]*/metrics' 10
	grep -o 'metrics on http://[^ ]*/metrics' "$W/$1.log" | tail -n 1 |
		sed -e 's|^metrics on ||' -e 's|/metrics$||'
}

# start_sim NAME N [flags...] — N simulated agents (EID_PATTERN) for this
# test's controller (SIM_ARGS, then the flags), in the background; sets
# PID_sim_<NAME>. Logs to $W/sim-NAME.log.
start_sim() {
	local name=$1 n=$2 pid state=()
	shift 2
	if [ "$SIM_STATE_DIRS" = 1 ]; then
		mkdir -p "$W/sim-$name"
		state=(--state-dir "$W/sim-$name")
	fi
	"$SIM_BIN" --agents "$n" --controller-id "$CTL_EID" --eid-pattern "$EID_PATTERN" \
		"${SIM_ARGS[@]}" "${state[@]}" "$@" >>"$W/sim-$name.log" 2>&1 &
	pid=$!
	track "$pid"
	printf -v "PID_sim_$name" '%s' "$pid"
}

# probe_bg NAME [usp-probe options...] — usp-probe in the background, its
# output in $W/NAME.out and $W/NAME.err; sets BG_<NAME>.
probe_bg() {
	local name=$1
	shift
	"$PROBE" "$@" >"$W/$name.out" 2>"$W/$name.err" &
	track $!
	printf -v "BG_$name" '%s' "$!"
}

# wait_bg NAME — wait for the probe probe_bg NAME started; fail if it failed.
wait_bg() {
	local pid=BG_$1
	wait "${!pid}" || fail "background probe $1 failed: $(cat "$W/$1.err")"
}

# notify_listen SOCKET LOG — play systemd's notify socket: a datagram
# socket at SOCKET whose messages go to LOG, one line each (their newlines
# as ';'); the cleanup stops it. Point NOTIFY_SOCKET at SOCKET.
notify_listen() {
	rm -f "$1" "$2"
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(65536).decode().strip("\n").replace("\n", ";") + "\n")
' "$1" "$2" &
	track "$!"
	for _ in $(seq 50); do [ -S "$1" ] && break; sleep 0.1; done
	[ -S "$1" ] || fail "notify socket $1 not created"
}

# ---- PostgreSQL and private stacks -----------------------------------------

# new_db NAME [BASE_URL] — create a database, set DB_URL to it. The cleanup
# drops it when it is on the shared server.
new_db() {
	local name=$1 base=${2:-$USPC_DB}
	psql -XAtq "$base" -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null
	psql -XAtq "$base" -c "CREATE DATABASE \"$name\"" >/dev/null
	[ "$base" = "$USPC_DB" ] && DBS+=("$name")
	DB_URL="${base%/*}/$name"
}

q() { psql -XAtq "$DB_URL" -c "$1"; }

# wait_sql SQL EXPECTED TIMEOUT_S — poll until the query prints EXPECTED.
wait_sql() {
	local sql=$1 want=$2 t=$3 got="" end=$((SECONDS + $3))
	while [ $SECONDS -lt $end ]; do
		got=$(q "$sql" 2>/dev/null || true)
		[ "$got" = "$want" ] && return 0
		sleep 0.3
	done
	fail "after ${t}s: '$sql' gave '$got', wanted '$want'"
}

# private_stack DIR — start a private mosquitto + PostgreSQL in DIR (for a
# test that restarts or stops a server), source its env (USPC_MQTT,
# USPC_DB...). The cleanup stops it.
private_stack() {
	local dir=$1
	: "${USPC_LOCAL_STACK:?}"
	PRIVATE_STACKS+=("$dir")
	"$USPC_LOCAL_STACK" start --dir "$dir" >/dev/null
	# shellcheck disable=SC1091
	. "$dir/env"
}
