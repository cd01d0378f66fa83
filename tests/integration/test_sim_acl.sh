#!/usr/bin/env bash
# deploy/mosquitto/production.{conf,acl} bind an agent's certificate to its
# topic level: a private mosquitto runs production.conf (ports, paths,
# persistence and logging adapted for a test) with production.acl as
# shipped and the test PKI of make-test-certs.sh (CN = EID). Agent 1
# (CN=proto::agent-1), with its own valid certificate, may publish under its
# own identity level (controller topic, reply topics, 3.1.1 reply-to=
# levels) and is refused everywhere else, and reads only its own topic.
# A refused MQTT 5 QoS 1 publish gets PUBACK 0x87 and the client stays
# connected. usp-probe plays every client (TLS, forged records).
TAG=acl
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-sim.sh
. "$(dirname "$0")/itest-sim.sh"
need openssl

D=$W/acl
mkdir -p "$D"
chmod 755 "$W" "$D"
bash "$USPC_SOURCE_DIR/tests/integration/make-test-certs.sh" "$D/pki" >/dev/null
chmod 755 "$D/pki"
chmod 644 "$D"/pki/* # test keys: the broker may drop to the mosquitto user
cp "$USPC_SOURCE_DIR/deploy/mosquitto/production.acl" "$D/uspc.acl"
chmod 644 "$D/uspc.acl"

PORT=$(free_port)
# production.conf with what a test must change: loopback port, the PKI and
# ACL paths, no persistence, no pid file, logs (with debug) on stderr
sed -e "s#^listener 8883\$#listener $PORT 127.0.0.1#" \
	-e "s#/etc/mosquitto/certs/#$D/pki/#" \
	-e "s#/etc/mosquitto/uspc.acl#$D/uspc.acl#" \
	-e "s#^persistence true#persistence false#" \
	-e "/^persistence_location/d" -e "/^autosave_interval/d" -e "/^pid_file/d" \
	-e "s#^log_dest syslog#log_dest stderr#" \
	"$USPC_SOURCE_DIR/deploy/mosquitto/production.conf" >"$D/mosquitto.conf"
[ "$(id -u)" -eq 0 ] || sed -i '/^user mosquitto/d' "$D/mosquitto.conf"
grep -q "^listener $PORT " "$D/mosquitto.conf" && grep -q "^acl_file $D/uspc.acl" "$D/mosquitto.conf" ||
	fail "could not adapt production.conf"
echo "log_type debug" >>"$D/mosquitto.conf"
mosquitto -c "$D/mosquitto.conf" >"$D/mosquitto.log" 2>&1 &
track $!
for _ in $(seq 1 50); do
	grep -q "Opening ipv4 listen socket on port $PORT" "$D/mosquitto.log" && break
	sleep 0.1
done
grep -q "mosquitto version .* running" "$D/mosquitto.log" || fail "mosquitto did not start: $(cat "$D/mosquitto.log")"

B=mqtts://127.0.0.1:$PORT
A1=proto::agent-1
A2=proto::agent-2
C=self::uspc
as() { # as CERT [usp-probe options]: usp-probe with that client certificate
	local cert=$1
	shift
	"$PROBE" --broker "$B" --cafile "$D/pki/ca.crt" --cert "$D/pki/$cert.crt" --key "$D/pki/$cert.key" "$@"
}

# the controller listens to everything under usp/controller/
as controller --id "$C" --topic 'usp/controller/#' --listen 8 >"$W/ctl.out" 2>"$W/ctl.err" &
track $!
ctl=$!
# agent 1 subscribes to everything it could: it must see only its own topic
as agent1 --id "$A1" --topic 'usp/#' --listen 8 >"$W/a1.out" 2>"$W/a1.err" &
track $!
a1=$!
sleep 1

# pub NAME TOPIC: agent 1 publishes a DisconnectRecord (from_id "case:NAME") on TOPIC
pub() {
	as agent1 --id "case:$1" --to-id "$C" --topic "usp/agent/$A1" --agent-topic "$2" \
		--send-disconnect --listen 0.5 >"$W/pub-$1.out" 2>"$W/pub-$1.err" ||
		fail "probe for $1 failed: $(cat "$W/pub-$1.err")"
}
allowed="own own_v311 reply reply_v311"
pub own "usp/controller/$C/$A1"
pub own_v311 "usp/controller/$C/$A1/reply-to=usp%2Fagent%2F$A1"
pub reply "usp/controller/$C/reply/node-1/$A1"
pub reply_v311 "usp/controller/$C/reply/node-1/$A1/reply-to=x"
refused="other bare reply_bare reply_other deeper agent_topic"
pub other "usp/controller/$C/$A2"
pub bare "usp/controller/$C"
pub reply_bare "usp/controller/$C/reply/node-1"
pub reply_other "usp/controller/$C/reply/node-1/$A2"
pub deeper "usp/controller/$C/x/$A1"
pub agent_topic "usp/agent/$A2"
# agent 2 and the controller publish too (agent 1 must not read them)
as agent2 --id "$A2" --to-id "$C" --topic "usp/agent/$A2" --agent-topic "usp/controller/$C/$A2" --send-disconnect
as controller --id "$C" --to-id "$A2" --topic "usp/controller/$C/reply/node-1" --agent-topic "usp/agent/$A2" --send-disconnect
as controller --id "$C" --to-id "$A1" --topic "usp/controller/$C/reply/node-1" --agent-topic "usp/agent/$A1" --send-disconnect
wait "$ctl" || fail "controller listener failed: $(cat "$W/ctl.err")"
wait "$a1" || fail "agent 1 listener failed: $(cat "$W/a1.err")"

got=$(jq -sc '[.[]|.from_id]' "$W/ctl.out")
for c in $allowed; do
	check "index(\"case:$c\") != null" "$got" "agent 1 may publish: $c"
	check 'length==0' "$(jq -sc . "$W/pub-$c.out")" "no refusal reported for $c"
done
for c in $refused; do
	check "index(\"case:$c\") == null" "$got" "agent 1 is refused: $c"
	check 'length==1 and .[0].publish_refused==1 and .[0].reason==135' "$(jq -sc . "$W/pub-$c.out")" \
		"$c: MQTT 5 QoS 1 refusal is PUBACK 0x87 (Not authorized)"
done
check "index(\"$A2\") != null" "$got" "agent 2 may publish under its own level"
# pump() reports "connection lost" if the broker closed the connection
# during the 0.5 s the probe stays after its publish was refused
grep -q 'connection lost' "$W"/pub-*.err && fail "a refused publish cost the connection: $(cat "$W"/pub-*.err)"
echo "ok - refused publishes do not disconnect the client"
grep -q "Denied PUBLISH from .*usp/controller/$C/$A2" "$D/mosquitto.log" || fail "mosquitto did not log the denial"
echo "ok - mosquitto logs 'Denied PUBLISH' (log_type debug)"
check "length==1 and .[0].from_id==\"$C\" and .[0].record==\"disconnect\"" "$(jq -sc . "$W/a1.out")" \
	"agent 1 reads only its own topic (not agent 2's, not the controller's)"

echo "PASS: $CHECKS checks"
