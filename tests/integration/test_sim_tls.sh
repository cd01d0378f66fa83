#!/usr/bin/env bash
# usp-agent-sim over mqtts://: a private mosquitto with a TLS listener (test
# CA and server certificate made here with openssl) and a plain listener for
# the probe; agents connect with --cafile, verify the broker, and answer.
TAG=tls
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-sim.sh
. "$(dirname "$0")/itest-sim.sh"
need openssl

D=$W/tls
mkdir -p "$D"
chmod 755 "$D"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=uspc test CA" \
	-keyout "$D/ca.key" -out "$D/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
	-keyout "$D/server.key" -out "$D/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$D/san.ext"
openssl x509 -req -in "$D/server.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial \
	-days 2 -extfile "$D/san.ext" -out "$D/server.pem" 2>/dev/null
chmod 644 "$D"/*

PLAIN=$(free_port)
SECURE=$(free_port)
while [ "$SECURE" = "$PLAIN" ]; do SECURE=$(free_port); done
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user mosquitto"
cat >"$D/mosquitto.conf" <<EOF
per_listener_settings false
allow_anonymous true
persistence false
$user_line
listener $PLAIN 127.0.0.1
listener $SECURE 127.0.0.1
cafile $D/ca.pem
certfile $D/server.pem
keyfile $D/server.key
EOF
mosquitto -c "$D/mosquitto.conf" >"$D/mosquitto.log" 2>&1 &
track $!
for _ in $(seq 1 50); do
	grep -q "Opening ipv4 listen socket on port $SECURE" "$D/mosquitto.log" && break
	sleep 0.1
done
export USPC_MQTT=mqtt://127.0.0.1:$PLAIN

rc=0; "$SIM_BIN" --broker "mqtts://127.0.0.1:$SECURE" >"$W/noca.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--cafile" "$W/noca.out" || fail "mqtts:// without --cafile not refused"
echo "ok - mqtts:// without --cafile is refused"

sim_start 2 --broker "mqtts://127.0.0.1:$SECURE" --cafile "$D/ca.pem"
r=$(probe 2 '{"type":"get","param_paths":["Device.DeviceInfo.ModelName"]}')
check '.req_path_results[0].resolved_path_results[0].result_params.ModelName=="SIM-GW-1000"' "$r" "agent behind TLS answers"
sim_stop

# a CA that did not sign the broker's certificate: agents never get online
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
	-keyout "$D/other.key" -out "$D/other.pem" 2>/dev/null
"$SIM_BIN" --agents 1 --broker "mqtts://127.0.0.1:$SECURE" --cafile "$D/other.pem" \
	--eid-pattern "$EID_PATTERN" --controller-id "$CTL_EID" --controller-topic "$CTL_TOPIC" \
	--status-interval 1 --run-for 3 >"$W/badca.log" 2>&1 || true
grep -q "online 0 " "$W/badca.log" && ! grep -q "online 1 " "$W/badca.log" ||
	fail "agent came online with an untrusted broker certificate: $(tail -3 "$W/badca.log")"
echo "ok - untrusted broker certificate: no connection"
echo "PASS: $CHECKS checks"
