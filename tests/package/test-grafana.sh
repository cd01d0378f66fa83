#!/usr/bin/env bash
# test-grafana.sh — the Grafana dashboard (deploy/grafana/uspc.json) and the
# Prometheus example (deploy/prometheus/prometheus.yml) against the metrics
# the daemons really serve: a private mosquitto and PostgreSQL, the uspc
# daemon, 5 simulated agents, one undecodable record (so that
# uspc_rejected_records_total exists), uspc-api with a viewer token and a
# few requests and an event stream; then tests/package/grafana-check.py
# over both /metrics (every expr's metrics and labels are served; PromQL
# parsed by promtool when it is installed).
#
# When Debian's prometheus package is installed (prometheus and promtool on
# the PATH; deploy/setup-deps.sh does not install it), also: promtool check
# config on prometheus.yml with this test's targets and token file, a real
# Prometheus scraping both daemons with it (the Bearer token from
# credentials_file), and every expr evaluated there returns a series.
#
# ctest runs it (label integration; tests/package/grafana.cmake); by hand:
#   USPC_BIN_DIR=build/bin USPC_SOURCE_DIR=$PWD USPC_LOCAL_STACK=$PWD/deploy/local-stack.sh \
#   USPC_TEST_WORK_DIR=/tmp/grafana tests/package/test-grafana.sh
: "${USPC_SOURCE_DIR:?}"
# shellcheck source=tests/integration/itest-lib.sh
. "$USPC_SOURCE_DIR/tests/integration/itest-lib.sh"
need curl python3 psql jq mosquitto_pub
API=$USPC_BIN_DIR/uspc-api
[ -x "$API" ] || fail "uspc-api is not built: no $API"
CHECK=$USPC_SOURCE_DIR/tests/package/grafana-check.py
DASH=$USPC_SOURCE_DIR/deploy/grafana/uspc.json
PROM_YML=$USPC_SOURCE_DIR/deploy/prometheus/prometheus.yml

private_stack "$W/stack"
# shellcheck source=tests/integration/itest-uspctl.sh
. "$USPC_SOURCE_DIR/tests/integration/itest-uspctl.sh"
new_db "$DB_NAME"
start_uspc uspc
start_sim main 5
wait_onboarded 5 60
USPC_BASE=$(metrics_base uspc)

# One undecodable record on the controller's topic: a rejection.
mosquitto_pub -V mqttv5 -L "$USPC_MQTT/usp/controller/$CTL_EID" -m 'not a USP record' ||
	fail "mosquitto_pub failed"
end=$((SECONDS + 20))
until curl -sf "$USPC_BASE/metrics" | grep -q '^uspc_rejected_records_total{'; do
	[ $SECONDS -lt $end ] || fail "no uspc_rejected_records_total on $USPC_BASE/metrics after 20 s"
	sleep 0.3
done

"$API" --db "$DB_URL" --listen 127.0.0.1:0 --console "" >"$W/uspc-api.log" 2>&1 &
track $!
wait_log "$W/uspc-api.log" 'listening on http://127\.0\.0\.1:[0-9]+/' 40
API_BASE=$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$W/uspc-api.log" | head -n 1 | sed 's/^listening on //')
TOKEN_FILE=$W/uspc-api.token
echo '{"id":"t","op":"token_create","name":"grafana-check","role":"viewer"}' | uctl >"$W/token.out" 2>"$W/token.err" ||
	fail "token_create: $(cat "$W/token.out" "$W/token.err")"
(umask 077 && jq -er '.result.token' "$W/token.out" >"$TOKEN_FILE") || fail "no token in $(cat "$W/token.out")"
TOKEN=$(cat "$TOKEN_FILE")
log "uspc metrics on $USPC_BASE, uspc-api on $API_BASE"

# traffic — requests of several routes and codes, and a short event stream.
traffic() {
	local p
	for p in /api/v1/fleet /api/v1/agents /api/v1/tags /api/v1/tasks; do
		curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$API_BASE$p"
	done
	curl -s -o /dev/null "$API_BASE/api/v1/fleet" # 401
	curl -s -o /dev/null "$API_BASE/healthz"
	curl -s -o /dev/null -N --max-time 1 -H "Authorization: Bearer $TOKEN" "$API_BASE/api/v1/events" || true
}
traffic
# The fleet gauges come from the database, read every 15 s.
end=$((SECONDS + 30))
until curl -sf -H "Authorization: Bearer $TOKEN" "$API_BASE/metrics" | grep -q '^uspc_fleet_agents{state="online"} 5$'; do
	[ $SECONDS -lt $end ] || fail "uspc_fleet_agents{state=\"online\"} is not 5 on $API_BASE/metrics after 30 s"
	sleep 0.5
done
code=$(curl -s -o /dev/null -w '%{http_code}' "$API_BASE/metrics")
[ "$code" = 401 ] || fail "uspc-api /metrics without a token: HTTP $code, wanted 401"

PROMTOOL=()
command -v promtool >/dev/null && PROMTOOL=(--promtool "$(command -v promtool)")
python3 "$CHECK" "${PROMTOOL[@]}" --token-file "$TOKEN_FILE" "$DASH" "$USPC_BASE/metrics" "$API_BASE/metrics" ||
	fail "grafana-check: the dashboard does not match the daemons' metrics"
log "ok: the dashboard's queries name served metrics${PROMTOOL:+ and parse}"

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
	log "prometheus/promtool not installed (Debian package prometheus): the scrape through Prometheus is skipped"
	exit 0
fi
# prometheus.yml with this test's targets, token file and a 1 s interval.
sed -e "s|127\.0\.0\.1:9469|${USPC_BASE#http://}|" -e "s|127\.0\.0\.1:8480|${API_BASE#http://}|" \
	-e "s|/etc/prometheus/uspc-api.token|$TOKEN_FILE|" \
	-e 's|^\(  *scrape_interval:\).*|\1 1s|' -e 's|^\(  *scrape_timeout:\).*|\1 1s|' \
	"$PROM_YML" >"$W/prometheus.yml"
grep -q "$TOKEN_FILE" "$W/prometheus.yml" || fail "prometheus.yml names no credentials_file to rewrite"
promtool check config "$W/prometheus.yml" >"$W/promtool-config.log" 2>&1 ||
	fail "promtool check config: $(cat "$W/promtool-config.log")"
log "ok: promtool check config (deploy/prometheus/prometheus.yml)"
PROM_PORT=$(free_port)
PROM=http://127.0.0.1:$PROM_PORT
prometheus --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/prom-data" \
	--web.listen-address="127.0.0.1:$PROM_PORT" >"$W/prometheus.log" 2>&1 &
track $!
# up{job} — 1 for both jobs once a scrape of each succeeded (the API's with the token).
end=$((SECONDS + 30))
until [ "$(curl -s "$PROM/api/v1/query?query=sum(up)" | jq -r '.data.result[0].value[1] // 0' 2>/dev/null)" = 2 ]; do
	[ $SECONDS -lt $end ] || fail "Prometheus does not scrape both jobs: $(curl -s "$PROM/api/v1/targets" | head -c 1500)"
	sleep 0.5
done
# A few seconds of traffic, so that every rate() has two samples.
for _ in 1 2 3 4 5; do
	traffic
	sleep 1
done
python3 "$CHECK" --prometheus "$PROM" --token-file "$TOKEN_FILE" "$DASH" "$USPC_BASE/metrics" "$API_BASE/metrics" ||
	fail "grafana-check: a query of the dashboard gives nothing in Prometheus"
log "ok: Prometheus scrapes uspc and uspc-api with prometheus.yml; every query of the dashboard has series"
