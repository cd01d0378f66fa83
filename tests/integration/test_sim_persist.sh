#!/usr/bin/env bash
# usp-agent-sim: what a real agent keeps survives a restart of the simulator
# (--state-dir): persistent subscriptions, added instances, set values,
# instance counters, firmware state; non-persistent subscriptions do not.
TAG=per
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-sim.sh
. "$(dirname "$0")/itest-sim.sh"

STATE=$W/state
mkdir -p "$STATE"
add_sub() { # ID PERSISTENT
	probe 1 "{\"type\":\"add\",\"create_objs\":[{\"obj_path\":\"Device.LocalAgent.Subscription.\",\"param_settings\":[{\"param\":\"ID\",\"value\":\"$1\"},{\"param\":\"Enable\",\"value\":\"true\"},{\"param\":\"NotifType\",\"value\":\"Event\"},{\"param\":\"ReferenceList\",\"value\":\"Device.Boot!\"},{\"param\":\"Persistent\",\"value\":\"$2\"}]}]}" >/dev/null
}

sim_start 2 --state-dir "$STATE"
add_sub keep true
add_sub drop false
r=$(probe 1 '{"type":"add","create_objs":[{"obj_path":"Device.WiFi.SSID.","param_settings":[{"param":"SSID","value":"persist me"}]},{"obj_path":"Device.WiFi.SSID."}]}')
check '[.created_obj_results[].oper_status.oper_success.instantiated_path]==["Device.WiFi.SSID.3.","Device.WiFi.SSID.4."]' "$r" "two creates in one Add get distinct instances"
probe 1 '{"type":"delete","obj_paths":["Device.WiFi.SSID.4."]}' >/dev/null
probe 1 '{"type":"set","update_objs":[{"obj_path":"Device.WiFi.SSID.1.","param_settings":[{"param":"SSID","value":"50% \"quoted\" = odd"}]},{"obj_path":"Device.Time.","param_settings":[{"param":"NTPServer1","value":"ntp.example.org"}]}]}' >/dev/null
sleep 1.5 # let the 1 s writer flush (stop flushes too)
sim_stop
[ -s "$STATE/os__00D09E-per0001.state" ] || fail "no state file for agent 1"
echo "ok - state file written"

listen_bg boot 1 --expect-notify 2 --timeout 20
sim_start 2 --state-dir "$STATE"
wait_bg boot
out=$(jq -sc '[.[]|select(.type=="notify" and .from_id=="'"$(eid 1)"'")]' "$W/boot.out")
check '[.[].subscription_id]|sort==["factory-boot","keep"]' "$out" "persistent subscription survives and gets Boot!"
check 'map(.event.params.Cause)|all(.=="LocalReboot")' "$out" "restart reports Cause LocalReboot"
r=$(probe 1 '{"type":"get","param_paths":["Device.LocalAgent.Subscription.*.ID","Device.WiFi.SSID.3.SSID","Device.WiFi.SSID.1.SSID","Device.Time.NTPServer1"]}')
check '[.req_path_results[0].resolved_path_results[].result_params.ID]==["factory-boot","keep"]' "$r" "non-persistent subscription is gone"
check '.req_path_results[1].resolved_path_results[0].result_params.SSID=="persist me"' "$r" "added instance and its values survive"
check '.req_path_results[2].resolved_path_results[0].result_params.SSID=="50% \"quoted\" = odd"' "$r" "set value with special characters survives"
check '.req_path_results[3].resolved_path_results[0].result_params.NTPServer1=="ntp.example.org"' "$r" "single-instance object value survives"
r=$(probe 1 '{"type":"add","create_objs":[{"obj_path":"Device.WiFi.SSID."}]}')
check '.created_obj_results[0].oper_status.oper_success.instantiated_path=="Device.WiFi.SSID.5."' "$r" "instance numbers are not reused after a restart"
r=$(probe 2 '{"type":"get","param_paths":["Device.WiFi.SSID.*.Name"]}')
check '.req_path_results[0].resolved_path_results|length==2' "$r" "agent 2 kept its own (factory) state"
sim_stop
echo "PASS: $CHECKS checks"
