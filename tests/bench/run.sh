#!/usr/bin/env bash
# tests/bench/run.sh — the whole-stack benchmark of uspc (issue 6).
#
#   tests/bench/run.sh [--quick] [options]
#
# Builds uspc, usp-agent-sim, uspctl and the ceiling probe in Release mode
# (build-bench/), starts a private local stack (mosquitto + PostgreSQL via
# deploy/local-stack.sh) in its own directory, runs the scenarios, stops
# everything it started (trap on exit) and prints ONE JSON line per
# scenario on stdout:
#   ceiling           the broker alone: bench_ceiling round trips/s, p50/p99
#   transport         uspc's own MQTT layer (mqtt_mtp on Paho) alone against
#                     the same broker: bench_mtp_echo, as a ratio to the
#                     ceiling (the most any uspc scenario could reach)
#   onboarding_storm  N agents start at once against a fresh database:
#                     seconds until every one is in the inventory with its
#                     DeviceInfo fields and its 5 standard subscriptions
#   memory            uspc RSS per connected agent, simulator PSS per agent
#   fanout_get        uspctl get Device.DeviceInfo. to 1,000 (and N) agents:
#                     Gets/s end to end with results persisted, p50/p99
#   notify_latency    1,000 ValueChange notifications/s for 20 s: p50/p99 of
#                     the agents' wait for NotifyResp (sent after the commit)
#   notify_ingest     ValueChange notifications with send_resp at a rising
#                     total rate: highest rate sustained with zero loss
#   campaign          a firmware campaign over the fleet in 3 waves: seconds
#                     until finished, uspc + PostgreSQL CPU per device, beside
#                     a fleet Get's (USPC_BENCH_CAMPAIGN_INFLIGHT: max_inflight)
#   api               uspc-api: requests/s of an agent page and of paging
#                     through the fleet (p50/p99), and a fleet-wide Get with
#                     100 event-stream clients open beside one without the
#                     API: uspc's Gets/s and CPU with and without it
#   profile_storm     onboarding_storm again, on a fresh database holding a
#                     10-parameter provisioning profile: seconds until every
#                     agent is compliant, and uspc + PostgreSQL CPU per agent
#   cwmp_sessions, cwmp_boot_storm, cwmp_fanout_get
#                     TR-069 (uspc-acs and simulated CPEs, tests/bench/
#                     cwmp_bench.sh): sessions/s and CPU per periodic
#                     session, a boot storm of 10,000 CPEs (--quick 1,000)
#                     drained, a Get to 1,000 CPEs through connection
#                     requests
#   fleet_scale       only when --only names it: a database of 1,000,000
#                     synthetic agents (USPC_BENCH_FLEET_AGENTS; --quick
#                     10,000), measured by tests/bench/fleet_scale.sh:
#                     selectors, paging, fleet reads, plans, claims with
#                     parked tasks, bytes per device, a day's notifications
#                     deleted
# Progress goes to stderr; logs stay in the work directory (printed at the
# end). tests/bench/README.md explains every figure. Not part of ctest.
#
# Options:
#   --quick            1,000 agents, shorter steps (under 3 minutes)
#   --agents N         agents in the fleet (default 10000, --quick 1000)
#   --only LIST        comma list of scenarios to run (others: skipped;
#                      fleet_scale runs only when named)
#   --build-dir DIR    Release build directory (default <repo>/build-bench)
#   --no-build         use the binaries already in the build directory
#   --work-dir DIR     logs, stack and scratch files (default: a new
#                      /tmp/uspc-bench.XXXXXX)
#   --keep             leave the stack's data directory behind
#   --perf             record `perf record -g` of uspc (perf-uspc-*.data) and
#                      of the whole machine (perf-all-*.data) during
#                      fanout_get and notify_ingest, in the work directory
set -uo pipefail

SELF=tests/bench/run.sh
REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
STACK_SH="$REPO/deploy/local-stack.sh"

QUICK=0
AGENTS=""
ONLY=""
BUILD_DIR="$REPO/build-bench"
NO_BUILD=0
WORK=""
KEEP=0
PERF=0

die() {
	echo "$SELF: error: $*" >&2
	exit 2
}
say() { echo "$SELF: $(date -u +%H:%M:%S) $*" >&2; }

usage() { sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--agents) AGENTS=${2:?--agents needs a number}; shift ;;
	--only) ONLY=${2:?--only needs a list}; shift ;;
	--build-dir) BUILD_DIR=${2:?--build-dir needs a directory}; shift ;;
	--no-build) NO_BUILD=1 ;;
	--work-dir) WORK=${2:?--work-dir needs a directory}; shift ;;
	--keep) KEEP=1 ;;
	--perf) PERF=1 ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
	shift
done

# ---------------------------------------------------------------- sizes
if [ "$QUICK" = 1 ]; then
	MODE=quick
	: "${AGENTS:=1000}"
	CEIL_SECONDS=4
	TRANSPORT_COUNT=20000
	FANOUT_SIZES="1000"
	# 15 s, not less: agents re-send an unanswered Notify after 5-10 s
	# (NotifRetry), and an overload shows as that retry storm. With 5 s
	# steps, 1,000 agents "passed" 8,000/s here, yet failed 6,000/s in
	# 30 s steps (134,232 retries); see tests/bench/README.md.
	NOTIFY_STEP_S=15
	NOTIFY_SETTLE_S=8
	NOTIFY_RATES="3000 4000 5000 6000 7000 8000 10000 12000"
	ONBOARD_TIMEOUT=60
else
	MODE=full
	: "${AGENTS:=10000}"
	CEIL_SECONDS=10
	TRANSPORT_COUNT=60000
	FANOUT_SIZES="1000 $AGENTS"
	NOTIFY_STEP_S=30
	NOTIFY_SETTLE_S=20
	NOTIFY_RATES="1000 2000 3000 3500 4000 4500 5000 5500 6000 7000 8000 10000 12000 16000 20000"
	ONBOARD_TIMEOUT=240
fi
NOTIFY_STEP_DOWNS=2 # below a failed first step; see scenario_notify
CAMPAIGN_INFLIGHT=${USPC_BENCH_CAMPAIGN_INFLIGHT:-1000}
CAMPAIGN_TIMEOUT=900 # seconds
PROFILE_TIMEOUT=300  # seconds
LATENCY_RATE=1000 # notify_latency: notifications/s, all agents
LATENCY_S=20
[[ $AGENTS =~ ^[0-9]+$ ]] && [ "$AGENTS" -ge 10 ] && [ "$AGENTS" -le 20000 ] ||
	die "--agents must be 10..20000 (the broker needs one descriptor per agent under a 20,000 limit)"
FANOUT_SIZES=$(for s in $FANOUT_SIZES; do [ "$s" -le "$AGENTS" ] && echo "$s"; done | sort -nu | tr '\n' ' ')
NOTIFY_RATES=${USPC_BENCH_NOTIFY_RATES:-$NOTIFY_RATES}
NOTIFY_STEP_S=${USPC_BENCH_NOTIFY_STEP_S:-$NOTIFY_STEP_S}
[[ $NOTIFY_STEP_S =~ ^[0-9]+$ ]] && [ "$NOTIFY_STEP_S" -ge 5 ] && [ "$NOTIFY_STEP_S" -le 300 ] ||
	die "USPC_BENCH_NOTIFY_STEP_S must be 5..300 seconds"
CEIL_WINDOWS=100,1000
CONNECT_RATE=${USPC_BENCH_CONNECT_RATE:-2000}
CTRL_EID=self::bench
EID_PATTERN='os::00D09E-BENCH%06d'
SUBS="'uspc-boot','uspc-transfer','uspc-fw-complete','uspc-diag-complete','uspc-swversion'"
N_SUBS=5

want() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }
named() { [[ ",$ONLY," == *",$1,"* ]]; }

# ---------------------------------------------------------------- work dir
if [ -z "$WORK" ]; then
	WORK=$(mktemp -d /tmp/uspc-bench.XXXXXX) || die "cannot create a work directory"
else
	mkdir -p "$WORK" || die "cannot create $WORK"
	WORK=$(cd "$WORK" && pwd -P)
fi
chmod 755 "$WORK" # PostgreSQL runs as 'postgres' when we are root
STACK="$WORK/stack"
LOGS="$WORK/logs"
mkdir -p "$LOGS"
UPID=""
SPID=""
STACK_UP=0
LINES="$WORK/lines.jsonl"
LINES_DONE=0
: >"$LINES"

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ "$LINES_DONE" = 1 ] || cat "$LINES"
	[ -n "${API_PID:-}" ] && kill "$API_PID" 2>/dev/null
	stop_sim
	stop_uspc
	if [ "$STACK_UP" = 1 ]; then
		if [ "$KEEP" = 1 ]; then
			"$STACK_SH" stop --dir "$STACK" >>"$LOGS/stack.log" 2>&1
		else
			"$STACK_SH" destroy --dir "$STACK" >>"$LOGS/stack.log" 2>&1
		fi
	fi
	say "logs in $LOGS"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- helpers
now() { date +%s.%N; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
fdiv() { awk -v a="$1" -v b="$2" -v p="${3:-3}" 'BEGIN { if (b + 0 == 0) print "null"; else printf "%.*f", p, a / b }'; }
json_str() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr -d '\n')"; }

COMMIT=$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)
DIRTY=false
git -C "$REPO" diff-index --quiet HEAD -- 2>/dev/null || DIRTY=true
[ "$COMMIT" = unknown ] && DIRTY=null
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)

# uspc settings changed from their defaults through the environment
# (USPC_<KEY>; the stack's USPC_MQTT/USPC_DB and the short forms excluded).
USPC_OVERRIDES=$(env | grep -E '^USPC_[A-Z0-9_]+=' | grep -vE '^USPC_(MQTT|DB|TOPIC|STACK_DIR|MQTT_PORT|PG_PORT|PG_BIN|BENCH_[A-Z_]+)=' | sort | paste -sd' ')

# Common JSON fields of every line.
common() {
	printf '"mode":"%s","commit":"%s","tree_dirty":%s,"agents":%s,"cpus":%s,"uspc_overrides":%s' \
		"$MODE" "$COMMIT" "$DIRTY" "$AGENTS" "$NCPU" "$(json_str "$USPC_OVERRIDES")"
}

# Lines are held in $LINES until the end, when the ceiling has been
# measured a second time (finish_lines); an early exit prints them as they
# are (cleanup).
emit() { # scenario, json fields (without braces)
	printf '{"scenario":"%s",%s,%s}\n' "$1" "$(common)" "$2" >>"$LINES"
}

skip() { # scenario, reason
	say "$1: skipped: $2"
	emit "$1" "\"skipped\":true,\"reason\":$(json_str "$2")"
}

# CPU ticks of a process and its children: utime+stime of each, plus the
# cutime+cstime the process collected from children that already exited
# (PostgreSQL backends come and go; their time lands in the postmaster).
proc_ticks() { # pid
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || {
		echo 0
		return
	}
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13} + ${14} + ${15}))
}

tree_ticks() { # pid...
	local total=0 p c
	for p in "$@"; do
		[ -n "$p" ] || continue
		total=$((total + $(proc_ticks "$p")))
		for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
			total=$((total + $(proc_ticks "$c")))
		done
	done
	echo "$total"
}

# uspc's CPU ticks by thread role, one "role ticks" line each. Roles come
# from the thread names (docs/uspc.md, "Threads"): core (the main loop),
# paho_rcv and paho_send (Paho's threads), writer, feeder, mqtt_conn.
uspc_thread_ticks() {
	[ -n "$UPID" ] || return 0
	local t c s
	for t in /proc/"$UPID"/task/*; do
		{ read -r c <"$t/comm" && read -r s <"$t/stat"; } 2>/dev/null || continue
		s=${s##*) }
		# shellcheck disable=SC2086
		set -- $s
		printf '%s %s\n' "$c" $((${12} + ${13}))
	done | awk '{
		r = "other"
		if ($1 == "MQTTAsync_rcv") r = "paho_rcv"; else if ($1 == "MQTTAsync_send") r = "paho_send"
		else if ($1 == "uspc-writer") r = "writer"; else if ($1 == "uspc-feeder") r = "feeder"
		else if ($1 == "uspc-mqtt") r = "mqtt_conn"; else if ($1 == "uspc") r = "core"
		else if ($1 == "uspc-campaign") r = "campaign"
		n[r] += $2
	} END { for (r in n) print r, n[r] }'
}

# ,"uspc_threads_cpu_seconds":{...}: CPU per role since the ticks in $1
# (empty when uspc is not running).
uspc_threads_json() { # ticks-at-mark
	[ -n "$UPID" ] || return 0
	local now
	now=$(uspc_thread_ticks)
	[ -n "$now" ] || return 0
	awk -v tck="$CLK_TCK" -v before="$1" 'BEGIN {
		n = split(before, l, "\n")
		for (i = 1; i <= n; i++) if (split(l[i], f, " ") == 2) b[f[1]] = f[2]
	} { d = $2 - b[$1]; if (d < 0) d = $2; out = out sprintf("%s\"%s\":%.2f", sep, $1, d / tck); sep = "," }
	END { printf ",\"uspc_threads_cpu_seconds\":{%s}", out }' <<<"$now"
}

broker_pid() { cat "$STACK/mosquitto/mosquitto.pid" 2>/dev/null; }
pg_pid() { head -n 1 "$STACK/pg/postmaster.pid" 2>/dev/null; }

declare -A CPU0
cpu_mark() { # [tag]: start a measurement (default tag: the scenario's)
	local k=${1:-s}
	CPU0[$k.uspc]=$(tree_ticks "$UPID")
	CPU0[$k.broker]=$(tree_ticks "$(broker_pid)")
	CPU0[$k.postgres]=$(tree_ticks "$(pg_pid)")
	CPU0[$k.sim]=$(tree_ticks "$SPID")
	CPU0[$k.thr]=$(uspc_thread_ticks)
	CPU0[$k.t]=$(now)
}

cpu_json() { # [tag]: wall and CPU seconds since cpu_mark [tag]
	local k=${1:-s} u b p s
	u=$(tree_ticks "$UPID")
	b=$(tree_ticks "$(broker_pid)")
	p=$(tree_ticks "$(pg_pid)")
	s=$(tree_ticks "$SPID")
	printf '"wall_seconds":%s,"cpu_seconds":{"uspc":%s,"broker":%s,"postgres":%s,"sim":%s}%s' \
		"$(fsub "$(now)" "${CPU0[$k.t]}")" \
		"$(fdiv $((u - CPU0[$k.uspc])) "$CLK_TCK" 2)" "$(fdiv $((b - CPU0[$k.broker])) "$CLK_TCK" 2)" \
		"$(fdiv $((p - CPU0[$k.postgres])) "$CLK_TCK" 2)" "$(fdiv $((s - CPU0[$k.sim])) "$CLK_TCK" 2)" \
		"$(uspc_threads_json "${CPU0[$k.thr]:-}")"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
pss_kb() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
tree_pss_kb() { # pid: the process and its children, proportional set size
	local total c
	total=$(pss_kb "$1")
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		total=$((total + $(pss_kb "$c")))
	done
	echo "$total"
}

psql_q() { # sql -> unaligned rows
	PGCONNECT_TIMEOUT=5 psql "$USPC_DB" -X -q -At -v ON_ERROR_STOP=1 -c "$1" 2>>"$LOGS/psql.log"
}

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# ---------------------------------------------------------------- processes
start_uspc() { # [extra uspc flags]
	# --metrics-listen: an ephemeral port, never the one of a daemon running here
	"$BUILD_DIR/bin/uspc" --endpoint-id "$CTRL_EID" --node-id bench --stats-interval "$USPC_STATS_S" \
		--metrics-listen 127.0.0.1:0 "$@" >>"$LOGS/uspc.log" 2>&1 &
	UPID=$!
	local i
	for i in $(seq 1 100); do
		alive "$UPID" || {
			UPID=""
			return 1
		}
		grep -q 'MQTT connected' "$LOGS/uspc.log" && return 0
		sleep 0.1
	done
	return 1
}

stop_pid() { # pid, seconds
	local pid=$1 i
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 $(($2 * 10))); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		say "pid $pid did not stop within $2 s; killing it"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# uspc's own stop is bounded by drain_timeout_ms (10 s: answers and queued
# publishes) + 2 s for the MQTT window + 2 s to disconnect + the writer's
# flush; after an overloaded notify step it uses the whole drain.
stop_uspc() {
	[ -n "$UPID" ] && stop_pid "$UPID" 30
	UPID=""
}

start_sim() {
	"$BUILD_DIR/bin/usp-agent-sim" --agents "$AGENTS" --controller-id "$CTRL_EID" \
		--eid-pattern "$EID_PATTERN" --connect-rate "$CONNECT_RATE" --status-interval 1 \
		--host-churn 0 --vc-rate 0 --vc-rate-file "$WORK/vc-rate" \
		--fw-download-time 0.2 --reboot-time 0.5 \
		>>"$LOGS/sim.log" 2>&1 &
	SPID=$!
}

stop_sim() {
	[ -n "$SPID" ] && stop_pid "$SPID" 20
	SPID=""
}

# Latest status line of the simulator, one field: online|notify|acked|retries|dropped
sim_stat() {
	local line
	line=$(grep '^usp-agent-sim: agents' "$LOGS/sim.log" | tail -n 1)
	case $1 in
	online) sed -n 's/.* online \([0-9]*\) .*/\1/p' <<<"$line" ;;
	notify) sed -n 's/.*| notify \([0-9]*\) .*/\1/p' <<<"$line" ;;
	acked) sed -n 's/.* acked \([0-9]*\) .*/\1/p' <<<"$line" ;;
	retries) sed -n 's/.* retries \([0-9]*\) .*/\1/p' <<<"$line" ;;
	dropped) sed -n 's/.* dropped \([0-9]*\) .*/\1/p' <<<"$line" ;;
	esac
}

# ---------------------------------------------------------------- build
MISSING=""
build() {
	[ "$NO_BUILD" = 1 ] && return 0
	say "building (Release) in $BUILD_DIR"
	# Release code; frame pointers and debug info only so `--perf` call
	# graphs are readable (neither changes what is measured).
	cmake -S "$REPO" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DUSPC_WERROR=OFF \
		-DUSPC_TESTS=ON -DCMAKE_C_FLAGS="-g -fno-omit-frame-pointer" >"$LOGS/build.log" 2>&1 || {
		MISSING="uspc usp-agent-sim uspctl bench_ceiling bench_mtp_echo"
		say "cmake configure failed (see $LOGS/build.log)"
		return 0
	}
	local t
	for t in bench_ceiling bench_mtp_echo uspc usp-agent-sim uspctl uspc-api uspc-acs; do
		if ! cmake --build "$BUILD_DIR" -j2 --target "$t" >>"$LOGS/build.log" 2>&1; then
			say "build of $t failed (see $LOGS/build.log)"
			MISSING="$MISSING $t"
		fi
	done
}

have() { [[ " $MISSING " != *" $1 "* ]] && [ -x "$BUILD_DIR/bin/$1" ]; }

# ---------------------------------------------------------------- scenarios
CEIL_RT=""
CEIL_P50=""
scenario_ceiling() {
	have bench_ceiling || {
		skip ceiling "bench_ceiling did not build"
		return
	}
	say "ceiling: broker alone, windows $CEIL_WINDOWS, ${CEIL_SECONDS}s each"
	cpu_mark
	local out
	out=$(ceiling_probe)
	if [ -z "$out" ]; then
		skip ceiling "bench_ceiling failed (see $LOGS/ceiling.log)"
		return
	fi
	# The ceiling is the best window: the largest figure, so the ratios are
	# never flattered by a small one.
	CEIL_RT=$(best_rt "$out")
	CEIL_P50=$(head -n 1 <<<"$out" | sed -n 's/.*"p50_ms":\([0-9.]*\).*/\1/p')
	local windows
	windows=$(paste -sd, <<<"$out")
	emit ceiling "\"rt_per_sec\":$CEIL_RT,\"p50_ms_window100\":$CEIL_P50,\"payload_bytes\":200,\"qos\":1,\"client\":\"libmosquitto\",\"windows\":[$windows],$(cpu_json)"
}

# uspc's transport alone: one mqtt_mtp (Paho) connection doing echo round
# trips with a libmosquitto peer through the same broker, per window.
scenario_transport() {
	have bench_mtp_echo || {
		skip transport "bench_mtp_echo did not build"
		return
	}
	say "transport: uspc's MQTT layer (Paho) alone, windows 100 and 1000, $TRANSPORT_COUNT round trips each"
	cpu_mark
	local out rc
	out=$("$BUILD_DIR/bin/bench_mtp_echo" --broker "$USPC_MQTT" --windows 100,1000 \
		--count "$TRANSPORT_COUNT" 2>>"$LOGS/transport.log")
	rc=$?
	printf '%s\n' "$out" >>"$LOGS/transport.log"
	# "window   100 (effective   100):  20000 round trips in 2.48 s =  8080 RT/s, p50 11.70 ms, p99 20.36 ms ..."
	local windows best
	windows=$(sed -n 's/^window *\([0-9]*\) (effective *\([0-9]*\)): *\([0-9]*\) round trips in \([0-9.]*\) s = *\([0-9]*\) RT\/s, p50 \([0-9.]*\) ms, p99 \([0-9.]*\) ms.*/{"window":\1,"effective_window":\2,"round_trips":\3,"seconds":\4,"rt_per_sec":\5,"p50_ms":\6,"p99_ms":\7}/p' <<<"$out" | paste -sd,)
	if [ $rc -ne 0 ] || [ -z "$windows" ]; then
		skip transport "bench_mtp_echo failed (see $LOGS/transport.log)"
		return
	fi
	best=$(grep -o '"rt_per_sec":[0-9]*' <<<"$windows" | cut -d: -f2 | sort -n | tail -n 1)
	local ratio=null
	[ -n "$CEIL_RT" ] && ratio=$(fdiv "$best" "$CEIL_RT" 3)
	emit transport "\"rt_per_sec\":$best,\"ratio_to_ceiling\":$ratio,$(ceiling_fields),\"client\":\"paho-mqttasync (uspc mqtt_mtp)\",\"windows\":[$windows],$(cpu_json)"
}

ceiling_probe() { # -> the probe's JSON lines, or nothing when it failed
	local out rc
	out=$("$BUILD_DIR/bin/bench_ceiling" --broker "$USPC_MQTT" --window "$CEIL_WINDOWS" \
		--seconds "$CEIL_SECONDS" 2>>"$LOGS/ceiling.log")
	rc=$?
	printf '%s\n' "$out" >>"$LOGS/ceiling.log"
	[ $rc -eq 0 ] && printf '%s' "$out"
}

best_rt() { sed -n 's/.*"rt_per_sec":\([0-9.]*\).*/\1/p' <<<"$1" | sort -n | tail -n 1; }

# The ceiling is measured again once uspc and the simulator are stopped, and
# every ratio is taken against the higher of the two measurements: a
# machine that was busy while the first probe ran must not flatter the
# ratios (seen: a start-of-run ceiling of 7.9k against 12.9k an hour before).
# Then the held lines are printed.
finish_lines() {
	local end="" best
	if [ -n "$CEIL_RT" ]; then
		stop_sim
		stop_uspc
		say "ceiling: measured again at the end"
		end=$(best_rt "$(ceiling_probe)")
	fi
	best=$CEIL_RT
	if [ -n "$end" ] && [ -n "$CEIL_RT" ]; then
		best=$(awk -v a="$end" -v b="$CEIL_RT" 'BEGIN { print (a + 0 > b + 0) ? a : b }')
	fi
	if [ -n "$best" ] && command -v jq >/dev/null; then
		say "ceiling: start ${CEIL_RT}/s, end ${end:-failed}/s; ratios against ${best}/s"
		jq -c --argjson c "$best" --argjson s "$CEIL_RT" --argjson e "${end:-null}" '
			def figure: if .scenario == "transport" then .rt_per_sec
				elif .scenario == "fanout_get" then .gets_per_sec
				elif .scenario == "notify_ingest" then .sustained_per_sec
				else null end;
			if .scenario == "ceiling" and (.skipped | not) then
				.rt_per_sec = $c | .ceiling_start_rt_per_sec = $s | .ceiling_end_rt_per_sec = $e
			elif .ratio_to_ceiling != null and figure != null then
				.ratio_to_ceiling = ((figure / $c * 1000 | round) / 1000) | .ceiling_rt_per_sec = $c
			else . end' "$LINES" || cat "$LINES"
	else
		cat "$LINES"
	fi
	LINES_DONE=1
}

ceiling_fields() {
	if [ -n "$CEIL_RT" ]; then
		printf '"ceiling_rt_per_sec":%s' "$CEIL_RT"
	else
		printf '"ceiling_rt_per_sec":null'
	fi
}

ONBOARD_OK=0
ONBOARD_SKIPPED=""
ONBOARDED=0
USPC_BASE_RSS=0
USPC_STATS_S=2
onboarded_count() {
	psql_q "SELECT count(*) FROM agents a WHERE a.onboarded_at IS NOT NULL
	  AND a.manufacturer IS NOT NULL AND a.model_name IS NOT NULL
	  AND a.serial_number IS NOT NULL AND a.software_version IS NOT NULL
	  AND (SELECT count(*) FROM agent_subscriptions s
	       WHERE s.eid = a.eid AND s.sub_id IN ($SUBS)) = $N_SUBS"
}

scenario_onboarding() {
	local missing=""
	for b in uspc usp-agent-sim; do have "$b" || missing="$missing $b"; done
	if [ -n "$missing" ]; then
		ONBOARD_SKIPPED="not built:$missing"
		skip onboarding_storm "$ONBOARD_SKIPPED"
		return
	fi
	say "onboarding_storm: $AGENTS agents at once (connect rate $CONNECT_RATE/s), fresh database"
	start_uspc || {
		ONBOARD_SKIPPED="uspc did not start (see $LOGS/uspc.log)"
		skip onboarding_storm "$ONBOARD_SKIPPED"
		return
	}
	sleep 1
	USPC_BASE_RSS=$(rss_kb "$UPID")
	echo 0 >"$WORK/vc-rate"
	cpu_mark
	local t0 t_conn="" t_done="" n=0 on=0 last_n=-1 last_change
	t0=$(now)
	start_sim
	last_change=$t0
	while :; do
		sleep 0.5
		alive "$SPID" || break
		alive "$UPID" || break
		on=$(sim_stat online)
		[ -z "$t_conn" ] && [ "${on:-0}" -ge "$AGENTS" ] && t_conn=$(now)
		n=$(onboarded_count)
		n=${n:-0}
		if [ "$n" -ge "$AGENTS" ]; then
			t_done=$(now)
			break
		fi
		[ "$n" != "$last_n" ] && last_n=$n && last_change=$(now)
		[ "$(fsub "$(now)" "$t0" | cut -d. -f1)" -ge "$ONBOARD_TIMEOUT" ] && break
	done
	local cpu secs conn ok=false reason=""
	cpu=$(cpu_json)
	# When the last agent's first record reached the database (the connect
	# ramp, paced by the connect rate); the simulator's own status line is
	# the fallback.
	conn=$(psql_q "SELECT round((extract(epoch FROM max(first_seen)) - $t0)::numeric, 3) FROM agents")
	[ -z "$conn" ] && [ -n "$t_conn" ] && conn=$(fsub "$t_conn" "$t0")
	[ -z "$conn" ] && conn=null
	if [ -n "$t_done" ]; then
		secs=$(fsub "$t_done" "$t0")
		ok=true
		ONBOARD_OK=1
	else
		secs=$(fsub "$(now)" "$t0")
		alive "$SPID" || reason="the simulator exited (see $LOGS/sim.log)"
		alive "$UPID" || reason="uspc exited (see $LOGS/uspc.log)"
		[ -z "$reason" ] && reason="only $n of $AGENTS onboarded within ${ONBOARD_TIMEOUT}s (last progress at +$(fsub "$last_change" "$t0")s)"
		say "onboarding_storm: $reason"
	fi
	ONBOARDED=$n
	local agents_rows subs_rows
	agents_rows=$(psql_q "SELECT count(*) FROM agents")
	subs_rows=$(psql_q "SELECT count(*) FROM agent_subscriptions")
	emit onboarding_storm "\"ok\":$ok,\"seconds\":$secs,\"onboarded\":$n,\"last_agent_seen_seconds\":$conn,\"connect_rate\":$CONNECT_RATE,\"agent_rows\":${agents_rows:-null},\"subscription_rows\":${subs_rows:-null},\"goal_seconds\":30$( [ -n "$reason" ] && printf ',"reason":%s' "$(json_str "$reason")"),$cpu"
}

# Latest stats line of uspc, one key (agents, online, ...).
uspc_stat() {
	grep ' stats: ' "$LOGS/uspc.log" | tail -n 1 | sed -n "s/.* $1=\([0-9]*\).*/\1/p"
}

# Scenarios after onboarding need uspc and the simulator running and at
# least one agent onboarded; prints the reason when not.
agents_unusable() {
	if [ -n "$ONBOARD_SKIPPED" ]; then
		echo "no fleet: onboarding_storm could not run ($ONBOARD_SKIPPED)"
	elif ! alive "$UPID" || ! alive "$SPID"; then
		echo "uspc and the simulator are not running (onboarding_storm failed)"
	elif [ "$ONBOARDED" -lt 1 ]; then
		echo "no agent was onboarded by uspc (onboarding_storm: 0 of $AGENTS)"
	fi
}

scenario_memory() {
	local why
	why=$(agents_unusable)
	if [ -n "$why" ]; then
		skip memory "$why"
		return
	fi
	sleep "$((USPC_STATS_S + 1))" # a fresh stats line
	local on
	on=$(uspc_stat online)
	on=${on:-0}
	if [ "$on" -lt 1 ]; then
		skip memory "uspc reports no online agent"
		return
	fi
	local rss hwm sim_pss per per_total sim_per
	rss=$(rss_kb "$UPID")
	hwm=$(hwm_kb "$UPID")
	sim_pss=$(tree_pss_kb "$SPID")
	per=$(fdiv $(((rss - USPC_BASE_RSS) * 1024)) "$on" 0)
	per_total=$(fdiv $((rss * 1024)) "$on" 0)
	local sim_on
	sim_on=$(sim_stat online)
	sim_per=$(fdiv $((sim_pss * 1024)) "${sim_on:-0}" 0)
	say "memory: uspc ${rss} KiB with $on agents (baseline ${USPC_BASE_RSS} KiB), simulator ${sim_pss} KiB PSS"
	emit memory "\"connected\":$on,\"uspc_rss_bytes_per_agent\":$per,\"uspc_rss_total_bytes_per_agent\":$per_total,\"uspc_rss_bytes\":$((rss * 1024)),\"uspc_rss_baseline_bytes\":$((USPC_BASE_RSS * 1024)),\"uspc_hwm_bytes\":$((hwm * 1024)),\"sim_online\":${sim_on:-null},\"sim_pss_bytes_per_agent\":$sim_per,\"sim_pss_bytes\":$((sim_pss * 1024)),\"goal_uspc_bytes_per_agent\":2048,\"onboarded_all\":$([ "$ONBOARD_OK" = 1 ] && echo true || echo false)"
}

perf_start() { # name: uspc alone (-p) and the whole machine (-a)
	PERF_PIDS=""
	[ "$PERF" = 1 ] && command -v perf >/dev/null && alive "$UPID" || return 0
	perf record -F 999 -g -o "$WORK/perf-uspc-$1.data" -p "$UPID" >>"$LOGS/perf.log" 2>&1 &
	PERF_PIDS=$!
	perf record -F 499 -g -a -o "$WORK/perf-all-$1.data" >>"$LOGS/perf.log" 2>&1 &
	PERF_PIDS="$PERF_PIDS $!"
}
perf_stop() {
	local p
	for p in ${PERF_PIDS:-}; do
		kill -INT "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PERF_PIDS=""
}

eid_of() { printf "$EID_PATTERN" "$1"; }

# CHILD_CPU: CPU seconds (user+system) of this shell's finished children so
# far. Not a $(...) function: `times` must run in this shell (a subshell
# reports its own children, none), so its output goes through a file.
children_cpu() {
	times >"$WORK/times.out"
	CHILD_CPU=$(awk 'NR == 2 {
		for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
		printf "%.3f", t
	}' "$WORK/times.out")
}

# One uspctl run of the fanout; sets RUN_* (seconds, ok, failed, lines, rc,
# rate, and uspctl's own CPU seconds).
fanout_run() { # size, input file, output file
	local t0 t1 c0
	t0=$(now)
	children_cpu
	c0=$CHILD_CPU
	timeout 600 "$BUILD_DIR/bin/uspctl" --quiet --timeout 300 -f "$2" >"$3" 2>>"$LOGS/uspctl.log"
	RUN_RC=$?
	children_cpu
	t1=$(now)
	RUN_CPU=$(fsub "$CHILD_CPU" "$c0")
	RUN_SECS=$(fsub "$t1" "$t0")
	RUN_LINES=$(wc -l <"$3")
	RUN_OK=$(grep -c '"ok":true' "$3")
	RUN_FAILED=$(grep -c '"ok":false' "$3")
	RUN_RATE=$(fdiv "$RUN_OK" "$RUN_SECS" 0)
}

fanout_size() { # size, repeats
	local size=$1 reps=$2 targets in="$WORK/fanout-$1.jsonl" out
	if [ "$size" -ge "$AGENTS" ]; then
		targets='{"all":true}'
	else
		targets="[$(for i in $(seq 1 "$size"); do printf '"%s"\n' "$(eid_of "$i")"; done | paste -sd,)]"
	fi
	printf '{"id":"fanout-%s","op":"get","targets":%s,"paths":["Device.DeviceInfo."]}\n' "$size" "$targets" >"$in"
	local max_id
	max_id=$(psql_q "SELECT coalesce(max(id), 0) FROM tasks")
	say "fanout_get: get Device.DeviceInfo. to $size agents through uspctl, $reps run(s)"
	cpu_mark
	perf_start "fanout-$size"
	local r runs="" rates="" ok_all=0 fail_all=0 lines_all=0 rc_all=0 uspctl_cpu=0
	for r in $(seq 1 "$reps"); do
		out="$WORK/fanout-$size-$r.out"
		fanout_run "$size" "$in" "$out"
		say "fanout_get $size run $r: $RUN_OK ok, $RUN_FAILED failed in ${RUN_SECS}s = $RUN_RATE Gets/s"
		runs="$runs${runs:+,}{\"seconds\":$RUN_SECS,\"ok\":$RUN_OK,\"failed\":$RUN_FAILED,\"gets_per_sec\":$RUN_RATE,\"uspctl_exit\":$RUN_RC}"
		rates="$rates$RUN_RATE "
		uspctl_cpu=$(awk -v a="$uspctl_cpu" -v b="$RUN_CPU" 'BEGIN { printf "%.2f", a + b }')
		ok_all=$((ok_all + RUN_OK))
		fail_all=$((fail_all + RUN_FAILED))
		lines_all=$((lines_all + RUN_LINES))
		[ "$RUN_RC" -ne 0 ] && rc_all=$RUN_RC
	done
	perf_stop
	local cpu rate ratio lat
	cpu=$(cpu_json)
	# The median run (the lower middle one for an even count).
	rate=$(tr ' ' '\n' <<<"$rates" | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	ratio=null
	[ -n "$CEIL_RT" ] && ratio=$(fdiv "$rate" "$CEIL_RT" 3)
	# Per request: claimed by the daemon (sent_at) to the response received
	# (finished_at), and queued (created_at) to finished, from the task rows
	# of all runs.
	lat=$(psql_q "SELECT
	    round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - sent_at))::numeric * 1000, 1),
	    round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - sent_at))::numeric * 1000, 1),
	    round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at))::numeric * 1000, 1),
	    round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at))::numeric * 1000, 1),
	    count(*) FILTER (WHERE state = 'done'),
	    (SELECT count(DISTINCT eid) FROM snapshot WHERE path LIKE 'Device.DeviceInfo.%')
	  FROM tasks WHERE id > $max_id")
	local p50 p99 e50 e99 done_rows snap_agents
	IFS='|' read -r p50 p99 e50 e99 done_rows snap_agents <<<"$lat"
	# Where the time went in the last run, from its task rows: inserting
	# (uspctl), first claim, claims spread, last answer; and snapshot rows
	# a Get of Device.DeviceInfo. writes per agent.
	local tl
	tl=$(psql_q "WITH t AS (SELECT * FROM tasks WHERE id > $max_id AND id > (SELECT max(id) FROM tasks) - $size)
	  SELECT json_build_object(
	    'insert_s', round(extract(epoch FROM max(created_at) - min(created_at))::numeric, 3),
	    'first_claim_after_s', round(extract(epoch FROM min(sent_at) - min(created_at))::numeric, 3),
	    'claims_span_s', round(extract(epoch FROM max(sent_at) - min(sent_at))::numeric, 3),
	    'last_answer_after_s', round(extract(epoch FROM max(finished_at) - min(created_at))::numeric, 3),
	    'snapshot_rows_per_agent', (SELECT count(*) FROM snapshot s WHERE s.eid = min(t.eid)),
	    'snapshot_objects_per_agent', (SELECT count(*) FROM snapshot_objects o WHERE o.eid = min(t.eid)))
	  FROM t")
	say "fanout_get $size: median $rate Gets/s (ratio $ratio), p50 ${p50} ms p99 ${p99} ms"
	emit fanout_get "\"targets\":$size,\"runs_count\":$reps,\"gets_per_sec\":$rate,\"ratio_to_ceiling\":$ratio,$(ceiling_fields),\"goal_ratio\":0.6,\"p50_ms\":${p50:-null},\"p99_ms\":${p99:-null},\"queued_to_done_p50_ms\":${e50:-null},\"queued_to_done_p99_ms\":${e99:-null},\"ok\":$ok_all,\"failed\":$fail_all,\"result_lines\":$lines_all,\"uspctl_exit\":$rc_all,\"tasks_done_rows\":${done_rows:-null},\"agents_with_deviceinfo_in_snapshot\":${snap_agents:-null},\"last_run_timeline\":${tl:-null},\"runs\":[$runs],\"uspctl_cpu_seconds\":$uspctl_cpu,$cpu"
}

scenario_fanout() {
	if ! have uspctl; then
		skip fanout_get "uspctl did not build"
		return
	fi
	local why
	why=$(agents_unusable)
	if [ -n "$why" ]; then
		skip fanout_get "$why"
		return
	fi
	local s
	for s in $FANOUT_SIZES; do
		if [ "$s" -le 1000 ]; then fanout_size "$s" 3; else fanout_size "$s" 1; fi
	done
}

# Wait (up to 15 s) until the simulator's notify counter and the
# notifications table stop moving, so a step starts from a true baseline.
wait_quiet() {
	local i a b ra rb
	for i in $(seq 1 15); do
		a=$(sim_stat notify)
		ra=$(psql_q "SELECT count(*) FROM notifications")
		sleep 1.1
		b=$(sim_stat notify)
		rb=$(psql_q "SELECT count(*) FROM notifications")
		[ "$a" = "$b" ] && [ "$ra" = "$rb" ] && return 0
	done
	return 1
}

# One step of notify_ingest at a total rate. Sets STEP_* results.
notify_step() { # rate
	local rate=$1 n0 a0 r0 rows0 t0 t1 n1 a1 rows1 i
	wait_quiet || say "notify_ingest: counters still moving before the $rate/s step"
	n0=$(sim_stat notify)
	a0=$(sim_stat acked)
	r0=$(sim_stat retries)
	rows0=$(psql_q "SELECT count(*) FROM notifications")
	# t0..t1 brackets the two writes of the rate file and nothing else, so
	# the rate is counted over the time the simulator was asked to send.
	cpu_mark step
	t0=$(now)
	echo "$rate" >"$WORK/vc-rate"
	sleep "$NOTIFY_STEP_S"
	echo 0 >"$WORK/vc-rate"
	t1=$(now)
	STEP_CPU=$(cpu_json step)
	sleep 1.2 # the workers re-read the rate file every 50 ms; status lines are 1 s apart
	# Backlog at the end of the generation: a step whose backlog keeps
	# growing is not sustained, even if it drains afterwards.
	n1=$(sim_stat notify)
	a1=$(sim_stat acked)
	rows1=$(psql_q "SELECT count(*) FROM notifications")
	STEP_SENT=$((n1 - n0))
	# (approximate: the simulator's counters are up to 1 s old; never < 0)
	STEP_BACKLOG_ROWS=$((STEP_SENT - (rows1 - rows0)))
	STEP_BACKLOG_ACKS=$((STEP_SENT - (a1 - a0)))
	[ "$STEP_BACKLOG_ROWS" -lt 0 ] && STEP_BACKLOG_ROWS=0
	[ "$STEP_BACKLOG_ACKS" -lt 0 ] && STEP_BACKLOG_ACKS=0
	STEP_RATE=$(fdiv "$STEP_SENT" "$(fsub "$t1" "$t0")" 0)
	# Settle: everything sent must be persisted and answered. The status
	# line is up to 1 s old, so the counts must agree twice in a row.
	local prev=""
	for i in $(seq 1 "$NOTIFY_SETTLE_S"); do
		sleep 1
		n1=$(sim_stat notify)
		a1=$(sim_stat acked)
		rows1=$(psql_q "SELECT count(*) FROM notifications")
		if [ $((n1 - n0)) -eq $((rows1 - rows0)) ] && [ $((n1 - n0)) -eq $((a1 - a0)) ]; then
			[ "$prev" = "$n1" ] && break
			prev=$n1
		else
			prev=""
		fi
	done
	STEP_SENT=$((n1 - n0))
	STEP_PERSISTED=$((rows1 - rows0))
	STEP_ACKED=$((a1 - a0))
	STEP_RETRIES=$(($(sim_stat retries) - r0))
	STEP_T0=$t0
}

# Run one step at a rate and judge it. On a pass, records it in best,
# best_target and p_lat and returns 0; on a failure, sets stop_reason and
# failed_rate and returns 1 (failed_rate stays empty when a process exited,
# so nothing more is tried). Appends the step to steps either way. Uses
# the caller's (scenario_notify's) locals.
notify_try() { # rate
	local rate=$1
	failed_rate=""
	notify_step "$rate"
	local pass=true why=""
	if [ "$STEP_SENT" -lt 1 ]; then
		pass=false why="nothing sent"
	elif [ "$STEP_PERSISTED" -ne "$STEP_SENT" ]; then
		pass=false why="lost: $((STEP_SENT - STEP_PERSISTED)) of $STEP_SENT not persisted after ${NOTIFY_SETTLE_S}s"
	elif [ "$STEP_ACKED" -ne "$STEP_SENT" ]; then
		pass=false why="unanswered: $((STEP_SENT - STEP_ACKED)) of $STEP_SENT without NotifyResp after ${NOTIFY_SETTLE_S}s"
	elif [ "$(awk -v a="$STEP_RATE" -v b="$rate" 'BEGIN { print (a < 0.9 * b) }')" = 1 ]; then
		pass=false why="the simulator produced only $STEP_RATE/s of $rate/s"
	elif [ "$STEP_BACKLOG_ROWS" -gt $((rate / 2)) ] || [ "$STEP_BACKLOG_ACKS" -gt $((rate / 2)) ]; then
		pass=false why="falling behind: backlog at the end of the load $STEP_BACKLOG_ROWS unpersisted, $STEP_BACKLOG_ACKS unanswered (more than 0.5 s of load)"
	elif [ "$STEP_RETRIES" -gt 0 ]; then
		pass=false why="agents re-sent $STEP_RETRIES notifications: their NotifyResp came 5 s or more late (NotifRetry)"
	fi
	say "notify_ingest: target $rate/s: sent $STEP_SENT ($STEP_RATE/s) persisted $STEP_PERSISTED acked $STEP_ACKED backlog $STEP_BACKLOG_ROWS/$STEP_BACKLOG_ACKS -> $pass $why"
	steps="$steps${steps:+,}{\"target_per_sec\":$rate,\"sent\":$STEP_SENT,\"sent_per_sec\":$STEP_RATE,\"persisted\":$STEP_PERSISTED,\"answered\":$STEP_ACKED,\"retries\":$STEP_RETRIES,\"backlog_rows_at_end\":$STEP_BACKLOG_ROWS,\"backlog_unanswered_at_end\":$STEP_BACKLOG_ACKS,\"load\":{$STEP_CPU},\"pass\":$pass$([ -n "$why" ] && printf ',"why":%s' "$(json_str "$why")")}"
	if [ "$pass" = true ]; then
		best=$STEP_RATE
		best_target=$rate
		p_lat=$(psql_q "SELECT
		    round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - received_at))::numeric * 1000, 1),
		    round(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM stored_at - received_at))::numeric * 1000, 1)
		  FROM notifications WHERE received_at >= to_timestamp($STEP_T0) AND kind = 'value_change'")
	else
		# What uspc was doing: its last stats line, shortened.
		local st
		st=$(grep ' stats: ' "$LOGS/uspc.log" | tail -n 1 | grep -oE ' (in|out|outbox|mqtt_in_q|mqtt_out_q|inflight|store_q|store_lag_ms|notify_retries|retry_answers_skipped|answers_shed)=[0-9/s]*' | tr -d '\n')
		stop_reason="target $rate/s failed: $why; uspc at the end:$st"
	fi
	if ! { alive "$UPID" && alive "$SPID"; }; then
		stop_reason="a process exited during the $rate/s step${why:+ ($why)}"
		return 1
	fi
	[ "$pass" = true ] && return 0
	failed_rate=$rate
	return 1
}

# Notifications the simulator sent and neither had answered nor gave up on
# (past 64 unanswered per agent it drops the oldest). Boot! notifications,
# which are not answered, count too, so compare with a baseline.
sim_unanswered() {
	echo $(($(sim_stat notify) - $(sim_stat acked) - $(sim_stat dropped)))
}

# Wait (up to $2 s) until an overload is over: every notification sent
# since the baseline $1 of sim_unanswered was answered or given up on, so
# that no late answer or retry of it lands in the next step. (Counters
# that merely hold still do not show it: a retry comes 5 s or more later.)
wait_answered() { # baseline seconds
	local i
	for i in $(seq 1 "$2"); do
		[ "$(sim_unanswered)" -le "$1" ] && return 0
		sleep 1
	done
	return 1
}

scenario_notify() {
	local why
	why=$(agents_unusable)
	if [ -n "$why" ]; then
		skip notify_ingest "$why"
		return
	fi
	local i
	for i in $(seq 1 30); do # the first status line comes 1 s after the start
		[ -n "$(sim_stat acked)" ] && break
		sleep 0.2
	done
	if [ -z "$(sim_stat acked)" ]; then
		skip notify_ingest "the simulator has no --vc-rate load knob / acked counter"
		return
	fi
	local subscribed
	subscribed=$(psql_q "SELECT count(*) FROM agent_subscriptions WHERE sub_id = 'uspc-swversion'")
	say "notify_ingest: $subscribed agents subscribed to ValueChange on SoftwareVersion; steps of ${NOTIFY_STEP_S}s at $NOTIFY_RATES /s"
	cpu_mark
	perf_start notify
	local rate best=0 best_target=0 steps="" stop_reason="all steps passed" p_lat="" failed_rate=""
	local unanswered0
	unanswered0=$(sim_unanswered)
	for rate in $NOTIFY_RATES; do
		notify_try "$rate" || break
	done
	# A host slower than the ladder's first step would report 0. Step down
	# instead (halving, at most NOTIFY_STEP_DOWNS times, not below 250/s),
	# once the failed step's notifications are all answered, so that the
	# figure is still the highest rate sustained. Higher rates are not tried
	# again.
	if [ "$best" = 0 ] && [ -n "$failed_rate" ]; then
		local down=0 first_reason=$stop_reason
		rate=$failed_rate
		while [ "$down" -lt "$NOTIFY_STEP_DOWNS" ]; do
			down=$((down + 1))
			rate=$((rate / 2 / 50 * 50))
			[ "$rate" -ge 250 ] || break
			if ! wait_answered "$unanswered0" 120; then
				stop_reason="$first_reason; not stepped down: notifications were still unanswered 120 s later"
				break
			fi
			say "notify_ingest: no step passed yet; stepping down to $rate/s"
			if notify_try "$rate"; then
				stop_reason="$first_reason; stepped down to $rate/s, which passed"
				break
			fi
			[ -n "$failed_rate" ] || break # a process exited
		done
	fi
	perf_stop
	local cpu ratio p50 p99
	cpu=$(cpu_json)
	ratio=null
	[ -n "$CEIL_RT" ] && [ "$best" != 0 ] && ratio=$(fdiv "$best" "$CEIL_RT" 3)
	[ -n "$CEIL_RT" ] && [ "$best" = 0 ] && ratio=0
	IFS='|' read -r p50 p99 <<<"$p_lat"
	emit notify_ingest "\"sustained_per_sec\":$best,\"sustained_target_per_sec\":$best_target,\"ratio_to_ceiling\":$ratio,$(ceiling_fields),\"goal_ratio\":0.6,\"step_seconds\":$NOTIFY_STEP_S,\"settle_seconds\":$NOTIFY_SETTLE_S,\"subscribed_agents\":${subscribed:-null},\"persist_lag_p50_ms\":${p50:-null},\"persist_lag_p99_ms\":${p99:-null},\"stopped_because\":$(json_str "$stop_reason"),\"steps\":[$steps],$cpu"
}

# NotifyResp latency at a steady, light load: what an agent waits for the
# answer to a notification, which uspc sends only once the notification is
# committed. The simulator reports p50/p99 of each 1 s status interval (a
# log-bucket histogram); the figure is the median of the interval p50s and
# the largest interval p99 (an upper bound of the whole run's p99).
scenario_notify_latency() {
	local why
	why=$(agents_unusable)
	if [ -n "$why" ]; then
		skip notify_latency "$why"
		return
	fi
	local rate=$LATENCY_RATE secs=$LATENCY_S n0 lines p50 p99 sent0 acked0 sent acked
	n0=$(grep -c '^usp-agent-sim: agents' "$LOGS/sim.log")
	sent0=$(sim_stat notify)
	acked0=$(sim_stat acked)
	say "notify_latency: $rate notifications/s for ${secs}s"
	echo "$rate" >"$WORK/vc-rate"
	sleep "$secs"
	echo 0 >"$WORK/vc-rate"
	sleep 3
	sent=$(($(sim_stat notify) - sent0))
	acked=$(($(sim_stat acked) - acked0))
	# Intervals fully inside the load: skip the first 2 and the last 3.
	lines=$(grep '^usp-agent-sim: agents' "$LOGS/sim.log" | tail -n +"$((n0 + 3))" | head -n "$((secs - 3))")
	p50=$(sed -n 's/.* notify_resp_p50_ms \([0-9]*\) .*/\1/p' <<<"$lines" | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }')
	p99=$(sed -n 's/.* notify_resp_p99_ms \([0-9]*\) .*/\1/p' <<<"$lines" | sort -n | tail -n 1)
	say "notify_latency: sent $sent answered $acked, NotifyResp p50 ${p50:-?} ms p99 ${p99:-?} ms"
	emit notify_latency "\"rate_per_sec\":$rate,\"seconds\":$secs,\"sent\":$sent,\"answered\":$acked,\"notify_resp_p50_ms\":${p50:-null},\"notify_resp_p99_ms\":${p99:-null}"
}

# A firmware campaign over the whole fleet: three waves (1 %, 10 %, all),
# 0.2 s simulated downloads and 0.5 s reboots, every device through the
# whole procedure (inspect, Download, TransferComplete!, check, Activate,
# reboot, re-onboarding, verify). Seconds until the campaign is finished,
# and uspc + PostgreSQL CPU per device for the whole cycle, beside the same
# for one fleet Get of Device.DeviceInfo. measured right after.
scenario_campaign() {
	if ! have uspctl; then
		skip campaign "uspctl did not build"
		return
	fi
	local why
	why=$(agents_unusable)
	if [ -n "$why" ]; then
		skip campaign "$why"
		return
	fi
	local t0 id out st counts secs cpu get_cpu i
	say "campaign: $AGENTS agents, waves 1% / 10% / 100%, max_inflight $CAMPAIGN_INFLIGHT"
	cpu_mark camp
	t0=$(now)
	out=$(printf '{"id":"c","op":"campaign_create","name":"bench-%s","targets":{"all":true},"firmware":{"url":"http://fw.example.net/sim-gw-2.0.0.bin","version":"2.0.0"},"waves":[{"percent":1},{"percent":10},{"percent":100}],"max_inflight":%s}\n' \
		"$(date +%s)" "$CAMPAIGN_INFLIGHT" | "$BUILD_DIR/bin/uspctl" --quiet 2>>"$LOGS/uspctl.log")
	id=$(sed -n 's/.*"campaign":\([0-9]*\).*/\1/p' <<<"$out")
	if [ -z "$id" ]; then
		skip campaign "campaign_create failed: $out"
		return
	fi
	st=""
	for i in $(seq 1 "$CAMPAIGN_TIMEOUT"); do
		st=$(psql_q "SELECT state || ' ' || settled FROM campaigns WHERE id = $id")
		[ "$st" = "finished true" ] || [ "${st%% *}" = paused ] || [ "${st%% *}" = aborted ] && break
		[ $((i % 10)) = 0 ] && say "campaign: $(psql_q "SELECT string_agg(state || '=' || n, ' ') FROM
		  (SELECT state, count(*) n FROM campaign_devices WHERE campaign = $id GROUP BY 1 ORDER BY 1) x")"
		sleep 1
	done
	secs=$(fsub "$(now)" "$t0")
	cpu=$(cpu_json camp)
	counts=$(psql_q "SELECT json_object_agg(state, n) FROM (SELECT state, count(*) n FROM campaign_devices
	  WHERE campaign = $id GROUP BY 1) x")
	local ok per_dev
	ok=$(psql_q "SELECT count(*) FROM campaign_devices WHERE campaign = $id AND state = 'succeeded'")
	per_dev=$(awk -v c="$cpu" -v n="$ok" 'BEGIN {
		match(c, /"uspc":[0-9.]+/); u = substr(c, RSTART + 7, RLENGTH - 7)
		match(c, /"postgres":[0-9.]+/); p = substr(c, RSTART + 11, RLENGTH - 11)
		if (n > 0) printf "{\"uspc\":%.2f,\"postgres\":%.2f}", u * 1000 / n, p * 1000 / n; else print "null" }')
	say "campaign: ${st} after ${secs}s: $counts; CPU ms per device $per_dev"
	# one fleet Get, for comparison
	printf '{"id":"g","op":"get","targets":{"all":true},"paths":["Device.DeviceInfo."]}\n' >"$WORK/campaign-get.jsonl"
	cpu_mark get
	fanout_run "$AGENTS" "$WORK/campaign-get.jsonl" "$WORK/campaign-get.out"
	get_cpu=$(cpu_json get)
	local get_per
	get_per=$(awk -v c="$get_cpu" -v n="$RUN_OK" 'BEGIN {
		match(c, /"uspc":[0-9.]+/); u = substr(c, RSTART + 7, RLENGTH - 7)
		match(c, /"postgres":[0-9.]+/); p = substr(c, RSTART + 11, RLENGTH - 11)
		if (n > 0) printf "{\"uspc\":%.3f,\"postgres\":%.3f}", u * 1000 / n, p * 1000 / n; else print "null" }')
	say "campaign: a fleet Get for comparison: $RUN_OK ok in ${RUN_SECS}s, CPU ms per agent $get_per"
	emit campaign "\"campaign_state\":$(json_str "$st"),\"seconds_to_finished\":$secs,\"max_inflight\":$CAMPAIGN_INFLIGHT,\"devices\":${counts:-null},\"cpu_ms_per_device\":$per_dev,\"fleet_get_cpu_ms_per_agent\":$get_per,\"fleet_get_seconds\":$RUN_SECS,$cpu"
}

# profile_storm: the fleet (stopped, then started again at once) onboards
# into a fresh database that already holds a profile of 10 parameters (9
# differ from the agents' defaults, one write-only): seconds until every
# agent is onboarded and until every agent is compliant (a verdict after a
# fresh Get shows every value), and uspc + PostgreSQL CPU per agent.
PROFILE_DEF='"name":"bench","selector":{"all":true},"priority":10,"allow_empty":true,"steps":[{"set":{
"Device.Time.NTPServer1":"ntp1.example.net","Device.Time.NTPServer2":"ntp2.example.net",
"Device.Time.LocalTimeZone":"UTC0","Device.Time.Enable":true,
"Device.WiFi.SSID.1.SSID":"home-${serial}","Device.WiFi.SSID.2.SSID":"home-${serial}-5G",
"Device.WiFi.Radio.1.TransmitPower":75,"Device.WiFi.Radio.2.TransmitPower":75,
"Device.WiFi.AccessPoint.1.SSIDAdvertisementEnabled":false,
"Device.WiFi.AccessPoint.1.Security.KeyPassphrase":{"value":"secret-${serial}","write_only":true}}}]'
scenario_profile_storm() {
	local missing=""
	for b in uspc usp-agent-sim uspctl; do have "$b" || missing="$missing $b"; done
	if [ -n "$missing" ]; then
		skip profile_storm "not built:$missing"
		return
	fi
	stop_sim
	stop_uspc
	local db="${USPC_DB%/*}/uspc_bench_profile"
	psql_q "DROP DATABASE IF EXISTS uspc_bench_profile WITH (FORCE)" >/dev/null
	psql_q "CREATE DATABASE uspc_bench_profile" >/dev/null
	say "profile_storm: $AGENTS agents at once onto a database holding a 10-parameter profile"
	if ! start_uspc --db "$db"; then
		skip profile_storm "uspc did not start (see $LOGS/uspc.log)"
		return
	fi
	local out
	out=$(printf '{"id":"p","op":"profile_put",%s}\n' "$(tr -d '\n' <<<"$PROFILE_DEF")" |
		"$BUILD_DIR/bin/uspctl" --db "$db" --quiet 2>>"$LOGS/uspctl.log")
	if ! grep -q '"ok":true' <<<"$out"; then
		skip profile_storm "profile_put failed: $out"
		return
	fi
	local t0 t_onb="" t_done="" onb=0 comp=0 row
	cpu_mark pstorm
	t0=$(now)
	start_sim
	while :; do
		sleep 0.5
		alive "$SPID" && alive "$UPID" || break
		row=$(PGCONNECT_TIMEOUT=5 psql "$db" -X -q -At -F ' ' -c "SELECT
		  (SELECT count(*) FROM agents WHERE online AND onboarded_at >= online_since),
		  (SELECT count(*) FROM profile_agents WHERE name = 'bench' AND state = 'compliant')" 2>>"$LOGS/psql.log")
		onb=${row%% *}
		comp=${row##* }
		[ -z "$t_onb" ] && [ "${onb:-0}" -ge "$AGENTS" ] && t_onb=$(now)
		if [ "${comp:-0}" -ge "$AGENTS" ]; then
			t_done=$(now)
			break
		fi
		[ "$(fsub "$(now)" "$t0" | cut -d. -f1)" -ge "$PROFILE_TIMEOUT" ] && break
	done
	local cpu ok=false secs onb_secs=null per
	cpu=$(cpu_json pstorm)
	[ -n "$t_onb" ] && onb_secs=$(fsub "$t_onb" "$t0")
	if [ -n "$t_done" ]; then
		ok=true
		secs=$(fsub "$t_done" "$t0")
	else
		secs=$(fsub "$(now)" "$t0")
	fi
	per=$(awk -v c="$cpu" -v n="${comp:-0}" 'BEGIN {
		match(c, /"uspc":[0-9.]+/); u = substr(c, RSTART + 7, RLENGTH - 7)
		match(c, /"postgres":[0-9.]+/); p = substr(c, RSTART + 11, RLENGTH - 11)
		if (n > 0) printf "{\"uspc\":%.3f,\"postgres\":%.3f}", u * 1000 / n, p * 1000 / n; else print "null" }')
	say "profile_storm: $comp of $AGENTS compliant after ${secs}s (all onboarded after ${onb_secs}s); CPU ms per agent $per"
	emit profile_storm "\"ok\":$ok,\"seconds_to_compliant\":$secs,\"seconds_to_onboarded\":$onb_secs,\"compliant\":${comp:-0},\"params\":10,\"cpu_ms_per_agent\":$per,$cpu"
}

# ---------------------------------------------------------------- api
API_PID=""
API_SECS=${USPC_BENCH_API_SECONDS:-10}

# One fleet-wide Get through uspctl; prints "gets_per_sec uspc_cpu_s".
api_fanout() { # tag
	local in="$WORK/api-fanout.jsonl" cpu
	printf '{"id":"api-fanout","op":"get","targets":{"all":true},"paths":["Device.DeviceInfo."]}\n' >"$in"
	cpu_mark "$1"
	fanout_run "$AGENTS" "$in" "$WORK/api-fanout-$1.out"
	cpu=$(cpu_json "$1")
	printf '{%s}' "$cpu" >"$WORK/api-cpu-$1.json"
	echo "$RUN_RATE $(sed -n 's/.*"uspc":\([0-9.]*\).*/\1/p' <<<"$cpu")"
}

scenario_api() {
	local why
	for b in uspctl uspc-api; do
		if ! have "$b"; then
			skip api "$b did not build"
			return
		fi
	done
	why=$(agents_unusable)
	if [ -n "$why" ]; then
		skip api "$why"
		return
	fi
	local base0 base1 with0 with1 viewer port page list sse stop="$WORK/api-sse.stop" spid
	say "api: a fleet-wide Get without uspc-api (baseline)"
	read -r base0 base1 <<<"$(api_fanout api-base)"
	"$BUILD_DIR/bin/uspc-api" --listen 127.0.0.1:0 --console "" --log-level info \
		--max-events-clients 200 --max-per-ip 256 >>"$LOGS/uspc-api.log" 2>&1 &
	API_PID=$!
	for _ in $(seq 1 50); do
		grep -q 'listening on' "$LOGS/uspc-api.log" 2>/dev/null && break
		sleep 0.2
	done
	port=$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$LOGS/uspc-api.log" | tail -n 1 | sed 's/.*://')
	if [ -z "$port" ] || ! alive "$API_PID"; then
		skip api "uspc-api did not start (see $LOGS/uspc-api.log)"
		return
	fi
	viewer=$(printf '{"op":"token_create","name":"bench-%s","role":"viewer"}\n' "$(date +%s%N)" |
		"$BUILD_DIR/bin/uspctl" --quiet 2>>"$LOGS/uspctl.log" | sed -n 's/.*"token":"\(uspc_[^"]*\)".*/\1/p')
	psql_q "SELECT eid FROM agents ORDER BY random() LIMIT 1000" >"$WORK/api-eids.txt"
	say "api: agent page, $API_SECS s, 4 connections"
	page=$(/usr/bin/python3 "$REPO/tests/bench/bench_api.py" agent-page "http://127.0.0.1:$port" "$viewer" \
		"$WORK/api-eids.txt" "$API_SECS" 4 2>>"$LOGS/bench_api.log")
	say "api: fleet list (pages of 1,000), $API_SECS s, 2 connections"
	list=$(/usr/bin/python3 "$REPO/tests/bench/bench_api.py" fleet-list "http://127.0.0.1:$port" "$viewer" \
		"$API_SECS" 2 2>>"$LOGS/bench_api.log")
	say "api: 100 event streams open during a fleet-wide Get"
	rm -f "$stop"
	/usr/bin/python3 "$REPO/tests/bench/bench_api.py" sse "http://127.0.0.1:$port" "$viewer" 100 "$stop" \
		>"$WORK/api-sse.json" 2>"$WORK/api-sse.err" &
	spid=$!
	for _ in $(seq 1 100); do
		grep -q ready "$WORK/api-sse.err" 2>/dev/null && break
		sleep 0.1
	done
	local a0 c0 a1 c1 hz
	a0=$(proc_ticks "$API_PID")
	c0=$(proc_ticks "$spid")
	read -r with0 with1 <<<"$(api_fanout api-with)"
	a1=$(proc_ticks "$API_PID")
	c1=$(proc_ticks "$spid")
	hz=$(getconf CLK_TCK)
	sleep 3 # the last events on their way
	touch "$stop"
	wait "$spid"
	sse=$(cat "$WORK/api-sse.json")
	# The same with 100 streams of campaign and notification events: what
	# the console's fleet page asks for (docs/console.md, "Live updates").
	say "api: 100 fleet-page streams (campaign, notification) open during a fleet-wide Get"
	rm -f "$stop"
	/usr/bin/python3 "$REPO/tests/bench/bench_api.py" sse "http://127.0.0.1:$port" "$viewer" 100 "$stop" \
		campaign,notification >"$WORK/api-sse2.json" 2>"$WORK/api-sse2.err" &
	spid=$!
	for _ in $(seq 1 100); do
		grep -q ready "$WORK/api-sse2.err" 2>/dev/null && break
		sleep 0.1
	done
	local camp0 camp1
	read -r camp0 camp1 <<<"$(api_fanout api-camp)"
	touch "$stop"
	wait "$spid"
	stop_pid "$API_PID" 15 >/dev/null 2>&1
	API_PID=""
	local ratio cpu_ratio
	ratio=$(fdiv "$with0" "$base0" 3)
	cpu_ratio=$(fdiv "$with1" "$base1" 3)
	say "api: fleet-wide Get with 100 fleet-page streams: $camp0 Gets/s (ratio $(fdiv "$camp0" "$base0" 3))"
	say "api: agent page $(sed -n 's/.*"requests_per_sec": \([0-9.]*\).*/\1/p' <<<"$page") req/s; fleet-wide Get $base0 Gets/s alone, $with0 with the API and 100 streams (ratio $ratio)"
	emit api "\"agent_page\":${page:-null},\"fleet_list\":${list:-null},\"events\":${sse:-null},\"fanout_without_api\":{\"gets_per_sec\":${base0:-null},\"uspc_cpu_s\":${base1:-null}},\"fanout_with_api_and_fleet_page_streams\":{\"gets_per_sec\":${camp0:-null},\"uspc_cpu_s\":${camp1:-null},\"cpu\":$(cat "$WORK/api-cpu-api-camp.json")},\"fanout_with_api_and_streams\":{\"gets_per_sec\":${with0:-null},\"uspc_cpu_s\":${with1:-null}},\"gets_ratio\":$ratio,\"uspc_cpu_ratio\":$cpu_ratio,\"during_fanout_cpu_s\":{\"uspc_api\":$(fdiv $((a1 - a0)) "$hz" 2),\"stream_clients\":$(fdiv $((c1 - c0)) "$hz" 2)},\"cpu_without_api\":$(cat "$WORK/api-cpu-api-base.json"),\"cpu_with_api\":$(cat "$WORK/api-cpu-api-with.json")"
}

# ---------------------------------------------------------------- fleet_scale
# A database of FLEET_AGENTS synthetic agents in its own database of the
# stack, measured by tests/bench/fleet_scale.sh (its header and
# tests/bench/README.md say what). No daemon and no simulator take part.
if [ "$QUICK" = 1 ]; then FLEET_AGENTS=${USPC_BENCH_FLEET_AGENTS:-10000}; else FLEET_AGENTS=${USPC_BENCH_FLEET_AGENTS:-1000000}; fi
scenario_fleet_scale() {
	if ! have uspctl; then
		skip fleet_scale "uspctl did not build"
		return
	fi
	local db="${USPC_DB%/*}/uspc_bench_fleet" out
	psql_q "DROP DATABASE IF EXISTS uspc_bench_fleet WITH (FORCE)" >/dev/null
	psql_q "CREATE DATABASE uspc_bench_fleet" >/dev/null
	say "fleet_scale: $FLEET_AGENTS synthetic agents (tests/bench/fleet_scale.sh, work dir $WORK/fleet_scale)"
	out=$("$REPO/tests/bench/fleet_scale.sh" --db "$db" --agents "$FLEET_AGENTS" \
		--uspctl "$BUILD_DIR/bin/uspctl" --work-dir "$WORK/fleet_scale")
	psql_q "DROP DATABASE IF EXISTS uspc_bench_fleet WITH (FORCE)" >/dev/null
	if [ -z "$out" ] || ! jq -e . >/dev/null 2>&1 <<<"$out"; then
		skip fleet_scale "tests/bench/fleet_scale.sh failed (see $WORK/fleet_scale/logs)"
		return
	fi
	emit fleet_scale "$(jq -c 'del(.scenario)' <<<"$out" | sed -e 's/^{//' -e 's/}$//')"
}

# The TR-069 scenarios, on a database of their own (tests/bench/cwmp_bench.sh).
scenario_cwmp() {
	local s
	if ! have uspc-acs || ! have usp-agent-sim || ! have uspctl; then
		for s in cwmp_sessions cwmp_boot_storm cwmp_fanout_get; do
			want "$s" && skip "$s" "uspc-acs, usp-agent-sim or uspctl did not build"
		done
		return
	fi
	local db="${USPC_DB%/*}/uspc_bench_cwmp" only="" storm=10000 cpes=2000
	[ "$MODE" = quick ] && storm=1000 cpes=500
	for s in cwmp_sessions cwmp_boot_storm cwmp_fanout_get; do
		want "$s" && only="$only,$s"
	done
	psql_q "DROP DATABASE IF EXISTS uspc_bench_cwmp WITH (FORCE)" >/dev/null
	psql_q "CREATE DATABASE uspc_bench_cwmp" >/dev/null
	local out line
	out=$("$REPO/tests/bench/cwmp_bench.sh" --db "$db" --build-dir "$BUILD_DIR" \
		--work-dir "$WORK/cwmp" --cpes "$cpes" --storm "$storm" --only "${only#,}")
	psql_q "DROP DATABASE IF EXISTS uspc_bench_cwmp WITH (FORCE)" >/dev/null
	for s in cwmp_sessions cwmp_boot_storm cwmp_fanout_get; do
		want "$s" || continue
		line=$(grep "\"scenario\":\"$s\"" <<<"$out")
		if [ -z "$line" ] || ! jq -e . >/dev/null 2>&1 <<<"$line"; then
			skip "$s" "tests/bench/cwmp_bench.sh failed (see $WORK/cwmp)"
		else
			emit "$s" "$(jq -c 'del(.scenario)' <<<"$line" | sed -e 's/^{//' -e 's/}$//')"
		fi
	done
}

# ---------------------------------------------------------------- main
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
say "mode $MODE: $AGENTS agents, work dir $WORK"
build
for b in bench_ceiling bench_mtp_echo uspc usp-agent-sim uspctl; do
	have "$b" || MISSING="$MISSING $b"
done
MISSING=$(tr ' ' '\n' <<<"$MISSING" | sort -u | tr '\n' ' ')

say "starting the local stack in $STACK"
if ! "$STACK_SH" start --dir "$STACK" >"$WORK/stack.env" 2>>"$LOGS/stack.log"; then
	for s in ceiling transport onboarding_storm memory fanout_get notify_ingest; do
		skip "$s" "deploy/local-stack.sh could not start the stack (see $LOGS/stack.log)"
	done
	exit 1
fi
STACK_UP=1
# shellcheck disable=SC1091
. "$STACK/env"

if want ceiling; then scenario_ceiling; else skip ceiling "not selected (--only)"; fi
if want transport; then scenario_transport; else skip transport "not selected (--only)"; fi
if want onboarding_storm || want memory || want fanout_get || want notify_latency || want notify_ingest ||
	want campaign || want api; then
	scenario_onboarding
else
	skip onboarding_storm "not selected (--only)"
fi
if want memory; then scenario_memory; else skip memory "not selected (--only)"; fi
if want fanout_get; then scenario_fanout; else skip fanout_get "not selected (--only)"; fi
if want notify_latency; then scenario_notify_latency; else skip notify_latency "not selected (--only)"; fi
if want notify_ingest; then scenario_notify; else skip notify_ingest "not selected (--only)"; fi
if want campaign; then scenario_campaign; else skip campaign "not selected (--only)"; fi
if want api; then scenario_api; else skip api "not selected (--only)"; fi
if want profile_storm; then scenario_profile_storm; else skip profile_storm "not selected (--only)"; fi
if want cwmp_sessions || want cwmp_boot_storm || want cwmp_fanout_get; then scenario_cwmp; else
	for s in cwmp_sessions cwmp_boot_storm cwmp_fanout_get; do skip "$s" "not selected (--only)"; done
fi
if named fleet_scale; then scenario_fleet_scale; else skip fleet_scale "runs only when --only names it"; fi
finish_lines
exit 0
