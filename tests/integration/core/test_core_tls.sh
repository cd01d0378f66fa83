#!/usr/bin/env bash
# TLS with client certificates: a private mosquitto with a TLS listener that
# requires a client certificate signed by the test CA (made by
# make-test-certs.sh with the openssl command). uspc connects with its
# certificate, agents with theirs; onboarding and a task work end to end.
# Without a client certificate the daemon cannot connect.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

AGENTS=2
new_db "core_tls"
CERTS=$W/certs
USPC_TEST_CONTROLLER_EID=$CTL_EID make_certs "$CERTS" "$(agent 1)" "$(agent 2)"
# A TLS mosquitto that requires a client certificate signed by the test CA.
tls_conf() {
  cat <<CONF
per_listener_settings false
listener $1 127.0.0.1
cafile $CERTS/ca.crt
certfile $CERTS/broker.crt
keyfile $CERTS/broker.key
require_certificate true
use_identity_as_username true
allow_anonymous false
persistence false
log_dest stderr
$([ "$(id -u)" = 0 ] && echo "user mosquitto" || echo "# not root")
CONF
}
start_broker_conf mosquitto tls_conf
PORT=$MQ_PORT
URL="mqtts://127.0.0.1:$PORT"

# Without a client certificate: refused, the daemon keeps retrying.
spawn_uspc nocert --mqtt "$URL" --mqtt-ca-file "$CERTS/ca.crt"
NOCERT=$PID_nocert
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
