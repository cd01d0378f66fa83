#!/usr/bin/env bash
# run.sh — try uspc on this machine in one command: install the Debian
# packages, build (Release, in build-run), start a private mosquitto and
# PostgreSQL (.uspc-local), then the uspc daemon and 100 simulated agents
# against them. Stays in the foreground; Ctrl-C stops everything it started.
#
#   deploy/run.sh [--agents N]
#
# Logs: .uspc-local/logs/{uspc,usp-agent-sim,mosquitto,postgresql}.log
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd -P)
BUILD=${USPC_RUN_BUILD_DIR:-$REPO/build-run}
STACK_DIR=$REPO/.uspc-local
LOGS=$STACK_DIR/logs
AGENTS=100
JOBS=${USPC_JOBS:-2}

while [ $# -gt 0 ]; do
	case $1 in
	--agents)
		[ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] || {
			echo "run.sh: --agents needs a number" >&2
			exit 2
		}
		AGENTS=$2
		shift 2
		;;
	-h | --help)
		sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "run.sh: unknown argument '$1' (try --help)" >&2
		exit 2
		;;
	esac
done

say() { printf '\n==== %s\n' "$*"; }
die() {
	echo "run.sh: error: $*" >&2
	exit 1
}

started_stack=0
pids=()
names=()

stop_child() { # pid name
	local pid=$1 name=$2 i
	kill -0 "$pid" 2>/dev/null || return 0
	echo "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "$name did not stop within 15 s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	# Reverse order: agents, then the daemon, then the servers.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		stop_child "${pids[$i]}" "${names[$i]}"
	done
	if [ $started_stack = 1 ]; then
		"$REPO/deploy/local-stack.sh" stop --dir "$STACK_DIR" || true
	fi
	exit $rc
}
trap cleanup EXIT
trap 'echo; echo "run.sh: stopping"; exit 0' INT TERM

say "dependencies"
"$REPO/deploy/setup-deps.sh" || die "could not install the dependencies"

say "build (Release, $BUILD)"
cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DUSPC_TESTS=OFF >/dev/null ||
	die "cmake configure failed"
cmake --build "$BUILD" -j "$JOBS" || die "build failed"

say "local stack ($STACK_DIR)"
if ! "$REPO/deploy/local-stack.sh" status --dir "$STACK_DIR" >/dev/null 2>&1; then
	started_stack=1
fi
"$REPO/deploy/local-stack.sh" start --dir "$STACK_DIR" >/dev/null || die "the local stack did not start"
# shellcheck disable=SC1091
. "$STACK_DIR/env"
mkdir -p "$LOGS"

# start_prog name log args... — start a program of ours in its own session
# (so Ctrl-C reaches only this script, which then stops it with SIGTERM).
start_prog() {
	local name=$1 log=$2
	shift 2
	local bin=$BUILD/bin/$name
	if [ ! -x "$bin" ]; then
		echo "$name: not built yet ($bin does not exist) — skipped"
		return 0
	fi
	setsid "$bin" "$@" </dev/null >>"$log" 2>&1 &
	local pid=$!
	sleep 1
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid"
		echo "$name exited at start (status $?); last lines of $log:"
		tail -n 20 "$log"
		die "$name did not start"
	fi
	pids+=("$pid")
	names+=("$name")
	echo "$name: running (pid $pid), log $log"
}

say "programs"
start_prog uspc "$LOGS/uspc.log"
start_prog usp-agent-sim "$LOGS/usp-agent-sim.log" --agents "$AGENTS"

# Wait until the fleet is in the inventory, onboarded (DeviceInfo read and
# subscriptions made), so the commands below work the moment they are shown.
if [ ${#pids[@]} -eq 2 ]; then
	say "onboarding $AGENTS simulated agents"
	t0=$SECONDS
	n=0
	while [ $((SECONDS - t0)) -lt 120 ]; do
		n=$(psql "$USPC_DB" -XAtq -c "SELECT count(*) FROM agents WHERE online AND onboarded_at IS NOT NULL" 2>/dev/null || echo 0)
		[ "${n:-0}" -ge "$AGENTS" ] && break
		for i in "${!pids[@]}"; do
			kill -0 "${pids[$i]}" 2>/dev/null || break 2
		done
		sleep 0.5
	done
	if [ "${n:-0}" -ge "$AGENTS" ]; then
		echo "$n of $AGENTS agents online and onboarded after $((SECONDS - t0)) s"
	else
		echo "only ${n:-0} of $AGENTS agents onboarded after $((SECONDS - t0)) s; see $LOGS/uspc.log"
	fi
fi

say "running"
cat <<EOF
broker:      $USPC_MQTT   (mosquitto, MQTT 5, loopback only)
database:    $USPC_DB   (password in $PGPASSFILE)
programs:    ${names[*]:-none (not built yet)}
logs:        $LOGS/

Try, in another shell:
  . $STACK_DIR/env                       # USPC_MQTT, USPC_DB, PGPASSFILE
  tail -f $LOGS/uspc.log
  psql "\$USPC_DB" -c '\\dt'              # the daemon's tables
  psql "\$USPC_DB" -c 'SELECT * FROM agents LIMIT 10'
  mosquitto_sub -V mqttv5 -h 127.0.0.1 -p $USPC_MQTT_PORT -t 'usp/#' -F '%t %l bytes'
  export PATH=$BUILD/bin:\$PATH
  echo '{"id":"inv","op":"list_agents"}' | uspctl | head -2
  echo '{"id":"fw","op":"get","targets":{"all":true},"paths":"Device.DeviceInfo.SoftwareVersion"}' | uspctl | head -3
  uspctl --help                          # more: README "Try it", docs/uspctl.md

Ctrl-C stops ${names[*]:+${names[*]} and }the local stack.
EOF

# Stay in the foreground; if a program dies, say so and stop the rest.
while true; do
	for i in "${!pids[@]}"; do
		if ! kill -0 "${pids[$i]}" 2>/dev/null; then
			wait "${pids[$i]}"
			st=$?
			echo "run.sh: ${names[$i]} exited (status $st); last lines of its log:" >&2
			tail -n 20 "$LOGS/${names[$i]}.log" >&2
			unset "pids[$i]" "names[$i]"
			pids=("${pids[@]}")
			names=("${names[@]}")
			exit 1
		fi
	done
	sleep 1
done
