#!/usr/bin/env bash
# test_api.sh — uspc-api against its contract (docs/api.md) on the real
# stack: the shared broker and PostgreSQL, the uspc daemon, 10 simulated
# agents, one inventoried agent that never connects, one forged record
# (agent 12 publishing on agent 2's topic level: a rejection), and four
# uspc-api processes:
#   api          the defaults (and the console's files);
#   api-slow     --timeout 2 --max-per-ip 3: a client sending its headers a
#                byte a second is cut, and so are idle ones; the 4th
#                connection from one address is answered 503;
#   api-limited  --max-connections 3 --max-per-ip 10 --max-events-clients 1:
#                the 4th connection and the 2nd event stream are answered 503;
#   api-term     --db-connections 1: a request finds it busy for 5 s and
#                is answered 503; then stopped with SIGTERM by the checks.
# Tokens come from uspctl token_create (viewer, operator, admin, and one
# the checks revoke with uspctl token_revoke).
#
# The checks are tests/integration/api_check.py, a real HTTP client
# (Python's standard library; Debian's python3-jsonschema for the OpenAPI
# document): every route of docs/api.md's table, roles and tokens, the
# event stream, keyset pages under inserts, every response against the
# OpenAPI document, bad input and slow or too many clients, and the
# metrics of uspc-api and of the daemon (tests/support/check-metrics.py).
# Its header lists them; each prints "ok: ..." or fails the test.
# shellcheck disable=SC2119 # uctl takes its own flags
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-uspctl.sh
. "$(dirname "$0")/itest-uspctl.sh"
need psql jq
PY=/usr/bin/python3
[ -x "$PY" ] || fail "Debian's python3 is required at $PY"
"$PY" -c 'import jsonschema' 2>/dev/null ||
  fail "python3-jsonschema is required (Debian package; deploy/setup-deps.sh installs it)"
API=$USPC_BIN_DIR/uspc-api
[ -x "$API" ] || fail "uspc-api is not built: no $API"
AGENTS=10

new_db "$DB_NAME"
start_uspc uspc
start_sim main $AGENTS --fw-download-time 1
wait_onboarded $AGENTS 60
ONLINE=()
for i in $(seq $AGENTS); do ONLINE+=("$(agent "$i")"); done
OFFLINE=$(agent 11) ROGUE=$(agent 12)
# An agent the inventory knows but that never connects: its tasks wait.
q "INSERT INTO agents (eid, online) VALUES ('$OFFLINE', false)" >/dev/null

# A rejected record: agent 12 speaks on agent 2's topic level.
"$PROBE" --id "$ROGUE" --to-id "$CTL_EID" --agent-topic "usp/controller/$CTL_EID/$(agent 2)" \
  --send-connect "usp/agent/$ROGUE" --no-answer >"$W/rogue.out" 2>"$W/rogue.err" ||
  fail "usp-probe (the forged record): $(head -c 500 "$W/rogue.err")"
wait_sql "SELECT reason FROM rejections WHERE sender = '$ROGUE'" identity_mismatch 30

# ---- tokens ----------------------------------------------------------------
VIEWER=$(api_token api-viewer viewer)
OPERATOR=$(api_token api-operator operator)
ADMIN=$(api_token api-admin admin)
DOOMED=$(api_token api-doomed viewer)

# ---- uspc-api, four times -----------------------------------------------------
# start_api NAME [flags...] — uspc-api on a free port, logging to
# $W/NAME.log; sets API_PID and API_PORT.
start_api() {
  local name=$1
  shift
  "$API" --db "$DB_URL" --listen 127.0.0.1:0 "$@" >"$W/$name.log" 2>&1 &
  API_PID=$!
  track "$API_PID"
  wait_log "$W/$name.log" 'listening on http://127\.0\.0\.1:[0-9]+' 20
  API_PORT=$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$W/$name.log" | head -n 1 | sed 's/.*://')
  log "$name on http://127.0.0.1:$API_PORT"
}
start_api api --console "$USPC_SOURCE_DIR/console"
PID_MAIN=$API_PID PORT_MAIN=$API_PORT
start_api api-slow --timeout 2 --max-per-ip 3 --console ""
PID_SLOW=$API_PID PORT_SLOW=$API_PORT
start_api api-limited --max-connections 3 --max-per-ip 10 --max-events-clients 1 --console ""
PID_LIMITED=$API_PID PORT_LIMITED=$API_PORT
start_api api-term --db-connections 1 --console ""
PID_TERM=$API_PID PORT_TERM=$API_PORT

# ---- the checks ----------------------------------------------------------------
rc=0
API_PORT=$PORT_MAIN API_SLOW_PORT=$PORT_SLOW API_LIMITED_PORT=$PORT_LIMITED \
  API_TERM_PORT=$PORT_TERM API_TERM_PID=$PID_TERM \
  API_TOKEN_VIEWER=$VIEWER API_TOKEN_OPERATOR=$OPERATOR API_TOKEN_ADMIN=$ADMIN \
  API_TOKEN_DOOMED=$DOOMED API_DOOMED_NAME=api-doomed \
  API_AGENTS="${ONLINE[*]}" API_OFFLINE_AGENT=$OFFLINE API_ROGUE=$ROGUE \
  API_DB_URL=$DB_URL API_USPCTL=$USPCTL API_DOCS=$USPC_SOURCE_DIR/docs/api.md \
  API_CHECK_METRICS=$USPC_SOURCE_DIR/tests/support/check-metrics.py \
  API_DAEMON_METRICS=$(metrics_base uspc) API_WORK_DIR=$W \
  timeout 240 "$PY" "$(dirname "$0")/api_check.py" >"$W/api_check.out" 2>"$W/api_check.err" || rc=$?
cat "$W/api_check.out" >&2
if [ "$rc" != 0 ]; then
  cat "$W/api_check.err" >&2
  fail "api_check.py failed (status $rc)"
fi

for p in "$PID_MAIN" "$PID_SLOW" "$PID_LIMITED"; do
  alive "$p" || fail "a uspc-api (pid $p) exited during the test"
done
# api-term: the checks stopped it with SIGTERM
wait_exit "$PID_TERM" 5 || fail "api-term still runs after the SIGTERM of the checks"
[ "$EXIT_RC" = 0 ] || fail "api-term exited with status $EXIT_RC on SIGTERM"
for p in "$PID_MAIN" "$PID_SLOW" "$PID_LIMITED"; do
  stop_pid "$p" || fail "uspc-api (pid $p) exited with status $? on SIGTERM"
done
# shellcheck disable=SC2154 # start_uspc sets PID_uspc
alive "$PID_uspc" || fail "the uspc daemon exited during the test"
log "PASS"
