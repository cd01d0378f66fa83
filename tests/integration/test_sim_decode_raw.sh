#!/usr/bin/env bash
# usp-agent-sim: records it publishes decode with `protoc --decode_raw` to
# the TR-369 field numbers (Record 1 version, 2 to_id, 3 from_id,
# 7 no_session_context{2 payload}, 10 mqtt_connect{1 version, 2 topic};
# Msg 1 header{1 msg_id, 2 msg_type}, 2 body{2 response{1 get_resp}}).
set -euo pipefail
TAG=raw
. "$USPC_SOURCE_DIR/agents-sim/tools/sim-test-lib.sh"
command -v protoc >/dev/null || fail "protoc is required"

listen_bg c 1 --wait-connect --connect-out "$WORK/connect.bin" --timeout 20
sim_start --agents 1
wait_bg c
probe 1 --raw-out "$WORK/rec.bin" --msg-out "$WORK/msg.bin" \
	'{"type":"get","param_paths":["Device.DeviceInfo.ModelName"]}' >/dev/null
sim_stop

expect() { # FILE REGEX WHAT
	CHECKS=$((CHECKS + 1))
	grep -Eq -- "$2" "$1" || { cat "$1" >&2; fail "$3"; }
	echo "ok $CHECKS - $3"
}
protoc --decode_raw <"$WORK/rec.bin" >"$WORK/rec.txt"
protoc --decode_raw <"$WORK/msg.bin" >"$WORK/msg.txt"
protoc --decode_raw <"$WORK/connect.bin" >"$WORK/connect.txt"
a=$(eid 1)
expect "$WORK/rec.txt" '^1: "1\.[0-9]+"$' "Record field 1 is the version"
expect "$WORK/rec.txt" "^2: \"$CTRL_ID\"$" "Record field 2 is to_id (the controller)"
expect "$WORK/rec.txt" "^3: \"$a\"$" "Record field 3 is from_id (the agent)"
expect "$WORK/rec.txt" '^7 \{$' "Record field 7 is no_session_context"
expect "$WORK/msg.txt" '^1 \{$' "Msg field 1 is the header"
expect "$WORK/msg.txt" '^  1: "probe-' "Header field 1 is the request's msg_id"
expect "$WORK/msg.txt" '^  2: 2$' "Header field 2 is msg_type GET_RESP (2)"
tr -d '\n ' <"$WORK/msg.txt" >"$WORK/msg.flat"
expect "$WORK/msg.flat" '2\{2\{1\{1\{1:"Device\.DeviceInfo\.ModelName"' "body 2 / response 2 / get_resp 1 / req_path_results 1 / requested_path 1"
expect "$WORK/msg.flat" '4\{1:"Device\.DeviceInfo\."2\{1:"ModelName"2:"SIM-GW-1000"\}' "resolved_path_results 4 {resolved_path 1, result_params 2 {key 1, value 2}}"
expect "$WORK/connect.txt" '^10 \{$' "MQTTConnect record is Record field 10"
tr -d '\n ' <"$WORK/connect.txt" >"$WORK/connect.flat"
expect "$WORK/connect.flat" "10\\{1:12:\"usp/agent/$a\"\\}" "MQTTConnectRecord version 1 (V5) and subscribed_topic 2"
echo "PASS: $CHECKS checks"
