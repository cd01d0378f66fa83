#!/usr/bin/env bash
# tests/bench/fleet_scale.sh — uspc's database with a million agents,
# measured (issue 20). The bench scenario `fleet_scale` of run.sh runs it;
# on its own:
#
#   tests/bench/fleet_scale.sh [--agents N] [options] > fleet_scale.json
#
# Fills a database with N synthetic agents (tests/bench/fleet_gen.sh), then
# times the statements uspctl, uspc-api and the daemon's task feeder run
# against it, each as they run it (the statement text of controller/*/sql,
# prepared as libpq sends it: a custom plan per run for uspctl's unnamed
# statements; the feeder's named statement with enable_seqscan off):
#   selectors        each selector kind resolved to its Endpoint IDs
#                    (query_select_eids, as store_query_resolve: every match)
#                    and its first list_agents page of 1,000 (query_agents)
#   paging           the whole fleet in list_agents pages of 1,000 (keyset:
#                    `after` the last Endpoint ID of the page before), per
#                    page, and once through uspctl (one line per page)
#   reads            fleet_versions (admin_versions), tag_list; through
#                    uspctl: fleet_summary (the API's fleet page),
#                    campaign_plan and profile_plan over the fleet
#   claims           ~0.3 N tasks queued (uspctl --no-wait) for offline
#                    agents, parked by the feeder's claims (tasks_claim, 200
#                    a claim); an idle claim with them parked; claims of
#                    tasks queued for ready agents behind them; the
#                    feeder's sweep (tasks_sweep); the bench's tasks are
#                    deleted afterwards
#   bytes            tables + indexes per table, per device
#   notifications    DELETE of one day of notifications, then VACUUM (what
#                    retention would cost without partitions), and the
#                    DROP of the next day's partition (what it costs)
# Each statement runs --runs times (the slow, multi-second ones
# --slow-runs times): p50 and p99 (with fewer than 100 runs the p99 is the
# slowest run) in milliseconds, client side (psql's \timing: the server's
# time plus sending the rows). EXPLAIN (ANALYZE, BUFFERS) of every timed
# statement goes to WORK/explain/NAME.txt; `slow` names those whose p50 is
# over 100 ms.
#
# Stdout gets one JSON line (tests/bench/README.md, "fleet_scale", says what
# each figure means); progress goes to stderr; everything else stays in the
# work directory.
#
# Options:
#   --agents N        fleet size (default 1000000)
#   --db URL          use this database instead of starting a private stack
#                     (deploy/local-stack.sh in WORK/stack); it must be empty
#                     of agents, or hold a fleet to measure as it is (--reuse)
#   --reuse           the database already holds a generated fleet: measure
#                     it without generating (a run deletes one more day of
#                     notifications, nothing else); the line reports
#                     WORK/fleet_gen.json as the generator's, if there is one
#   --runs R          runs per statement (default 11)
#   --slow-runs S     runs of the fleet-wide ops (default 5)
#   --jobs J          fleet_gen.sh's sessions (default 2)
#   --uspctl BIN      uspctl (default <repo>/build-bench/bin/uspctl)
#   --work-dir DIR    explain/, logs/ and scratch files (default: a new
#                     /tmp/uspc-fleet.XXXXXX)
#   --keep            leave the private stack's data behind (stopped)
set -uo pipefail

SELF=tests/bench/fleet_scale.sh
REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
STACK_SH="$REPO/deploy/local-stack.sh"

AGENTS=1000000
DB=""
REUSE=0
RUNS=11
SLOW_RUNS=5
JOBS=2
USPCTL="$REPO/build-bench/bin/uspctl"
WORK=""
KEEP=0
SLOW_MS=100
NODE=fleet-scale

die() {
	echo "$SELF: error: $*" >&2
	exit 2
}
say() { echo "$SELF: $(date -u +%H:%M:%S) $*" >&2; }
usage() { sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
in_range() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

while [ $# -gt 0 ]; do
	case $1 in
	--agents) AGENTS=${2:?--agents needs a number}; shift ;;
	--db) DB=${2:?--db needs a URL}; shift ;;
	--reuse) REUSE=1 ;;
	--runs) RUNS=${2:?--runs needs a number}; shift ;;
	--slow-runs) SLOW_RUNS=${2:?--slow-runs needs a number}; shift ;;
	--jobs) JOBS=${2:?--jobs needs 1 or 2}; shift ;;
	--uspctl) USPCTL=${2:?--uspctl needs a program}; shift ;;
	--work-dir) WORK=${2:?--work-dir needs a directory}; shift ;;
	--keep) KEEP=1 ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
	shift
done
in_range "$AGENTS" 1000 100000000 || die "--agents must be 1000..100000000"
in_range "$RUNS" 1 1000 || die "--runs must be 1..1000"
in_range "$SLOW_RUNS" 1 100 || die "--slow-runs must be 1..100"
[ -x "$USPCTL" ] || die "uspctl not found ($USPCTL): build it or give --uspctl"

if [ -z "$WORK" ]; then
	WORK=$(mktemp -d /tmp/uspc-fleet.XXXXXX) || die "cannot create a work directory"
else
	mkdir -p "$WORK" || die "cannot create $WORK"
	WORK=$(cd "$WORK" && pwd -P)
fi
chmod 755 "$WORK" # PostgreSQL runs as 'postgres' when we are root
LOGS="$WORK/logs"
mkdir -p "$LOGS" "$WORK/explain" "$WORK/sql" "$WORK/times"
STACK_UP=0

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "$STACK_UP" = 1 ]; then
		if [ "$KEEP" = 1 ]; then
			"$STACK_SH" stop --dir "$WORK/stack" >>"$LOGS/stack.log" 2>&1
		else
			"$STACK_SH" destroy --dir "$WORK/stack" >>"$LOGS/stack.log" 2>&1
		fi
	fi
	say "explain files in $WORK/explain, logs in $LOGS"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
ms_since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.1f\n", (a - b) * 1000 }'; }
psql_q() { psql "$DB" -X -q -At -v ON_ERROR_STOP=1 -c "$1" 2>>"$LOGS/psql.log"; }
lit() { printf "'%s'" "${1//\'/\'\'}"; } # SQL literal
line() { printf '%s\n' "$@"; }

# The text of statement NAME of controller/DIR/sql as the build embeds it
# (cmake/embed_sql.cmake): comment lines dropped, {{frag}} replaced by
# _frag.sql of the same folder.
stmt_text() { # dir name
	perl -e '
		my $dir = shift;
		sub load {
			my ($n) = @_;
			open(my $f, "<", "$dir/$n.sql") or die "$dir/$n.sql: $!\n";
			local $/; my $t = <$f>; close $f;
			$t =~ s/(^|\n)[ \t]*--[^\n]*/$1/g;
			$t =~ s/\n[ \t]*\n/\n/g while $t =~ /\n[ \t]*\n/;
			$t =~ s/^\s+|\s+$//g;
			$t =~ s/\{\{(\w+)\}\}/load("_$1")/ge;
			return $t;
		}
		print load(shift);' "$REPO/controller/$1/sql" "$2"
}

# p50 and p99 (nearest rank) of the numbers in a file, one per line:
# "count p50 p99 sum".
stats() {
	sort -g "$1" | awk '{ v[NR] = $1; s += $1 } END {
		if (!NR) { print "0 null null 0"; exit }
		i50 = int(NR * 0.50); if (i50 < NR * 0.50) i50++
		i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++
		printf "%d %.2f %.2f %.1f\n", NR, v[i50], v[i99], s }'
}

SLOW=""
FIG=""   # the figures, "name":{...} joined by commas
add_fig() { FIG="$FIG${FIG:+,}\"$1\":$2"; }
note_slow() { # name p50
	awk -v p="$2" -v l="$SLOW_MS" 'BEGIN { exit !(p != "null" && p + 0 > l) }' &&
		SLOW="$SLOW${SLOW:+,}\"$1\""
}

# Times from a psql run with \timing on: "Time: 12.345 ms" lines on stdout.
times_of() { sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$1"; }

# Actual rows of the plan's top node (EXPLAIN ANALYZE).
plan_rows() { sed -n '1s/.*actual time=[^ ]* rows=\([0-9]*\).*/\1/p' "$1"; }

# measure NAME DIR STMT ARGS [RUNS] [SETUP]: prepare the statement, run it
# RUNS times with ARGS (SQL literals), then once under EXPLAIN (ANALYZE,
# BUFFERS). SETUP defaults to a custom plan every run, as libpq's unnamed
# statements (PQexecParams) get.
measure() {
	local name=$1 dir=$2 stmt=$3 args=$4 runs=${5:-$RUNS}
	local setup=${6:-"SET plan_cache_mode = force_custom_plan;"}
	local f="$WORK/sql/$name.sql" t="$WORK/times/$name.txt" i exe="EXECUTE q"
	[ -n "$args" ] && exe="EXECUTE q($args)"
	{
		line '\set ON_ERROR_STOP on'
		echo "$setup"
		printf 'PREPARE q AS %s;\n' "$(stmt_text "$dir" "$stmt")"
		line '\timing on'
		for ((i = 0; i < runs; i++)); do echo "$exe;"; done
		line '\timing off'
		echo "\\o $WORK/explain/$name.txt"
		echo "EXPLAIN (ANALYZE, BUFFERS) $exe;"
	} >"$f"
	if ! psql "$DB" -X -q -At -o /dev/null -f "$f" >"$t.out" 2>>"$LOGS/psql.log"; then
		say "$name: failed (see $LOGS/psql.log)"
		add_fig "$name" '{"failed":true}'
		return 1
	fi
	times_of "$t.out" >"$t"
	local n p50 p99 rows
	read -r n p50 p99 _ <<<"$(stats "$t")"
	rows=""
	[[ $name == resolve_* ]] && rows=$(plan_rows "$WORK/explain/$name.txt")
	say "$name: p50 $p50 ms, p99 $p99 ms ($n runs${rows:+, $rows rows})"
	add_fig "$name" "{\"runs\":$n,\"p50_ms\":$p50,\"p99_ms\":$p99${rows:+,\"rows\":$rows}}"
	note_slow "$name" "$p50"
	return 0
}

# uspctl_ops NAME RUNS LINE: run uspctl RUNS times on one input line; wall
# time of each process (start, connect, schema check and the op).
uspctl_op() {
	local name=$1 runs=$2 line=$3 i t0 ok=true
	local in="$WORK/sql/$name.jsonl" t="$WORK/times/$name.txt"
	printf '%s\n' "$line" >"$in"
	: >"$t"
	for ((i = 0; i < runs; i++)); do
		t0=$(now)
		"$USPCTL" --db "$DB" --quiet -f "$in" >"$WORK/$name.out" 2>>"$LOGS/uspctl.log" || ok=false
		ms_since "$t0" >>"$t"
	done
	grep -q '"ok":false' "$WORK/$name.out" && ok=false
	local n p50 p99
	read -r n p50 p99 _ <<<"$(stats "$t")"
	say "$name (uspctl): p50 $p50 ms, p99 $p99 ms ($n runs, ok $ok)"
	add_fig "$name" "{\"runs\":$n,\"p50_ms\":$p50,\"p99_ms\":$p99,\"ok\":$ok}"
	note_slow "$name" "$p50"
}

# ---------------------------------------------------------------- database
if [ -z "$DB" ]; then
	say "starting a private stack in $WORK/stack"
	"$STACK_SH" start --dir "$WORK/stack" >"$WORK/stack.env" 2>>"$LOGS/stack.log" ||
		die "deploy/local-stack.sh could not start (see $LOGS/stack.log)"
	STACK_UP=1
	# shellcheck disable=SC1091
	. "$WORK/stack/env"
	DB=$USPC_DB
	REUSE=0
fi
have=$(psql_q "SELECT count(*) FROM agents" 2>/dev/null || echo 0)
GEN=null
if [ "$REUSE" = 1 ]; then
	[ "${have:-0}" -gt 0 ] || die "--reuse: the database has no agents"
	say "measuring the fleet already in the database ($have agents)"
	[ -s "$WORK/fleet_gen.json" ] && GEN=$(cat "$WORK/fleet_gen.json")
else
	[ "${have:-0}" = 0 ] || die "the database already has $have agents (give --reuse to measure them)"
	say "generating $AGENTS agents (tests/bench/fleet_gen.sh)"
	GEN=$("$REPO/tests/bench/fleet_gen.sh" --db "$DB" --agents "$AGENTS" --jobs "$JOBS" \
		--uspctl "$USPCTL" 2>>"$LOGS/fleet_gen.log" | tee "$WORK/fleet_gen.json")
	[ -n "$GEN" ] || die "fleet_gen.sh failed (see $LOGS/fleet_gen.log)"
	say "generated in $(sed -n 's/.*"seconds":\([0-9.]*\),"step_seconds".*/\1/p' <<<"$GEN") s"
fi
N=$(psql_q "SELECT count(*) FROM agents")
[ "${N:-0}" -gt 0 ] || die "no agents"
SETTINGS=$(psql_q "SELECT json_object_agg(name, current_setting(name)) FROM pg_settings
  WHERE name IN ('shared_buffers', 'work_mem', 'effective_cache_size', 'random_page_cost',
    'server_version', 'wal_level', 'max_parallel_workers_per_gather')")

# ---------------------------------------------------------------- bytes
# Before the bench adds anything: every table of the schema with its
# indexes and TOAST, per device; a partitioned table's partitions are
# summed under its name.
BYTES=$(psql_q "SELECT json_build_object(
    'per_table', (SELECT json_object_agg(t, json_build_object('rows', rows, 'bytes', bytes,
        'heap_bytes', heap, 'index_bytes', idx, 'bytes_per_device', round(bytes::numeric / $N, 1))
        ORDER BY bytes DESC) FROM (
      SELECT coalesce(i.inhparent::regclass::text, s.relname) AS t, sum(s.n_live_tup) AS rows,
        sum(pg_total_relation_size(s.relid)) AS bytes, sum(pg_relation_size(s.relid)) AS heap,
        sum(pg_indexes_size(s.relid)) AS idx
      FROM pg_stat_user_tables s LEFT JOIN pg_inherits i ON i.inhrelid = s.relid
      GROUP BY 1 HAVING sum(pg_total_relation_size(s.relid)) > 65536) x),
    'tables_bytes', (SELECT sum(pg_total_relation_size(relid)) FROM pg_stat_user_tables),
    'tables_bytes_per_device', (SELECT round(sum(pg_total_relation_size(relid))::numeric / $N, 1)
      FROM pg_stat_user_tables),
    'database_bytes', pg_database_size(current_database()))")
say "bytes: $(jq -r '"\(.tables_bytes_per_device) B per device, database \(.database_bytes / 1e9 * 100 | round / 100) GB"' <<<"$BYTES")"

# ---------------------------------------------------------------- selectors
# Values from the fleet itself: its largest model and manufacturer, the
# commonest version of that model, a region tag, a narrow Endpoint ID
# prefix (about a thousand serial numbers) and a wide one (a manufacturer's
# OUI).
IFS='|' read -r MODEL VERSION MANUF OUI <<<"$(psql_q "SELECT a.model_name, a.software_version,
    a.manufacturer, a.oui FROM agents a WHERE a.model_name = (SELECT model_name FROM agents
      GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)
  GROUP BY 1, 2, 3, 4 ORDER BY count(*) DESC LIMIT 1")"
MID=$(psql_q "SELECT eid FROM agents ORDER BY eid OFFSET $((N / 2)) LIMIT 1")
NARROW="${MID:0:${#MID}-3}*"
WIDE="os::$OUI-*"
say "selector values: model $MODEL, version $VERSION, manufacturer $MANUF, globs $NARROW $WIDE"

# sel_where.sql's $1..$7: eids, tag, model, manufacturer, version, eid LIKE, online
declare -A SEL=(
	[all]="NULL, NULL, NULL, NULL, NULL, NULL, NULL"
	[tag_beta]="NULL, 'beta', NULL, NULL, NULL, NULL, NULL"
	[tag_region]="NULL, 'region:eu-west-3', NULL, NULL, NULL, NULL, NULL"
	[model]="NULL, NULL, $(lit "$MODEL"), NULL, NULL, NULL, NULL"
	[manufacturer]="NULL, NULL, NULL, $(lit "$MANUF"), NULL, NULL, NULL"
	[software_version]="NULL, NULL, NULL, NULL, $(lit "$VERSION"), NULL, NULL"
	[model_and_version]="NULL, NULL, $(lit "$MODEL"), NULL, $(lit "$VERSION"), NULL, NULL"
	[online]="NULL, NULL, NULL, NULL, NULL, NULL, true"
	[offline]="NULL, NULL, NULL, NULL, NULL, NULL, false"
	[eid_glob_narrow]="NULL, NULL, NULL, NULL, NULL, $(lit "${NARROW%\*}%"), NULL"
	[eid_glob_oui]="NULL, NULL, NULL, NULL, NULL, $(lit "${WIDE%\*}%"), NULL"
)
SEL_ORDER="all tag_beta tag_region model manufacturer software_version model_and_version online offline eid_glob_narrow eid_glob_oui"
for k in $SEL_ORDER; do
	measure "resolve_$k" store query_select_eids "${SEL[$k]}, 1000001"
done
for k in $SEL_ORDER; do
	measure "page1_$k" store query_agents "${SEL[$k]}, 1000, NULL"
done

# ---------------------------------------------------------------- paging
say "paging: the whole fleet in pages of 1,000"
psql_q "SELECT eid FROM (SELECT eid, row_number() OVER (ORDER BY eid) AS rn FROM agents) x
  WHERE rn % 1000 = 0 ORDER BY eid" >"$WORK/page-bounds.txt"
{
	line '\set ON_ERROR_STOP on'
	echo 'SET plan_cache_mode = force_custom_plan;'
	printf 'PREPARE q AS %s;\n' "$(stmt_text store query_agents)"
	line '\timing on'
	echo "EXECUTE q(${SEL[all]}, 1000, NULL);"
	while read -r e; do echo "EXECUTE q(${SEL[all]}, 1000, $(lit "$e"));"; done <"$WORK/page-bounds.txt"
	line '\timing off'
	echo "\\o $WORK/explain/paging_page.txt"
	echo "EXPLAIN (ANALYZE, BUFFERS) EXECUTE q(${SEL[all]}, 1000, $(lit "$MID"));"
} >"$WORK/sql/paging.sql"
psql "$DB" -X -q -At -o /dev/null -f "$WORK/sql/paging.sql" >"$WORK/times/paging.out" 2>>"$LOGS/psql.log"
times_of "$WORK/times/paging.out" >"$WORK/times/paging.txt"
read -r pn pp50 pp99 psum <<<"$(stats "$WORK/times/paging.txt")"
# The same listing through uspctl: one list_agents line per page.
{
	echo '{"id":"p0","op":"list_agents","limit":1000}'
	awk '{ printf "{\"id\":\"p%d\",\"op\":\"list_agents\",\"limit\":1000,\"after\":\"%s\"}\n", NR, $0 }' \
		"$WORK/page-bounds.txt"
} >"$WORK/sql/paging.jsonl"
t0=$(now)
"$USPCTL" --db "$DB" --quiet -f "$WORK/sql/paging.jsonl" 2>>"$LOGS/uspctl.log" |
	grep -c '"ok":true' >"$WORK/paging-uspctl.count"
ums=$(ms_since "$t0")
ulines=$(cat "$WORK/paging-uspctl.count")
say "paging: $pn pages, p50 $pp50 ms, p99 $pp99 ms, $psum ms in all; through uspctl $ums ms for $ulines agents"
add_fig paging "{\"pages\":$pn,\"page_p50_ms\":$pp50,\"page_p99_ms\":$pp99,\"all_pages_ms\":$psum,\"uspctl_listing_ms\":$ums,\"uspctl_agents_listed\":$ulines}"

# ---------------------------------------------------------------- reads
measure fleet_versions fleet admin_versions "'{\"all\":true}'"
measure tag_list cli reads_tags "10000"
measure fleet_summary_reads cli reads_summary ""
uspctl_op fleet_summary "$RUNS" '{"id":"s","op":"fleet_summary"}'
CAMPAIGN='"firmware":{"url":"http://fw.example.net/fleet-scale.bin","version":"99.0.0"},"waves":[{"percent":1},{"percent":10},{"percent":100}],"seed":42'
uspctl_op campaign_plan_all "$SLOW_RUNS" "{\"id\":\"c\",\"op\":\"campaign_plan\",\"name\":\"fleet-scale\",\"targets\":{\"all\":true},$CAMPAIGN}"
uspctl_op campaign_plan_model "$SLOW_RUNS" "{\"id\":\"c\",\"op\":\"campaign_plan\",\"name\":\"fleet-scale\",\"targets\":{\"model\":\"$MODEL\"},$CAMPAIGN}"
PROFILE='"priority":10,"steps":[{"set":{"Device.Time.NTPServer1":"ntp1.example.net"}}],"sample":0'
uspctl_op profile_plan_all "$SLOW_RUNS" "{\"id\":\"p\",\"op\":\"profile_plan\",\"name\":\"fleet-scale\",\"selector\":{\"all\":true},$PROFILE}"
uspctl_op profile_plan_model_where "$SLOW_RUNS" "{\"id\":\"p\",\"op\":\"profile_plan\",\"name\":\"fleet-scale\",\"selector\":{\"model\":\"$MODEL\",\"where\":[\"Device.Time.LocalTimeZone != \\\"UTC0\\\"\"]},$PROFILE}"
measure profile_match_all fleet prof_admin_match "'{\"all\":true}', 0" "$SLOW_RUNS"
measure profile_match_model_where fleet prof_admin_match "$(lit "{\"model\":\"$MODEL\",\"where\":[{\"path\":\"Device.Time.LocalTimeZone\",\"op\":\"!=\",\"value\":\"UTC0\"}]}"), 0" "$SLOW_RUNS"

# campaign_plan's statements under EXPLAIN, in a transaction rolled back
# (as the op runs them, stratified: fleet_admin.c plan_rows, plan_summary;
# the waves' first ranks as fleet_spec_wave_end cuts 1/10/100 %).
waves=$(awk -v n="$N" 'BEGIN { printf "{%d,%d}", int(n * 0.01 + 0.999999) + 1, int(n * 0.10 + 0.999999) + 1 }')
{
	line '\set ON_ERROR_STOP on'
	echo 'BEGIN;'
	echo "$(stmt_text fleet admin_plan_table);"
	printf 'PREPARE r AS %s;\n' "$(stmt_text fleet admin_plan_rows)"
	printf 'PREPARE c AS %s;\n' "$(stmt_text fleet admin_plan_conflicts)"
	printf 'PREPARE s AS %s;\n' "$(stmt_text fleet admin_plan_summary)"
	echo "EXPLAIN (ANALYZE, BUFFERS) EXECUTE r('{\"all\":true}', '42', true, '{}', '{}', '99.0.0');"
	echo 'ANALYZE fleet_plan;'
	echo 'EXPLAIN (ANALYZE, BUFFERS) EXECUTE c;'
	echo "EXPLAIN (ANALYZE, BUFFERS) EXECUTE s(3, 0, '$waves');"
	echo 'ROLLBACK;'
} >"$WORK/sql/campaign_plan_explain.sql"
psql "$DB" -X -q -o "$WORK/explain/campaign_plan_all.txt" -f "$WORK/sql/campaign_plan_explain.sql" \
	2>>"$LOGS/psql.log" || say "campaign_plan EXPLAIN failed (see $LOGS/psql.log)"

# ---------------------------------------------------------------- claims
# The feeder's claim statement as it runs it: one named statement, its
# session with enable_seqscan and jit off, 200 tasks a claim, require_onboarded on,
# no profile gate ($1 node, $2 limit, $3 require_onboarded, $4 claim seq,
# $5 cursor, $6 gate).
CLAIM_SETUP="SET enable_seqscan = off; SET jit = off;"
MAX_ID=$(psql_q "SELECT coalesce(max(id), 0) FROM tasks")
OFF=$(psql_q "SELECT count(*) FROM agents WHERE NOT online")
WANT=$((N * 3 / 10))
REPS=$(((WANT + OFF / 2) / (OFF > 0 ? OFF : 1)))
[ "$REPS" -ge 1 ] || REPS=1
say "claims: queueing ~$WANT tasks for the $OFF offline agents ($REPS per agent) through uspctl --no-wait"
for ((i = 1; i <= REPS; i++)); do
	printf '{"id":"park%d","op":"get","targets":{"online":false},"paths":["Device.DeviceInfo.SoftwareVersion"]}\n' "$i"
done >"$WORK/sql/park.jsonl"
t0=$(now)
"$USPCTL" --db "$DB" --quiet --no-wait --expires 86400 -f "$WORK/sql/park.jsonl" 2>>"$LOGS/uspctl.log" |
	grep -c '"ok":true' >"$WORK/park.count"
queue_ms=$(ms_since "$t0")
QUEUED=$(cat "$WORK/park.count")
ready_before=$(psql_q "SELECT count(*) FROM tasks WHERE state = 'queued' AND NOT parked AND id <= $MAX_ID")
say "claims: $QUEUED tasks queued in $queue_ms ms ($ready_before older queued ones)"

# Parking them: claims one after the other, each starting after the last
# id the previous one walked (a round of the feeder's claim_all). The first
# claim runs under EXPLAIN, apart.
claim_text=$(stmt_text store tasks_claim)
claim_explain() { # file, claim seq
	{
		line '\set ON_ERROR_STOP on'
		line "$CLAIM_SETUP"
		printf 'PREPARE claim AS %s;\n' "$claim_text"
		line "EXPLAIN (ANALYZE, BUFFERS) EXECUTE claim('$NODE', 200, true, $2, 0, false);"
	} >"$WORK/sql/$1.sql"
	psql "$DB" -X -q -At -o "$WORK/explain/$1.txt" -f "$WORK/sql/$1.sql" 2>>"$LOGS/psql.log" ||
		say "claims: EXPLAIN of a claim failed (see $LOGS/psql.log)"
}
claim_explain claim_parking 1000000
nclaims=$((QUEUED / 200 + 3))
{
	line '\set ON_ERROR_STOP on'
	echo "$CLAIM_SETUP"
	printf 'PREPARE claim AS %s;\n' "$claim_text"
	line '\set last_id 0'
	line '\timing on'
	for ((i = 1; i <= nclaims; i++)); do
		echo "EXECUTE claim('$NODE', 200, true, $i, :last_id, false) \\gset"
		line '\echo claim :walked :parked'
	done
} >"$WORK/sql/park.sql"
t0=$(now)
psql "$DB" -X -q -At -f "$WORK/sql/park.sql" >"$WORK/times/park.out" 2>>"$LOGS/psql.log" ||
	say "claims: the parking script failed (see $LOGS/psql.log)"
park_wall=$(ms_since "$t0")
# the claims that walked something
paste -d' ' <(times_of "$WORK/times/park.out") <(sed -n 's/^claim //p' "$WORK/times/park.out") |
	awk '$2 > 0 { print $1 }' >"$WORK/times/park.txt"
PARKED=$(psql_q "SELECT count(*) FROM tasks WHERE state = 'queued' AND parked")
read -r kn kp50 kp99 ksum <<<"$(stats "$WORK/times/park.txt")"
say "claims: $PARKED parked by $kn claims, p50 $kp50 ms, p99 $kp99 ms, $ksum ms in all"
add_fig queue_for_offline "{\"tasks\":$QUEUED,\"uspctl_ms\":$queue_ms}"
add_fig claim_parking "{\"parked\":$PARKED,\"claims\":$kn,\"claim_p50_ms\":$kp50,\"claim_p99_ms\":$kp99,\"claims_ms\":$ksum,\"wall_ms\":$park_wall}"
note_slow claim_parking "$kp50"

# An idle claim (the feeder's poll every 2 s) with all of them parked.
measure claim_idle store tasks_claim "'$NODE', 200, true, 1, 0, false" "$RUNS" "$CLAIM_SETUP"

# Tasks for ready agents queued behind them: claimed 200 at a time.
t0=$(now)
echo '{"id":"ready","op":"get","targets":{"tag":"beta","online":true},"paths":["Device.DeviceInfo.SoftwareVersion"]}' |
	"$USPCTL" --db "$DB" --quiet --no-wait --expires 86400 2>>"$LOGS/uspctl.log" | grep -c '"ok":true' >"$WORK/ready.count"
READY=$(cat "$WORK/ready.count")
say "claims: $READY tasks queued for ready agents (tag beta) in $(ms_since "$t0") ms"
claim_explain claim_ready 1000001
SENT0=$(psql_q "SELECT count(*) FROM tasks WHERE state = 'sent' AND claimed_by = '$NODE'")
{
	line '\set ON_ERROR_STOP on'
	line "$CLAIM_SETUP"
	printf 'PREPARE claim AS %s;\n' "$claim_text"
	line '\timing on'
	for ((i = 1; i <= (READY - SENT0) / 200 + 1; i++)); do
		echo "EXECUTE claim('$NODE', 200, true, $((1000001 + i)), 0, false);"
	done
} >"$WORK/sql/ready.sql"
psql "$DB" -X -q -At -o /dev/null -f "$WORK/sql/ready.sql" >"$WORK/times/ready.out" 2>>"$LOGS/psql.log" ||
	say "claims: the ready claims failed (see $LOGS/psql.log)"
times_of "$WORK/times/ready.out" >"$WORK/times/ready.txt"
SENT=$(($(psql_q "SELECT count(*) FROM tasks WHERE state = 'sent' AND claimed_by = '$NODE'") - SENT0))
read -r rn rp50 rp99 rsum <<<"$(stats "$WORK/times/ready.txt")"
say "claims: $SENT of $READY ready tasks claimed by $rn claims (and $SENT0 by the one under EXPLAIN), p50 $rp50 ms, p99 $rp99 ms"
add_fig claim_ready "{\"queued\":$READY,\"claimed\":$SENT,\"claims\":$rn,\"claim_p50_ms\":$rp50,\"claim_p99_ms\":$rp99,\"claims_ms\":$rsum,\"tasks_per_sec\":$(awk -v n="$SENT" -v s="$rsum" 'BEGIN { if (s > 0) printf "%.0f", n * 1000 / s; else print "null" }')}"
note_slow claim_ready "$rp50"

# The feeder's sweep (every 60 s) and fleet_summary with them queued.
measure sweep_with_parked store tasks_sweep "true, false" "$SLOW_RUNS" "$CLAIM_SETUP"
uspctl_op fleet_summary_with_parked "$RUNS" '{"id":"s","op":"fleet_summary"}'
psql_q "DELETE FROM tasks WHERE id > $MAX_ID" >/dev/null
psql_q "VACUUM tasks" >/dev/null

# ---------------------------------------------------------------- notifications
# One day of notifications deleted (the oldest whole day), then the
# VACUUM that makes their space reusable: what retention costs without
# partitions. The plan comes from the next day, deleted and rolled back.
DAY=$(psql_q "SELECT date_trunc('day', min(received_at)) FROM notifications WHERE received_at >=
  (SELECT date_trunc('day', min(received_at)) + interval '1 day' FROM notifications)")
DROWS=$(psql_q "SELECT count(*) FROM notifications WHERE received_at >= '$DAY' AND received_at < timestamptz '$DAY' + interval '1 day'")
NROWS=$(psql_q "SELECT count(*) FROM notifications")
{
	line '\set ON_ERROR_STOP on'
	line '\timing on'
	echo "DELETE FROM notifications WHERE received_at >= '$DAY' AND received_at < timestamptz '$DAY' + interval '1 day';"
	echo 'VACUUM notifications;'
	line '\timing off'
	echo "\\o $WORK/explain/delete_notifications_day.txt"
	echo 'BEGIN;'
	echo "EXPLAIN (ANALYZE, BUFFERS, WAL) DELETE FROM notifications WHERE received_at >= timestamptz '$DAY' + interval '1 day' AND received_at < timestamptz '$DAY' + interval '2 days';"
	echo 'ROLLBACK;'
} >"$WORK/sql/delete_day.sql"
say "notifications: deleting the $DROWS of $NROWS rows received on ${DAY%% *}"
psql "$DB" -X -q -At -o /dev/null -f "$WORK/sql/delete_day.sql" >"$WORK/times/delete_day.out" 2>>"$LOGS/psql.log" ||
	say "notifications: the delete failed (see $LOGS/psql.log)"
del_ms=$(times_of "$WORK/times/delete_day.out" | sed -n 1p)
vac_ms=$(times_of "$WORK/times/delete_day.out" | sed -n 2p)
say "notifications: DELETE ${del_ms:-?} ms, VACUUM ${vac_ms:-?} ms"
add_fig delete_notifications_day "{\"rows\":${DROWS:-0},\"table_rows\":${NROWS:-0},\"delete_ms\":${del_ms:-null},\"vacuum_ms\":${vac_ms:-null}}"
note_slow delete_notifications_day "${del_ms:-null}"

# The same with partitions: the next whole day dropped as the maintenance
# drops it (uspc_part_drop: one DROP TABLE, under a 1 s lock timeout); no
# VACUUM follows. Only where that day has its own partition (a database
# generated at schema version 10; not a legacy table's days).
PDAY=$(psql_q "SELECT to_char(timestamptz '$DAY' + interval '1 day', 'YYYYMMDD')")
PART="notifications_p$PDAY"
if [ "$(psql_q "SELECT count(*) FROM uspc_part_list('notifications') WHERE name = '$PART'")" = 1 ]; then
	PROWS=$(psql_q "SELECT count(*) FROM $PART")
	{
		line '\set ON_ERROR_STOP on'
		line '\timing on'
		echo "SELECT uspc_part_drop('notifications', '$PART', (timestamptz '$DAY' + interval '2 days')::date, 1000);"
	} >"$WORK/sql/drop_day.sql"
	say "notifications: dropping $PART ($PROWS rows)"
	psql "$DB" -X -q -At -o /dev/null -f "$WORK/sql/drop_day.sql" >"$WORK/times/drop_day.out" 2>>"$LOGS/psql.log" ||
		say "notifications: the drop failed (see $LOGS/psql.log)"
	drop_ms=$(times_of "$WORK/times/drop_day.out" | sed -n 1p)
	say "notifications: DROP of a day ${drop_ms:-?} ms"
	add_fig drop_notifications_day "{\"rows\":${PROWS:-0},\"drop_ms\":${drop_ms:-null}}"
else
	say "notifications: no partition $PART (a legacy table): no drop measured"
	add_fig drop_notifications_day null
fi

printf '{"scenario":"fleet_scale","fleet_agents":%s,"runs":%s,"slow_runs":%s,"settings":%s,"generator":%s,"bytes":%s,%s,"slow":[%s]}\n' \
	"$N" "$RUNS" "$SLOW_RUNS" "${SETTINGS:-null}" "$GEN" "$BYTES" "$FIG" "$SLOW"
