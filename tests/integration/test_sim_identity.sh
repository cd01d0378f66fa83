#!/usr/bin/env bash
# usp-agent-sim: identity topics. By default each agent sends everything
# unsolicited (MQTTConnectRecord, notifications, the DisconnectRecord of a
# clean stop and its MQTT Will) to usp/controller/<controller-id>/<its EID>,
# and Controller.1.MTP.1.MQTT.Topic shows that topic; responses still go to
# the request's Response Topic. --controller-topic takes at most one %s.
TAG=idt
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-sim.sh
. "$(dirname "$0")/itest-sim.sh"

ID_TOPIC="usp/controller/$CTL_EID"

# sim_launch_default N [flags]: the simulator with its default --controller-topic
sim_launch_default() {
	local args=("${SIM_ARGS[@]}")
	SIM_ARGS=(--status-interval 0 --host-churn 0)
	sim_launch "$@"
	SIM_ARGS=("${args[@]}")
}

# listen_on NAME TOPIC [usp-probe options]: like listen_bg, on any topic filter
listen_on() {
	local name=$1 topic=$2
	shift 2
	probe_bg "$name" --id "$CTL_EID" --topic "$topic" "$@"
	sleep 0.5
}

records() { jq -sc "[.[]|select(.record==\"$2\")]" "$W/$1.out"; }
notifies() { jq -sc '[.[]|select(.type=="notify")]' "$W/$1.out"; }

# 1. connect records and notifications on each agent's own topic, none on the bare one
listen_on all "$ID_TOPIC/+" --listen 9
listen_on a1 "$ID_TOPIC/$(eid 1)" --listen 9
listen_on bare "$ID_TOPIC" --listen 9
sim_launch_default 2
sim_wait_up 2
probe 1 '{"type":"add","create_objs":[{"obj_path":"Device.LocalAgent.Subscription.","param_settings":[{"param":"ID","value":"vc"},{"param":"Enable","value":"true"},{"param":"NotifType","value":"ValueChange"},{"param":"ReferenceList","value":"Device.Time.NTPServer2"}]}]}' >/dev/null
probe 1 '{"type":"set","update_objs":[{"obj_path":"Device.Time.","param_settings":[{"param":"NTPServer2","value":"ntp.example.net"}]}]}' >/dev/null
wait_bg all
wait_bg a1
wait_bg bare
check "(map(.from_id)|sort)==[\"$(eid 1)\",\"$(eid 2)\"] and all(.subscribed_topic==\"usp/agent/\"+.from_id)" \
	"$(records all mqtt_connect)" "each agent's MQTTConnectRecord arrives under $ID_TOPIC/+"
check "length==1 and .[0].from_id==\"$(eid 1)\"" "$(records a1 mqtt_connect)" \
	"agent 1's connect record is on $ID_TOPIC/<agent 1's EID>, not on another agent's"
check "length>=1 and all(.from_id==\"$(eid 1)\") and any(.value_change.param_value==\"ntp.example.net\")" \
	"$(notifies a1)" "agent 1's notifications go to its own topic"
check 'length==0' "$(jq -sc . "$W/bare.out")" "nothing is published on the bare controller topic"

# 2. the data model shows the expanded topic; responses went to the Response Topic (probe)
r=$(probe 2 '{"type":"get","param_paths":["Device.LocalAgent.Controller.1.MTP.1.MQTT.Topic"]}')
check ".req_path_results[0].resolved_path_results[0].result_params.Topic==\"$ID_TOPIC/$(eid 2)\"" "$r" \
	"Controller.1.MTP.1.MQTT.Topic is the agent's own topic"

# 3. a clean stop: the DisconnectRecord goes to the agent's own topic
listen_on stop "$ID_TOPIC/$(eid 2)" --listen 4
sim_stop
wait_bg stop
check "length==1 and .[0].from_id==\"$(eid 2)\" and .[0].reason==\"shutdown\"" "$(records stop disconnect)" \
	"SIGTERM: the DisconnectRecord is on the agent's own topic"

# 4. a dropped connection: the broker publishes the Will on the agent's own topic
listen_on will "$ID_TOPIC/$(eid 1)" --listen 6
sim_launch_default 1 --churn-fraction 1 --churn-interval 0.3 --churn-offline 60
wait_bg will
check "length==1 and .[0].from_id==\"$(eid 1)\" and .[0].reason==\"connection lost\"" \
	"$(records will disconnect)" "the Will (DisconnectRecord) is on the agent's own topic"
sim_stop

# 5. an explicit pattern: %s anywhere, %% for '%'
sim_launch 1 --controller-topic "$CTL_TOPIC/100%%/%s/in"
sim_wait_up 1
r=$(probe 1 '{"type":"get","param_paths":["Device.LocalAgent.Controller.1.MTP.1.MQTT.Topic"]}')
check ".req_path_results[0].resolved_path_results[0].result_params.Topic==\"$CTL_TOPIC/100%/$(eid 1)/in\"" "$r" \
	"--controller-topic pattern expanded per agent"
sim_stop

# 6. bad patterns are usage errors (exit 2)
for bad in 'a/%s/%s' 'a/+/%s' 'a/#' 'a/%d' ''; do
	rc=0
	"$SIM_BIN" --controller-topic "$bad" --check-model >/dev/null 2>"$W/bad.err" || rc=$?
	[ "$rc" -eq 2 ] || fail "--controller-topic '$bad': exit $rc, want 2"
	rc=0
	"$SIM_BIN" --topic-pattern "$bad" --check-model >/dev/null 2>>"$W/bad.err" || rc=$?
	[ "$rc" -eq 2 ] || fail "--topic-pattern '$bad': exit $rc, want 2"
done
echo "ok - bad topic patterns are refused"

echo "PASS: $CHECKS checks"
