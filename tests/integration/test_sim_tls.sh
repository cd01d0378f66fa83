#!/usr/bin/env bash
# usp-agent-sim over mqtts://: a private mosquitto with a TLS listener (test
# CA and server certificate made here with openssl) and a plain listener for
# the probe; agents connect with --cafile, verify the broker, and answer.
set -euo pipefail
TAG=tls
. "$USPC_SOURCE_DIR/agents-sim/tools/sim-test-lib.sh"
command -v openssl >/dev/null || fail "openssl is required"

T=$WORK/tls
mkdir -p "$T"
chmod 755 "$T"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=uspc test CA" \
	-keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
	-keyout "$T/server.key" -out "$T/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/san.ext"
openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
	-days 2 -extfile "$T/san.ext" -out "$T/server.pem" 2>/dev/null
chmod 644 "$T"/*

free_port() { # a port nobody listens on (below the ephemeral range)
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		(echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
PLAIN=$(free_port)
SECURE=$(free_port)
while [ "$SECURE" = "$PLAIN" ]; do SECURE=$(free_port); done
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user mosquitto"
cat >"$T/mosquitto.conf" <<EOF
per_listener_settings false
allow_anonymous true
persistence false
$user_line
listener $PLAIN 127.0.0.1
listener $SECURE 127.0.0.1
cafile $T/ca.pem
certfile $T/server.pem
keyfile $T/server.key
EOF
mosquitto -c "$T/mosquitto.conf" >"$T/mosquitto.log" 2>&1 &
BG_PIDS+=($!)
for _ in $(seq 1 50); do
	grep -q "Opening ipv4 listen socket on port $SECURE" "$T/mosquitto.log" && break
	sleep 0.1
done
export USPC_MQTT=mqtt://127.0.0.1:$PLAIN

rc=0; "$SIM" --broker "mqtts://127.0.0.1:$SECURE" >"$WORK/noca.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--cafile" "$WORK/noca.out" || fail "mqtts:// without --cafile not refused"
echo "ok - mqtts:// without --cafile is refused"

sim_start --agents 2 --broker "mqtts://127.0.0.1:$SECURE" --cafile "$T/ca.pem"
r=$(probe 2 '{"type":"get","param_paths":["Device.DeviceInfo.ModelName"]}')
check '.req_path_results[0].resolved_path_results[0].result_params.ModelName=="SIM-GW-1000"' "$r" "agent behind TLS answers"
sim_stop

# a CA that did not sign the broker's certificate: agents never get online
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
	-keyout "$T/other.key" -out "$T/other.pem" 2>/dev/null
"$SIM" --agents 1 --broker "mqtts://127.0.0.1:$SECURE" --cafile "$T/other.pem" \
	--eid-pattern "$EID_PATTERN" --controller-id "$CTRL_ID" --controller-topic "$CTRL_TOPIC" \
	--status-interval 1 --run-for 3 >"$WORK/badca.log" 2>&1 || true
grep -q "online 0 " "$WORK/badca.log" && ! grep -q "online 1 " "$WORK/badca.log" ||
	fail "agent came online with an untrusted broker certificate: $(tail -3 "$WORK/badca.log")"
echo "ok - untrusted broker certificate: no connection"
echo "PASS: $CHECKS checks"
