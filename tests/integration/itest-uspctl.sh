# shellcheck shell=bash disable=SC2034 # (settings read by itest-lib.sh and the tests)
# itest-uspctl.sh — helpers of uspctl's integration tests
# (test_uspctl_*.sh), sourced after itest-lib.sh. Each test gets its own
# database on the shared PostgreSQL (new_db "$DB_NAME"; or a private stack),
# its own controller endpoint ID, node id and agent endpoint IDs; one
# daemon (start_uspc uspc: PID_uspc, $W/uspc.log) and one simulator
# (start_sim main N: PID_sim_main, $W/sim-main.log).
#
# Adds: agent N (agent N's endpoint ID), uctl (uspctl on this test's
# database), wait_onboarded, offline, check_jsonl (a jq filter over all
# the JSON lines of a file), expect_status, api_token (a token for
# uspc-api).
#
# Needs also: USPC_MQTT / USPC_DB (with-stack.sh) and jq.
: "${USPC_DB:?}" "${USPC_MQTT:?}"
command -v jq >/dev/null || fail "jq is needed (apt-get install jq)"
_t=${T//_/-} # e.g. uspctl-ops
CTL_EID="proto::ctl-$_t"
AGENT_PREFIX="proto::$_t-"
EID_PATTERN="${AGENT_PREFIX}%05d"
USPC_NODE="node-$_t"
DB_NAME="it_$T"
DB_URL="${USPC_DB%/*}/$DB_NAME"
USPC_ARGS=(--task-poll-ms 300 --stats-interval 0 --log-level info)
SIM_ARGS=(--status-interval 0 --log-level warn)
USPC_CONNECT_TIMEOUT=30
unset _t

# shellcheck disable=SC2059 # the pattern is a printf format on purpose
agent() { printf "$EID_PATTERN" "$1"; }

# uctl [flags] — uspctl on this test's database; commands on stdin.
uctl() { "$USPCTL" --db "$DB_URL" --no-progress "$@"; }

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

# check_jsonl DESCRIPTION JQ_EXPR FILE — FILE (JSON lines) must satisfy the
# jq expression, evaluated over the array of all its lines (jq -s).
check_jsonl() {
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

# api_token NAME ROLE — an API token (uspctl token_create) for uspc-api's
# tests; prints its text.
api_token() {
  echo '{"id":"t","op":"token_create","name":"'"$1"'","role":"'"$2"'"}' | uctl >"$W/token-$1.out" 2>"$W/token-$1.err" ||
    fail "token_create $1: $(cat "$W/token-$1.out" "$W/token-$1.err")"
  jq -er '.result.token | select(startswith("uspc_"))' "$W/token-$1.out" ||
    fail "token_create $1 printed no uspc_ token: $(cat "$W/token-$1.out")"
}
