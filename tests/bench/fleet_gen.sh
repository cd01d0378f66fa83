#!/usr/bin/env bash
# tests/bench/fleet_gen.sh — fill a uspc database with N synthetic agents
# (issue 20, for the fleet_scale bench).
#
#   tests/bench/fleet_gen.sh [--db URL] [--agents N] [options]
#
# The rows are made inside PostgreSQL by tests/bench/fleet_gen.sql
# (INSERT ... SELECT generate_series, no client round trip per row): the
# inventory (20 models of 8 manufacturers, 5 software versions each, region
# tags, "beta" on 3 %, 90 % online and onboarded), the 5 standard
# subscriptions of every agent, 8 snapshot objects per agent (DeviceInfo,
# its memory and firmware images, Time, LocalAgent, two SSIDs), a history of
# notifications and of finished tasks over the last days. fleet_gen.sql
# says what each table gets. The database is migrated first by running
# uspctl against it once. Then VACUUM (ANALYZE), as autovacuum would leave a
# database that has lived with these rows.
#
# Each step is one transaction that TRUNCATEs the table it fills: on a
# server with wal_level = minimal (deploy/local-stack.sh) the rows then
# skip the WAL. Tables it does not fill (campaigns, profiles, tokens, ...)
# are left as they are.
#
# Progress goes to stderr; stdout gets one JSON line: seconds per step,
# rows and bytes (tables + indexes) per table, the database's size.
#
# Options:
#   --db URL           the database (default $USPC_DB); created tables only
#   --agents N         agents (default 1000000)
#   --notifications K  mean notifications per agent (default 5)
#   --tasks T          fleet-wide commands in the history, one finished task
#                      per agent each (default 3)
#   --days D           the history spans the last D days (default 7)
#   --seed S           random seed, -1..1 (default 0.42): the same seed and
#                      N give the same fleet
#   --jobs J           1 or 2 sessions at once (default 2)
#   --uspctl BIN       uspctl, to migrate the database (default: uspctl in
#                      PATH, else build-bench/bin/uspctl)
#   --replace          allowed to empty a database that already has agents
#                      (agents, subscriptions, snapshot, notifications and
#                      tasks are replaced)
set -uo pipefail

SELF=tests/bench/fleet_gen.sh
REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
SQL="$REPO/tests/bench/fleet_gen.sql"
SCHEMA_VERSION=8 # what fleet_gen.sql was written against

DB=${USPC_DB:-}
AGENTS=1000000
NOTIF=5
TASKS=3
DAYS=7
SEED=0.42
JOBS=2
USPCTL=""
REPLACE=0

die() {
	echo "$SELF: error: $*" >&2
	exit 2
}
say() { echo "$SELF: $(date -u +%H:%M:%S) $*" >&2; }
usage() { sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
	case $1 in
	--db) DB=${2:?--db needs a URL}; shift ;;
	--agents) AGENTS=${2:?--agents needs a number}; shift ;;
	--notifications) NOTIF=${2:?--notifications needs a number}; shift ;;
	--tasks) TASKS=${2:?--tasks needs a number}; shift ;;
	--days) DAYS=${2:?--days needs a number}; shift ;;
	--seed) SEED=${2:?--seed needs a number}; shift ;;
	--jobs) JOBS=${2:?--jobs needs 1 or 2}; shift ;;
	--uspctl) USPCTL=${2:?--uspctl needs a program}; shift ;;
	--replace) REPLACE=1 ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
	shift
done

[ -n "$DB" ] || die "no database: give --db URL or set USPC_DB"
in_range() { # value lo hi
	[[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}
in_range "$AGENTS" 1 100000000 || die "--agents must be 1..100000000"
in_range "$NOTIF" 0 1000 || die "--notifications must be 0..1000"
in_range "$TASKS" 0 1000 || die "--tasks must be 0..1000"
in_range "$DAYS" 1 3650 || die "--days must be 1..3650"
if ! [[ $SEED =~ ^-?(0|1)?(\.[0-9]+)?$ ]] || ! awk -v s="$SEED" 'BEGIN { exit !(s >= -1 && s <= 1) }'; then
	die "--seed must be a number from -1 to 1"
fi
[ "$JOBS" = 1 ] || [ "$JOBS" = 2 ] || die "--jobs must be 1 or 2"
if [ -z "$USPCTL" ]; then
	USPCTL=$(command -v uspctl || echo "$REPO/build-bench/bin/uspctl")
fi
[ -x "$USPCTL" ] || die "uspctl not found ($USPCTL): build it or give --uspctl"

now() { date +%s.%N; }
fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
psql_q() { psql "$DB" -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
run_step() { # step [extra psql -v assignments...]
	local step=$1
	shift
	psql "$DB" -X -q -At -v ON_ERROR_STOP=1 -v step="$step" -v n="$AGENTS" -v seed="$SEED" \
		-v notif="$NOTIF" -v tasks="$TASKS" -v days="$DAYS" "$@" -f "$SQL" >/dev/null
}

TMP=$(mktemp -d /tmp/fleet_gen.XXXXXX) || die "cannot create a scratch directory"
trap 'rm -rf "$TMP"' EXIT
T0=$(now)
timed() { # name [psql -v ...]: run a step, record its seconds in $TMP/secs
	local name=$1 t rc s
	shift
	t=$(now)
	run_step "$name" "$@" 2>"$TMP/$name.err"
	rc=$?
	s=$(fsub "$(now)" "$t")
	if [ $rc -eq 0 ]; then
		echo "$name $s" >>"$TMP/secs"
		say "$name: $s s"
	else
		say "$name: failed after $s s: $(tail -n 3 "$TMP/$name.err")"
	fi
	return $rc
}

# ---------------------------------------------------------------- schema
say "migrating the database with $USPCTL"
echo '{"id":"migrate","op":"tag_list"}' | "$USPCTL" --db "$DB" --quiet >/dev/null ||
	die "uspctl could not use the database"
ver=$(psql_q "SELECT max(version) FROM schema_migrations") || die "cannot read schema_migrations"
[ "${ver:-0}" -ge "$SCHEMA_VERSION" ] || die "schema version $ver, expected $SCHEMA_VERSION or newer"
[ "$ver" = "$SCHEMA_VERSION" ] ||
	say "warning: schema version $ver; fleet_gen.sql was written against $SCHEMA_VERSION"
have=$(psql_q "SELECT count(*) FROM (SELECT 1 FROM agents LIMIT 1) x")
[ "$have" = 0 ] || [ "$REPLACE" = 1 ] ||
	die "the database already has agents (give --replace to empty and fill it again)"

# ---------------------------------------------------------------- steps
TABLES="agents agent_subscriptions snapshot_objects notifications tasks"
say "$AGENTS agents, $NOTIF notifications and $TASKS tasks per agent over $DAYS days, $JOBS job(s)"
timed agents || die "step agents failed"
if [ "$JOBS" = 2 ]; then
	# snapshot before tasks (a Get's result holds the agent's DeviceInfo
	# objects); the other session takes subscriptions and notifications.
	(timed snapshot && timed tasks) &
	p1=$!
	(timed subscriptions && timed notifications) &
	p2=$!
	wait "$p1" || die "step snapshot or tasks failed"
	wait "$p2" || die "step subscriptions or notifications failed"
	(timed finish -v tables="agents, snapshot_objects") &
	p1=$!
	timed finish -v tables="agent_subscriptions, notifications, tasks" || die "step finish failed"
	wait "$p1" || die "step finish failed"
else
	for s in subscriptions snapshot notifications tasks; do
		timed "$s" || die "step $s failed"
	done
	timed finish -v tables="agents, agent_subscriptions, snapshot_objects, notifications, tasks" ||
		die "step finish failed"
fi
TOTAL=$(fsub "$(now)" "$T0")

# ---------------------------------------------------------------- report
# "finish" ran in two sessions at once with --jobs 2: the longer one counts.
steps=$(awk '{ if (!($1 in s) || $2 > s[$1]) s[$1] = $2; if (!($1 in o)) o[$1] = NR }
	END { for (k in s) printf "%d %s %s\n", o[k], k, s[k] }' "$TMP/secs" | sort -n |
	awk '{ printf "%s\"%s\":%s", sep, $2, $3; sep = "," }')
sizes=$(psql_q "SELECT json_object_agg(t, json_build_object('rows', r, 'bytes', b,
    'bytes_per_agent', round(b::numeric / $AGENTS, 1)))
  FROM (SELECT t, sum(c.reltuples)::bigint AS r, sum(pg_total_relation_size(c.oid)) AS b
    FROM unnest(string_to_array('$TABLES', ' ')) t
    JOIN pg_class c ON c.oid = t::regclass  -- a partitioned table: its partitions
      OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = t::regclass)
    WHERE c.relkind = 'r' GROUP BY t) x")
dbb=$(psql_q "SELECT pg_database_size(current_database())")
say "done in $TOTAL s; database $(awk -v b="$dbb" 'BEGIN { printf "%.2f GB", b / 1e9 }')"
printf '{"agents":%s,"notifications_per_agent":%s,"tasks_per_agent":%s,"days":%s,"seed":%s,"jobs":%s,"schema_version":%s,"seconds":%s,"step_seconds":{%s},"tables":%s,"database_bytes":%s}\n' \
	"$AGENTS" "$NOTIF" "$TASKS" "$DAYS" "$SEED" "$JOBS" "$ver" "$TOTAL" "$steps" "$sizes" "$dbb"
