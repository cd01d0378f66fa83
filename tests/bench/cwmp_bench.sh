#!/usr/bin/env bash
# tests/bench/cwmp_bench.sh — the TR-069 scenarios of the benchmark
# (tests/bench/run.sh runs it; it can run alone against any database).
#
#   tests/bench/cwmp_bench.sh --db URI --build-dir DIR --work-dir DIR
#                             [--cpes N] [--storm N] [--fanout N] [--only LIST]
#
# Starts uspc-acs (Digest, derived credentials, connection requests) and
# usp-agent-sim --protocol cwmp from DIR/bin on 127.0.0.1, against the
# database URI (its tables are emptied first: give it a scratch database),
# and prints one JSON line per scenario on stdout:
#   cwmp_sessions    N CPEs (default 2000) informing '2 PERIODIC' as fast as
#                    they are let, no tasks: sessions/s completed over 30 s,
#                    and the CPU of uspc-acs and of PostgreSQL per session
#   cwmp_boot_storm  N CPEs (default 10000) starting at once ('0 BOOTSTRAP'
#                    '1 BOOT'), uspc-acs at its default --max-sessions and
#                    --retry-after 1: seconds until every one is in the
#                    inventory, and how many Informs were refused with 503
#   cwmp_fanout_get  a uspctl get of Device.DeviceInfo.SoftwareVersion to N
#                    CPEs (default 1000) that are not in session: each is
#                    woken by a connection request; seconds until every
#                    result is in, p50/p99 of a task's queued-to-done time
# Progress on stderr; logs in the work directory.
set -uo pipefail

SELF=tests/bench/cwmp_bench.sh
DB="" BUILD="" WORK="" CPES=2000 STORM=10000 FANOUT=1000 ONLY=""
die() {
	echo "$SELF: error: $*" >&2
	exit 2
}
say() { echo "$SELF: $(date -u +%H:%M:%S) $*" >&2; }
while [ $# -gt 0 ]; do
	case $1 in
	--db) DB=${2:?}; shift ;;
	--build-dir) BUILD=${2:?}; shift ;;
	--work-dir) WORK=${2:?}; shift ;;
	--cpes) CPES=${2:?}; shift ;;
	--storm) STORM=${2:?}; shift ;;
	--fanout) FANOUT=${2:?}; shift ;;
	--only) ONLY=${2:?}; shift ;;
	-h | --help) sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1" ;;
	esac
	shift
done
[ -n "$DB" ] && [ -n "$BUILD" ] && [ -n "$WORK" ] || die "--db, --build-dir and --work-dir are required"
for b in uspc-acs usp-agent-sim uspctl; do [ -x "$BUILD/bin/$b" ] || die "$BUILD/bin/$b is missing"; done
mkdir -p "$WORK"
want() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }
q() { psql "$DB" -XAtqc "$1"; }

ACS_PID="" SIM_PID=""
cleanup() {
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
	[ -n "$ACS_PID" ] && kill "$ACS_PID" 2>/dev/null && wait "$ACS_PID" 2>/dev/null
	SIM_PID="" ACS_PID=""
}
trap cleanup EXIT

head -c 32 /dev/urandom | base64 >"$WORK/cpe.key"
head -c 32 /dev/urandom | base64 >"$WORK/cr.key"

# A fresh start: the schema, and no device or task of an earlier scenario.
reset_db() {
	echo '{"id":"x","op":"list_agents","limit":1}' | "$BUILD/bin/uspctl" --db "$DB" -q >/dev/null 2>&1
	q "TRUNCATE agents, cwmp_devices, cwmp_param_types, tasks, notifications, snapshot_objects,
	   operation_results" >/dev/null
}

# start_acs NAME [flags...] — uspc-acs on free ports; sets ACS_URL, ACS_METRICS.
start_acs() {
	local name=$1 log="$WORK/$1-acs.log"
	shift
	"$BUILD/bin/uspc-acs" --db "$DB" --node-id "bench-$name" --listen 127.0.0.1:0 \
		--metrics-listen 127.0.0.1:0 --cpe-password-key-file "$WORK/cpe.key" \
		--cr-password-key-file "$WORK/cr.key" --log-level info "$@" >"$log" 2>&1 &
	ACS_PID=$!
	local i
	for i in $(seq 100); do
		ACS_URL=$(grep -ao 'CWMP on http://[0-9.:]*/' "$log" | sed 's/CWMP on //')
		ACS_METRICS=$(grep -ao 'metrics on [0-9.:]*' "$log" | sed 's/metrics on //')
		[ -n "$ACS_URL" ] && [ -n "$ACS_METRICS" ] && return 0
		sleep 0.1
	done
	die "uspc-acs did not start (see $log)"
}

# start_sim NAME N [flags...] — N simulated CPEs against ACS_URL.
start_sim() {
	local name=$1 n=$2
	shift 2
	"$BUILD/bin/usp-agent-sim" --protocol cwmp --agents "$n" --acs-url "$ACS_URL" \
		--acs-user-pattern '00D09E-SIM%06d' --acs-password-key-file "$WORK/cpe.key" \
		--cr-user-pattern '00D09E-SIM%06d' --cr-password-key-file "$WORK/cr.key" \
		--log-level warn --status-interval 5 "$@" >"$WORK/$name-sim.log" 2>&1 &
	SIM_PID=$!
}

metric() { curl -s "http://$ACS_METRICS/metrics" | awk -v m="uspc_acs_$1" '$1 == m { print $2 }'; }

# CPU seconds (user + system) of uspc-acs and of all PostgreSQL processes.
cpu_of_pid() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_cpu() {
	local t=0 p
	for p in $(pgrep -x postgres); do t=$(awk -v a="$t" -v b="$(cpu_of_pid "$p")" 'BEGIN { print a + b }'); done
	# backends that exited left their time in the postmaster's children's time
	local pm
	pm=$(pgrep -xo postgres)
	[ -n "$pm" ] && t=$(awk -v a="$t" '{ print a + ($16 + $17) / 100 }' "/proc/$pm/stat")
	echo "$t"
}
fdiv() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN { if (b == 0) print "null"; else printf f, a / b }'; }

# ---------------------------------------------------------------- cwmp_sessions
scenario_sessions() {
	reset_db
	start_acs sessions
	# Every CPE informs every 2 s, paced by --connect-rate: far more than
	# two cores complete, so the figure is what uspc-acs and PostgreSQL do.
	start_sim sessions "$CPES" --inform-interval 2 --connect-rate 5000 --max-sessions 500 \
		--workers 1
	say "cwmp_sessions: $CPES CPEs, warming up 15 s"
	sleep 15
	local s0 c0 p0 s1 c1 p1
	s0=$(metric sessions_completed_total) c0=$(cpu_of_pid "$ACS_PID") p0=$(pg_cpu)
	sleep 30
	s1=$(metric sessions_completed_total) c1=$(cpu_of_pid "$ACS_PID") p1=$(pg_cpu)
	local n=$((s1 - s0)) fails503 auth
	fails503=$(metric overload_rejections_total)
	auth=$(metric auth_failures_total)
	cleanup
	local rate acs_ms pg_ms
	rate=$(fdiv "$n" 30 %.0f)
	acs_ms=$(fdiv "$(awk -v a="$c1" -v b="$c0" 'BEGIN { print (a - b) * 1000 }')" "$n" %.3f)
	pg_ms=$(fdiv "$(awk -v a="$p1" -v b="$p0" 'BEGIN { print (a - b) * 1000 }')" "$n" %.3f)
	say "cwmp_sessions: $rate sessions/s; per session uspc-acs $acs_ms ms, PostgreSQL $pg_ms ms of CPU"
	printf '{"scenario":"cwmp_sessions","cpes":%s,"sessions":%s,"seconds":30,"sessions_per_s":%s,"acs_cpu_ms_per_session":%s,"pg_cpu_ms_per_session":%s,"overload_503":%s,"auth_failures":%s}\n' \
		"$CPES" "$n" "$rate" "$acs_ms" "$pg_ms" "${fails503:-null}" "${auth:-null}"
}

# ---------------------------------------------------------------- cwmp_boot_storm
scenario_storm() {
	reset_db
	start_acs storm --retry-after 1
	local t0 t1 n=0 last=0 since
	t0=$(date +%s.%N)
	# 2,500 CPEs per worker process: a session holds about 4 descriptors
	start_sim storm "$STORM" --inform-interval 86400 --connect-rate 1000000 \
		--max-sessions "$STORM" --retry-base 1 --workers $(((STORM + 2499) / 2500))
	say "cwmp_boot_storm: $STORM CPEs booting at once"
	since=$SECONDS
	while [ "$n" -lt "$STORM" ] && [ $((SECONDS - since)) -lt 300 ]; do
		kill -0 "$SIM_PID" 2>/dev/null || die "the simulator exited (see $WORK/storm-sim.log)"
		sleep 0.5
		n=$(q "SELECT count(*) FROM cwmp_devices WHERE last_inform_at IS NOT NULL")
		[ "$n" != "$last" ] && last=$n
	done
	t1=$(date +%s.%N)
	local secs refused timeouts
	secs=$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.1f", a - b }')
	refused=$(metric overload_rejections_total)
	timeouts=$(metric sessions_timed_out_total)
	cleanup
	local ok=true
	[ "$n" -ge "$STORM" ] || ok=false
	say "cwmp_boot_storm: $n of $STORM in the inventory after $secs s; $refused Informs refused with 503"
	printf '{"scenario":"cwmp_boot_storm","cpes":%s,"in_inventory":%s,"all_in":%s,"seconds":%s,"refused_503":%s,"sessions_timed_out":%s,"retry_after_s":"1-2"}\n' \
		"$STORM" "$n" "$ok" "$secs" "${refused:-null}" "${timeouts:-null}"
}

# ---------------------------------------------------------------- cwmp_fanout_get
scenario_fanout() {
	reset_db
	start_acs fanout --cr-concurrency 256 --cr-min-gap 5
	start_sim fanout "$FANOUT" --inform-interval 86400 --connect-rate 2000 --max-sessions 1000
	local since=$SECONDS n=0
	while [ "$n" -lt "$FANOUT" ] && [ $((SECONDS - since)) -lt 120 ]; do
		sleep 0.5
		n=$(q "SELECT count(*) FROM cwmp_devices WHERE last_inform_at IS NOT NULL AND session_until IS NULL")
	done
	[ "$n" -ge "$FANOUT" ] || say "cwmp_fanout_get: only $n of $FANOUT CPEs informed"
	say "cwmp_fanout_get: a Get to $FANOUT CPEs through connection requests"
	local t0 t1 out ok
	t0=$(date +%s.%N)
	out=$(echo '{"id":"fan","op":"get","targets":{"all":true},"paths":"Device.DeviceInfo.SoftwareVersion"}' |
		timeout 300 "$BUILD/bin/uspctl" --db "$DB" --timeout 240 -q)
	t1=$(date +%s.%N)
	ok=$(grep -c '"ok":true' <<<"$out")
	local secs p50 p99 crs
	secs=$(awk -v a="$t1" -v b="$t0" 'BEGIN { printf "%.2f", a - b }')
	read -r p50 p99 < <(q "SELECT round(1000 * percentile_cont(0.5) WITHIN GROUP (ORDER BY
	  extract(epoch FROM finished_at - created_at)))::int, round(1000 * percentile_cont(0.99)
	  WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at)))::int
	  FROM tasks WHERE state = 'done'" | tr '|' ' ')
	crs=$(metric connection_requests_total)
	cleanup
	say "cwmp_fanout_get: $ok of $FANOUT results in $secs s; p50 $p50 ms, p99 $p99 ms; $crs connection requests"
	printf '{"scenario":"cwmp_fanout_get","cpes":%s,"results_ok":%s,"seconds":%s,"gets_per_s":%s,"p50_ms":%s,"p99_ms":%s,"connection_requests":%s}\n' \
		"$FANOUT" "$ok" "$secs" "$(fdiv "$ok" "$secs" %.0f)" "${p50:-null}" "${p99:-null}" "${crs:-null}"
}

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if want cwmp_sessions; then scenario_sessions; fi
if want cwmp_boot_storm; then scenario_storm; fi
if want cwmp_fanout_get; then scenario_fanout; fi
exit 0
