#!/usr/bin/env bash
# TLS with client certificates: a private mosquitto with a TLS listener that
# requires a client certificate signed by the test CA (made by
# make-test-certs.sh with the openssl command). uspc connects with its
# certificate, agents with theirs; onboarding and a task work end to end.
# Without a client certificate the daemon cannot connect.
. "$(dirname "$0")/lib.sh"

AGENTS=2
new_db "core_tls"
CERTS=$W/certs
USPC_TEST_CONTROLLER_EID=$CTL_EID "$USPC_SOURCE_DIR/tests/integration/make-test-certs.sh" "$CERTS" \
  "$(agent 1)" "$(agent 2)" >/dev/null
USER_LINE="# not root"
if [ "$(id -u)" = 0 ]; then
  USER_LINE="user mosquitto"
  chown -R mosquitto "$CERTS"
  chmod 755 "$CERTS"
fi
# Start a TLS mosquitto on a free port below the ephemeral range (retry if taken).
start_tls_broker() {
  local port=$1
  cat >"$W/mosquitto-tls.conf" <<CONF
per_listener_settings false
listener $port 127.0.0.1
cafile $CERTS/ca.crt
certfile $CERTS/broker.crt
keyfile $CERTS/broker.key
require_certificate true
use_identity_as_username true
allow_anonymous false
persistence false
log_dest stderr
$USER_LINE
CONF
  mosquitto -c "$W/mosquitto-tls.conf" >"$W/mosquitto.log" 2>&1 &
  MQ=$!
  for _ in $(seq 50); do
    kill -0 "$MQ" 2>/dev/null || return 1
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { PIDS+=("$MQ"); return 0; }
    sleep 0.1
  done
  kill "$MQ"; return 1
}
PORT=""
for _ in $(seq 10); do
  p=$((20000 + RANDOM % 12000))
  (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
  start_tls_broker "$p" && { PORT=$p; break; }
done
[ -n "$PORT" ] || fail "could not start a TLS broker"
URL="mqtts://127.0.0.1:$PORT"

# Without a client certificate: refused, the daemon keeps retrying.
"$USPC" --db "$DB_URL" --endpoint-id "$CTL_EID" --node-id "$T-nocert" --mqtt "$URL" \
  --mqtt-ca-file "$CERTS/ca.crt" >"$W/nocert.log" 2>&1 &
NOCERT=$!
PIDS+=("$NOCERT")
sleep 3
grep -q 'MQTT connected' "$W/nocert.log" && fail "connected without a client certificate"
stop_pid "$NOCERT" || true

start_uspc d1 --mqtt "$URL" --mqtt-ca-file "$CERTS/ca.crt" \
  --mqtt-cert-file "$CERTS/controller.crt" --mqtt-key-file "$CERTS/controller.key"
start_sim s1 $AGENTS --broker "$URL" --cafile "$CERTS/ca.crt" \
  --cert "$CERTS/agent1.crt" --key "$CERTS/agent1.key"
wait_sql "SELECT count(*) FROM agents WHERE onboarded_at IS NOT NULL AND manufacturer <> ''" $AGENTS 40
add_tasks get '{"param_paths":["Device.DeviceInfo.SerialNumber"]}' 1 $AGENTS
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" $AGENTS 20
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"
log "ok"
