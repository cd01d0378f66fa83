#!/usr/bin/env bash
# run.sh — try uspc on this machine in one command: install the Debian
# packages, build (Release, in build-run), start a private mosquitto and
# PostgreSQL (.uspc-local), then the uspc daemon and 100 simulated USP
# agents against them, uspc-api with the web console (127.0.0.1:8480, or a
# free port if that one is taken) and an admin token, and the TR-069 ACS
# uspc-acs (127.0.0.1:7547, or a free port) with 10 simulated TR-069 CPEs.
# Stays in the foreground; Ctrl-C stops everything it started.
#
#   deploy/run.sh [--agents N] [--cwmp N]
#
# Logs: .uspc-local/logs/{uspc,usp-agent-sim,uspc-api,uspc-acs,cwmp-sim,
#       mosquitto,postgresql}.log
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd -P)
BUILD=${USPC_RUN_BUILD_DIR:-$REPO/build-run}
STACK_DIR=$REPO/.uspc-local
LOGS=$STACK_DIR/logs
AGENTS=100
CWMP=10
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
	--cwmp)
		[ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] || {
			echo "run.sh: --cwmp needs a number (0: no TR-069 ACS)" >&2
			exit 2
		}
		CWMP=$2
		shift 2
		;;
	-h | --help)
		sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
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
	# Reverse order: the API, agents, then the daemon, then the servers.
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
# name may be label=program when one program runs twice.
start_prog() {
	local name=${1%%=*} log=$2
	local bin=$BUILD/bin/${1#*=}
	shift 2
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

# The HTTP API and the web console: on 127.0.0.1:8480 unless another
# process listens there, else on a free port, which its log line names
# ("listening on http://127.0.0.1:PORT/").
api_url="" token=""
if [ -x "$BUILD/bin/uspc-api" ]; then
	say "HTTP API and web console"
	api_listen=127.0.0.1:8480
	if [ -n "$(ss -Hltn 'sport = :8480' 2>/dev/null)" ]; then
		echo "port 8480 is taken: uspc-api takes a free port"
		api_listen=127.0.0.1:0
	fi
	# Read the log from here on (it is appended to across runs).
	api_log_from=$(($(stat -c %s "$LOGS/uspc-api.log" 2>/dev/null || echo 0) + 1))
	start_prog uspc-api "$LOGS/uspc-api.log" --listen "$api_listen" --console "$REPO/console"
	t0=$SECONDS
	while [ $((SECONDS - t0)) -lt 40 ]; do
		api_url=$(tail -c "+$api_log_from" "$LOGS/uspc-api.log" |
			sed -nE 's|.* listening on (https?://[^ ]+/) .*|\1|p' | head -n 1)
		[ -n "$api_url" ] && break
		kill -0 "${pids[${#pids[@]} - 1]}" 2>/dev/null || break
		sleep 0.2
	done
	[ -n "$api_url" ] || die "uspc-api did not say where it listens; see $LOGS/uspc-api.log"
	# An admin token for the console and curl, named run-sh: the previous
	# run's is revoked first (a live name cannot be created twice). Kept in
	# $STACK_DIR/api-token (mode 600) for other shells.
	echo '{"op":"token_revoke","name":"run-sh"}' | "$BUILD/bin/uspctl" -q >/dev/null 2>&1
	token=$(echo '{"op":"token_create","name":"run-sh","role":"admin"}' | "$BUILD/bin/uspctl" 2>&1 |
		sed -nE 's/.*"token":"(uspc_[^"]+)".*/\1/p')
	[ -n "$token" ] || die "uspctl could not create the admin token run-sh"
	(umask 077 && echo "$token" >"$STACK_DIR/api-token")
	echo "uspc-api: $api_url, admin token run-sh (also in $STACK_DIR/api-token)"
fi

# The TR-069 ACS and simulated CPEs (docs/tr069.md): CPE and
# connection-request passwords derive from two keys kept in $STACK_DIR.
acs_url=""
if [ "$CWMP" -gt 0 ] && [ -x "$BUILD/bin/uspc-acs" ]; then
	say "TR-069 ACS and $CWMP simulated CPEs"
	for k in cpe cr; do
		[ -s "$STACK_DIR/$k.key" ] || (umask 077 && head -c 32 /dev/urandom | base64 >"$STACK_DIR/$k.key")
	done
	acs_listen=127.0.0.1:7547
	if [ -n "$(ss -Hltn 'sport = :7547' 2>/dev/null)" ]; then
		echo "port 7547 is taken: uspc-acs takes a free port"
		acs_listen=127.0.0.1:0
	fi
	acs_log_from=$(($(stat -c %s "$LOGS/uspc-acs.log" 2>/dev/null || echo 0) + 1))
	start_prog uspc-acs "$LOGS/uspc-acs.log" --listen "$acs_listen" --metrics-listen 127.0.0.1:0 \
		--cpe-password-key-file "$STACK_DIR/cpe.key" --cr-password-key-file "$STACK_DIR/cr.key"
	t0=$SECONDS
	while [ $((SECONDS - t0)) -lt 40 ]; do
		acs_url=$(tail -c "+$acs_log_from" "$LOGS/uspc-acs.log" |
			sed -nE 's|.* CWMP on (https?://[^ ]+/),.*|\1|p' | head -n 1)
		[ -n "$acs_url" ] && break
		kill -0 "${pids[${#pids[@]} - 1]}" 2>/dev/null || break
		sleep 0.2
	done
	[ -n "$acs_url" ] || die "uspc-acs did not say where it listens; see $LOGS/uspc-acs.log"
	echo "uspc-acs: $acs_url"
	start_prog cwmp-sim=usp-agent-sim "$LOGS/cwmp-sim.log" --protocol cwmp --agents "$CWMP" \
		--acs-url "$acs_url" --serial-pattern 'CWMP%06d' \
		--acs-user-pattern '00D09E-CWMP%06d' --acs-password-key-file "$STACK_DIR/cpe.key" \
		--cr-user-pattern '00D09E-CWMP%06d' --cr-password-key-file "$STACK_DIR/cr.key" \
		--inform-interval 300
	t0=$SECONDS
	n=0
	while [ $((SECONDS - t0)) -lt 60 ]; do
		n=$(psql "$USPC_DB" -XAtq -c "SELECT count(*) FROM cwmp_devices WHERE last_inform_at IS NOT NULL" 2>/dev/null || echo 0)
		[ "${n:-0}" -ge "$CWMP" ] && break
		sleep 0.5
	done
	echo "${n:-0} of $CWMP TR-069 CPEs in the inventory after $((SECONDS - t0)) s"
fi

say "running"
cat <<EOF
broker:      $USPC_MQTT   (mosquitto, MQTT 5, loopback only)
database:    $USPC_DB   (password in $PGPASSFILE)
programs:    ${names[*]:-none (not built yet)}
logs:        $LOGS/
EOF
if [ -n "$api_url" ]; then
	cat <<EOF
console:     $api_url   (open it in a browser, sign in with the token)
API token:   $token   (admin, named run-sh)

The HTTP API (docs/api.md), in another shell:
  TOKEN=\$(cat $STACK_DIR/api-token)
  curl -H "Authorization: Bearer \$TOKEN" ${api_url}api/v1/fleet
  curl -H "Authorization: Bearer \$TOKEN" '${api_url}api/v1/agents?limit=2'
EOF
fi
cat <<EOF

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
EOF
if [ -n "$acs_url" ]; then
	cat <<EOF

TR-069 (docs/tr069.md): $CWMP CPEs inform $acs_url every 300 s; a task
wakes its CPE at once with a connection request:
  echo '{"id":"tr","op":"get","targets":{"eid":"ops::*"},"paths":"Device.DeviceInfo.SoftwareVersion"}' | uspctl | head -3
  echo '{"id":"rb","op":"operate","targets":"ops::00D09E-SIMGW-CWMP000001","command":"Device.Reboot()"}' | uspctl
EOF
fi
cat <<EOF

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
