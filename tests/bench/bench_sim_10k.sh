#!/usr/bin/env bash
# bench_sim_10k.sh — usp-agent-sim at scale: connect N simulated agents
# (default 10,000) to a private local mosquitto, then send one Get of
# Device.DeviceInfo. to every agent from one fake controller (usp-probe
# fan-out) and collect every answer. Reports connect time, RSS per agent
# and Gets answered per second (plus p50/p99 latency at the window used).
#
#   tests/bench/bench_sim_10k.sh [--agents N] [--rate R] [--window W]
#                                [--bin DIR] [--workers W]
# --bin defaults to ./build/bin. Starts and stops its own broker (and
# database, unused) with deploy/local-stack.sh in a temporary directory.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
AGENTS=10000
RATE=2000
WINDOW=500
BIN=$REPO/build/bin
WORKERS=""
while [ $# -gt 0 ]; do
	case $1 in
	--agents) AGENTS=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--window) WINDOW=$2; shift 2 ;;
	--bin) BIN=$2; shift 2 ;;
	--workers) WORKERS="--workers $2"; shift 2 ;;
	*) echo "usage: $0 [--agents N] [--rate R] [--window W] [--bin DIR] [--workers W]" >&2; exit 2 ;;
	esac
done
[ -x "$BIN/usp-agent-sim" ] && [ -x "$BIN/usp-probe" ] || { echo "bench_sim_10k: build usp-agent-sim and usp-probe into $BIN first" >&2; exit 2; }

WORK=$(mktemp -d /tmp/bench-sim.XXXXXX)
chmod 755 "$WORK" # the stack drops privileges and must reach it
SIM_PID=""
cleanup() {
	[ -n "$SIM_PID" ] && kill -TERM "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null || true
	"$REPO/deploy/local-stack.sh" stop --dir "$WORK/stack" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

"$REPO/deploy/local-stack.sh" start --dir "$WORK/stack" >/dev/null
# shellcheck disable=SC1091
. "$WORK/stack/env"
CTRL=self::bench-$$
now() { date +%s.%N; }
calc() { awk "BEGIN { print $1 }"; } # floating point without bc

t0=$(now)
# shellcheck disable=SC2086
"$BIN/usp-agent-sim" --agents "$AGENTS" --connect-rate "$RATE" --status-interval 1 \
	--host-churn 0 --controller-id "$CTRL" --controller-topic "usp/controller/bench-$$" \
	$WORKERS 2>"$WORK/sim.log" &
SIM_PID=$!
online=0
while [ "$online" -lt "$AGENTS" ]; do
	sleep 0.2
	kill -0 "$SIM_PID" 2>/dev/null || { tail "$WORK/sim.log" >&2; echo "bench_sim_10k: simulator died" >&2; exit 1; }
	online=$(grep -o 'online [0-9]*' "$WORK/sim.log" | tail -1 | awk '{print $2}' || true)
	online=${online:-0}
	# (parenthesised: a bare `print x > 300` in awk writes to a file "300")
	if [ "$(calc "(($(now) - $t0) > 300)")" -eq 1 ]; then
		echo "bench_sim_10k: only $online of $AGENTS online after 300 s" >&2
		exit 1
	fi
done
t1=$(now)
connect_s=$(calc "$t1 - $t0")
sleep 2 # let Boot!/connect records drain before measuring

rss_kb=0
for p in "$SIM_PID" $(pgrep -P "$SIM_PID"); do
	r=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status")
	rss_kb=$((rss_kb + r))
done
workers=$(pgrep -c -P "$SIM_PID")
broker_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$(cat "$WORK/stack/mosquitto/mosquitto.pid")/status" 2>/dev/null || echo "?")

fan=$("$BIN/usp-probe" --id "$CTRL" --topic "usp/controller/bench-$$/fan" \
	--fanout-pattern "os::00D09E-SIM%06d" --fanout-count "$AGENTS" --window "$WINDOW" --timeout 300 \
	'{"type":"get","param_paths":["Device.DeviceInfo."]}') || true

echo "usp-agent-sim bench: $AGENTS agents, $workers worker process(es), connect rate limit $RATE/s"
printf 'connect time (start until all online): %.1f s (%.0f agents/s)\n' "$connect_s" "$(calc "$AGENTS / $connect_s")"
printf 'simulator RSS: %d MiB total, %.1f KiB per agent (broker RSS %s KiB)\n' \
	"$((rss_kb / 1024))" "$(calc "$rss_kb / $AGENTS")" "$broker_kb"
echo "Get Device.DeviceInfo. to every agent (window $WINDOW): $fan"
echo "$fan" | grep -q "\"answered\":$AGENTS," || { echo "bench_sim_10k: not every agent answered" >&2; exit 1; }
