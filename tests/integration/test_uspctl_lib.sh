# shellcheck shell=bash disable=SC2119
# test_uspctl_lib.sh — helpers for uspctl's integration tests (sourced, not
# a test itself). Each test gets its own database on the shared PostgreSQL,
# its own controller endpoint ID / topic / node id, its own agent endpoint
# IDs, a work dir for logs, and a trap that stops what it started (by pid)
# and drops its database.
#
# Needs: USPC_BIN_DIR, USPC_TEST_WORK_DIR, USPC_MQTT, USPC_DB (with-stack.sh),
# and jq.
set -euo pipefail

: "${USPC_BIN_DIR:?}" "${USPC_TEST_WORK_DIR:?}" "${USPC_DB:?}" "${USPC_MQTT:?}"
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)" >&2; exit 1; }
W=$USPC_TEST_WORK_DIR
# shellcheck source=tests/integration/sanitizer-reports.sh
. "$(dirname "${BASH_SOURCE[0]}")/sanitizer-reports.sh"
mkdir -p "$W"
T=$(basename "$0" .sh)
T=${T#test_}
T=${T//_/-}                              # e.g. uspctl-ops
CTL_EID="proto::ctl-$T"
AGENT_PATTERN="proto::$T-%05d"
NODE="node-$T"
DB_NAME="it_${T//-/_}"
DB_URL="${USPC_DB%/*}/$DB_NAME"
USPC_PID=""
SIM_PID=""
PIDS=()

log() { echo "[$(date +%H:%M:%S)] $T: $*" >&2; }

fail() {
  log "FAIL: $*"
  for f in "$W"/*.log; do
    [ -f "$f" ] || continue
    echo "----- tail of $f" >&2
    tail -n 20 "$f" >&2
  done
  exit 1
}

stop_pid() {
  local p=$1
  [ -n "$p" ] || return 0
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  psql -XAtq "$USPC_DB" -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null 2>&1 || true
  # Sanitizer builds: a report from any program we ran fails the test.
  if sanitizer_reports "$W"; then
    log "FAIL: sanitizer report in the files above"
    [ $rc -ne 0 ] || rc=1
  fi
  exit $rc
}
trap cleanup EXIT

new_db() {
  psql -XAtq "$USPC_DB" -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" >/dev/null
  psql -XAtq "$USPC_DB" -c "CREATE DATABASE \"$DB_NAME\"" >/dev/null
}

q() { psql -XAtq "$DB_URL" -c "$1"; }

# start_uspc — the daemon on this test's database and endpoint; returns
# once it is subscribed to its topics (agents that boot earlier would have
# their Boot! and connect records dropped by the broker).
connects() { # times uspc.log says the daemon got its broker connection
  local n
  n=$(grep -c "MQTT connected" "$W/uspc.log" 2>/dev/null || true)
  echo "${n:-0}"
}

start_uspc() {
  local before end
  before=$(connects)
  "$USPC_BIN_DIR/uspc" --db "$DB_URL" --endpoint-id "$CTL_EID" --node-id "$NODE" \
    --mqtt "$USPC_MQTT" --task-poll-ms 300 --stats-interval 0 --log-level info \
    "$@" >>"$W/uspc.log" 2>&1 &
  USPC_PID=$!
  PIDS+=("$USPC_PID")
  end=$((SECONDS + 30))
  while [ "$(connects)" -le "$before" ]; do
    kill -0 "$USPC_PID" 2>/dev/null || fail "uspc exited at start"
    [ $SECONDS -lt $end ] || fail "uspc did not connect to the broker within 30 s"
    sleep 0.1
  done
}

stop_uspc() {
  stop_pid "$USPC_PID"
  USPC_PID=""
}

# start_sim N [extra flags] — N simulated agents for this test's controller.
start_sim() {
  local n=$1
  shift
  "$USPC_BIN_DIR/usp-agent-sim" --agents "$n" --broker "$USPC_MQTT" \
    --controller-id "$CTL_EID" --eid-pattern "$AGENT_PATTERN" --status-interval 0 \
    --log-level warn "$@" >>"$W/sim.log" 2>&1 &
  SIM_PID=$!
  PIDS+=("$SIM_PID")
}

stop_sim() {
  stop_pid "$SIM_PID"
  SIM_PID=""
}

# shellcheck disable=SC2059 # the pattern is a printf format on purpose
agent() { printf "$AGENT_PATTERN" "$1"; }

# uctl [flags] — uspctl on this test's database; commands on stdin.
uctl() { "$USPC_BIN_DIR/uspctl" --db "$DB_URL" --no-progress "$@"; }

# wait_onboarded N TIMEOUT_S — until N agents are online and onboarded.
wait_onboarded() {
  local n=$1 end=$((SECONDS + $2)) got=0
  while [ $SECONDS -lt $end ]; do
    got=$(q "SELECT count(*) FROM agents WHERE online AND onboarded_at IS NOT NULL" 2>/dev/null || echo 0)
    [ "$got" -ge "$n" ] && return 0
    sleep 0.5
  done
  fail "only $got of $n agents onboarded after $2 s"
}

# offline EID TIMEOUT_S — after its simulator stopped: wait for the daemon
# to mark the agent offline (a USP DisconnectRecord, or request timeouts);
# if it has not within TIMEOUT_S, record it in the inventory ourselves —
# these tests are about what uspctl does with an offline agent, not about
# how the daemon detects one.
offline() {
  local end=$((SECONDS + $2))
  while [ $SECONDS -lt $end ]; do
    [ "$(q "SELECT online FROM agents WHERE eid = '$1'")" = f ] && return 0
    sleep 0.3
  done
  log "the daemon did not mark $1 offline within $2 s; marking it in the inventory"
  q "UPDATE agents SET online = false WHERE eid = '$1'" >/dev/null
}

# check DESCRIPTION JQ_EXPR FILE — FILE (JSON lines) must satisfy the jq
# expression, evaluated over the array of all its lines (jq -s).
check() {
  local what=$1 expr=$2 file=$3
  if ! jq -es "$expr" "$file" >/dev/null 2>&1; then
    echo "----- $file" >&2
    cut -c1-400 "$file" >&2
    fail "$what: jq -s '$expr' is not true"
  fi
  log "ok: $what"
}

# expect_status WANT GOT WHAT
expect_status() {
  [ "$1" = "$2" ] || fail "$3: exit status $2, wanted $1"
}
