#!/usr/bin/env bash
# test_console.sh — the web console in a real browser, end to end: the
# shared stack's broker and PostgreSQL, the uspc daemon, 3 simulated agents
# and uspc-api serving console/; an operator and a viewer token from
# uspctl token_create; one forged record (agent 9 publishing on agent 2's
# topic level: identity_mismatch) so a rejection exists; a campaign (its
# window closed, so no device reboots) and a profile, so their pages have
# something to show. Then tests/console/console-test.mjs drives Debian's
# chromium through the pages (sign in, fleet online count, selector filter,
# agent page, a Get from the page, rejections, a viewer's disabled Set).
# Screenshots: <build>/test-work/console/screenshots/console-*.png; with
# USPC_CONSOLE_DOCS=1 also docs/img/console-*.png.
#
# Needs node, chromium and tests/console/node_modules (deploy/setup-deps.sh
# installs the packages, deploy/test.sh runs npm ci): missing, the test
# fails; it never skips.
# shellcheck disable=SC2119 # uctl takes its own flags
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-uspctl.sh
. "$(dirname "$0")/itest-uspctl.sh"
need node curl
CHROMIUM=${USPC_CONSOLE_CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "chromium is required at $CHROMIUM (Debian package chromium: deploy/setup-deps.sh installs it)"
API=$USPC_BIN_DIR/uspc-api
[ -x "$API" ] || fail "uspc-api is not built: no $API"
NODE_DIR=$USPC_SOURCE_DIR/tests/console
[ -d "$NODE_DIR/node_modules/puppeteer-core" ] ||
  fail "puppeteer-core is not installed: run (cd tests/console && npm ci), as deploy/test.sh does"
SHOTS=$W/screenshots

new_db "$DB_NAME"
start_uspc uspc
start_sim main 3 --fw-download-time 1
wait_onboarded 3 60
A1=$(agent 1) A2=$(agent 2) A3=$(agent 3) ROGUE=$(agent 9)

# ---- what the browser will look for ---------------------------------------
# A value only a real Get can show: set on the agent, read by the console.
NTP=ntp.console-test.example
echo '{"id":"ntp","op":"set","targets":"'"$A1"'","params":{"Device.Time.NTPServer1":"'"$NTP"'"}}' |
  uctl --timeout 30 >"$W/set.out" 2>"$W/set.err" || fail "uspctl set: $(cat "$W/set.out" "$W/set.err")"

# A rejected record: agent 9 speaks on agent 2's topic level.
"$PROBE" --id "$ROGUE" --to-id "$CTL_EID" --agent-topic "usp/controller/$CTL_EID/$A2" \
  --send-connect "usp/agent/$ROGUE" --no-answer >"$W/rogue.out" 2>"$W/rogue.err" ||
  fail "usp-probe (the forged record): $(head -c 500 "$W/rogue.err")"
wait_sql "SELECT reason FROM rejections WHERE sender = '$ROGUE'" identity_mismatch 30

# A campaign whose only slot is three days away: its devices download and
# wait (none reboots during the test), and a profile on agent 3.
DAY=$(LC_ALL=C date -u -d '+3 days' +%a | tr '[:upper:]' '[:lower:]')
cat >"$W/setup.jsonl" <<EOF
{"id":"c","op":"campaign_create","name":"console-fw-2.0","targets":["$A2","$A3"],"firmware":{"url":"https://fw.example/sim-gw-2.0.0.bin","version":"2.0.0"},"waves":[{"percent":50},{"percent":100}],"seed":7,"window":{"timezone":"UTC","slots":[{"days":["$DAY"],"start":"02:00","duration_min":120}]}}
{"id":"p","op":"profile_put","name":"console-ntp","selector":{"eid":"$A3"},"priority":10,"steps":[{"set":{"Device.Time.NTPServer2":"ntp2.console-test.example"}}]}
EOF
uctl <"$W/setup.jsonl" >"$W/setup.out" 2>"$W/setup.err" || fail "campaign/profile setup: $(cat "$W/setup.out" "$W/setup.err")"

# ---- tokens ----------------------------------------------------------------
OP_TOKEN=$(api_token console-op operator)
VIEW_TOKEN=$(api_token console-view viewer)

# ---- uspc-api ---------------------------------------------------------------
"$API" --db "$DB_URL" --listen 127.0.0.1:0 --console "$USPC_SOURCE_DIR/console" >"$W/api.log" 2>&1 &
PID_api=$!
track "$PID_api"
wait_log "$W/api.log" 'listening on http://127\.0\.0\.1:[0-9]+' 20
PORT=$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$W/api.log" | head -n 1 | sed 's/.*://')
BASE=http://127.0.0.1:$PORT
log "uspc-api on $BASE"

# The console's files, with the types a browser needs (a module script
# with another type is refused).
ctype() {
  local t
  t=$(curl -sS -o /dev/null -w '%{http_code} %{content_type}' "$BASE/$1") || fail "GET /$1: curl failed"
  [[ $t == "200 $2"* ]] || fail "GET /$1: '$t', wanted 200 $2"
}
ctype "" text/html
ctype index.html text/html
ctype js/app.js text/javascript
ctype style.css text/css
ctype favicon.svg image/svg+xml
log "ok: the console's files and their types"

# ---- the browser -------------------------------------------------------------
mkdir -p "$SHOTS"
rc=0
USPC_CONSOLE_URL=$BASE/ USPC_CONSOLE_TOKEN=$OP_TOKEN USPC_CONSOLE_VIEWER_TOKEN=$VIEW_TOKEN \
  USPC_CONSOLE_AGENT=$A1 USPC_CONSOLE_ONLINE=3 USPC_CONSOLE_REJECTED=$ROGUE \
  USPC_CONSOLE_GET_PATH=Device.Time.NTPServer1 USPC_CONSOLE_GET_VALUE=$NTP \
  USPC_CONSOLE_ARTIFACTS=$SHOTS USPC_CONSOLE_CHROMIUM=$CHROMIUM \
  timeout 300 node "$NODE_DIR/console-test.mjs" 2>&1 | tee "$W/console-test.out" >&2 || rc=$?
[ "$rc" = 0 ] || fail "the browser test failed (status $rc; screenshots in $SHOTS)"
log "screenshots: $(cd "$SHOTS" && echo console-*.png)"
alive "$PID_api" || fail "uspc-api exited during the test"
stop_pid "$PID_api" || fail "uspc-api exited with status $? on SIGTERM"
log "PASS"
