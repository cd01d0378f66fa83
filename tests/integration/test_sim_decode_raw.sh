#!/usr/bin/env bash
# usp-agent-sim: records it publishes decode with `protoc --decode_raw` to
# the TR-369 field numbers (Record 1 version, 2 to_id, 3 from_id,
# 7 no_session_context{2 payload}, 10 mqtt_connect{1 version, 2 topic};
# Msg 1 header{1 msg_id, 2 msg_type}, 2 body{2 response{1 get_resp}}).
TAG=raw
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-sim.sh
. "$(dirname "$0")/itest-sim.sh"
need protoc

listen_bg c 1 --wait-connect --connect-out "$W/connect.bin" --timeout 20
sim_start 1
wait_bg c
probe 1 --raw-out "$W/rec.bin" --msg-out "$W/msg.bin" \
	'{"type":"get","param_paths":["Device.DeviceInfo.ModelName"]}' >/dev/null
sim_stop

expect() { # FILE REGEX WHAT
	CHECKS=$((CHECKS + 1))
	grep -Eq -- "$2" "$1" || { cat "$1" >&2; fail "$3"; }
	echo "ok $CHECKS - $3"
}
protoc --decode_raw <"$W/rec.bin" >"$W/rec.txt"
protoc --decode_raw <"$W/msg.bin" >"$W/msg.txt"
protoc --decode_raw <"$W/connect.bin" >"$W/connect.txt"
a=$(eid 1)
expect "$W/rec.txt" '^1: "1\.[0-9]+"$' "Record field 1 is the version"
expect "$W/rec.txt" "^2: \"$CTL_EID\"$" "Record field 2 is to_id (the controller)"
expect "$W/rec.txt" "^3: \"$a\"$" "Record field 3 is from_id (the agent)"
expect "$W/rec.txt" '^7 \{$' "Record field 7 is no_session_context"
expect "$W/msg.txt" '^1 \{$' "Msg field 1 is the header"
expect "$W/msg.txt" '^  1: "probe-' "Header field 1 is the request's msg_id"
expect "$W/msg.txt" '^  2: 2$' "Header field 2 is msg_type GET_RESP (2)"
tr -d '\n ' <"$W/msg.txt" >"$W/msg.flat"
expect "$W/msg.flat" '2\{2\{1\{1\{1:"Device\.DeviceInfo\.ModelName"' "body 2 / response 2 / get_resp 1 / req_path_results 1 / requested_path 1"
expect "$W/msg.flat" '4\{1:"Device\.DeviceInfo\."2\{1:"ModelName"2:"SIM-GW-1000"\}' "resolved_path_results 4 {resolved_path 1, result_params 2 {key 1, value 2}}"
expect "$W/connect.txt" '^10 \{$' "MQTTConnect record is Record field 10"
tr -d '\n ' <"$W/connect.txt" >"$W/connect.flat"
expect "$W/connect.flat" "10\\{1:12:\"usp/agent/$a\"\\}" "MQTTConnectRecord version 1 (V5) and subscribed_topic 2"
echo "PASS: $CHECKS checks"
