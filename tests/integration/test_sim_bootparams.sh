#!/usr/bin/env bash
# usp-agent-sim: Boot!'s ParameterMap from the recipient controller's
# Device.LocalAgent.Controller.{i}.BootParameter.{i} rows (parameter,
# partial and search paths; disabled and unknown rows ignored), and search
# expressions in a subscription's ReferenceList evaluated on the instance
# at notification time (ValueChange, ObjectDeletion).
TAG=bpm
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-sim.sh
. "$(dirname "$0")/itest-sim.sh"

notifs() { jq -sc '[.[]|select(.type=="notify")]' "$W/$1.out"; }
bootp() { # ENABLE NAME
	printf '{"obj_path":"Device.LocalAgent.Controller.1.BootParameter.","param_settings":[{"param":"Enable","value":"%s"},{"param":"ParameterName","value":"%s"}]}' "$1" "$2"
}

# no BootParameter rows: ParameterMap is an empty JSON object
listen_bg boot0 1 --expect-notify 1 --timeout 15
sim_start 1 --reboot-time 1
wait_bg boot0
check '.[0].event.event_name=="Boot!" and .[0].event.params.ParameterMap=="{}"' "$(notifs boot0)" "no BootParameter rows: ParameterMap {}"

r=$(probe 1 "{\"type\":\"add\",\"allow_partial\":false,\"create_objs\":[$(bootp true Device.DeviceInfo.SoftwareVersion),$(bootp true Device.Time.),$(bootp true 'Device.WiFi.SSID.[Name==\"ssid2\"].SSID'),$(bootp false Device.DeviceInfo.SerialNumber),$(bootp true Device.No.Such)]}")
check '.created_obj_results|length==5 and all(.oper_status.oper_success)' "$r" "five BootParameter rows added"

listen_bg boot1 1 --expect-notify 1 --timeout 15
probe 1 '{"type":"operate","command":"Device.Reboot()","command_key":"bp-1","send_resp":true}' >/dev/null
wait_bg boot1
pm=$(jq -c '.[0].event.params.ParameterMap|fromjson' <<<"$(notifs boot1)")
check '.["Device.DeviceInfo.SoftwareVersion"]=="1.0.0"' "$pm" "parameter path in ParameterMap"
check '.["Device.WiFi.SSID.2.SSID"]=="SIM-1-2" and (has("Device.WiFi.SSID.1.SSID")|not)' "$pm" "search path: only the matching instance"
check '.["Device.Time.NTPServer1"]=="pool.ntp.org" and has("Device.Time.LocalTimeZone") and ([keys[]|select(startswith("Device.Time."))]|length==6)' "$pm" "partial path: every parameter below it"
check '(has("Device.DeviceInfo.SerialNumber")|not) and (keys|length==8)' "$pm" "disabled and unknown rows contribute nothing"

# ReferenceList search expressions, evaluated when the change happens
probe 1 '{"type":"set","update_objs":[{"obj_path":"Device.WiFi.SSID.2.","param_settings":[{"param":"Enable","value":"false"}]}]}' >/dev/null
probe 1 '{"type":"add","create_objs":[{"obj_path":"Device.LocalAgent.Subscription.","param_settings":[{"param":"ID","value":"vcx"},{"param":"Enable","value":"true"},{"param":"NotifType","value":"ValueChange"},{"param":"ReferenceList","value":"Device.WiFi.SSID.[Enable==true].SSID"}]},{"obj_path":"Device.LocalAgent.Subscription.","param_settings":[{"param":"ID","value":"odx"},{"param":"Enable","value":"true"},{"param":"NotifType","value":"ObjectDeletion"},{"param":"ReferenceList","value":"Device.WiFi.SSID.[Alias==\"gone\"]."}]}]}' >/dev/null
probe 1 '{"type":"add","create_objs":[{"obj_path":"Device.WiFi.SSID.","param_settings":[{"param":"Alias","value":"gone"}]},{"obj_path":"Device.WiFi.SSID.","param_settings":[{"param":"Alias","value":"kept"}]}]}' >/dev/null
listen_bg expr 1 --expect-notify 2 --timeout 15 --listen 2
probe 1 '{"type":"set","update_objs":[{"obj_path":"Device.WiFi.SSID.1.","param_settings":[{"param":"SSID","value":"on"}]}]}' >/dev/null
probe 1 '{"type":"set","update_objs":[{"obj_path":"Device.WiFi.SSID.2.","param_settings":[{"param":"SSID","value":"off"}]}]}' >/dev/null
probe 1 '{"type":"delete","obj_paths":["Device.WiFi.SSID.[Alias==\"kept\"].","Device.WiFi.SSID.[Alias==\"gone\"]."]}' >/dev/null
wait_bg expr
out=$(notifs expr)
check 'map(select(.value_change))|length==1 and .[0].value_change.param_path=="Device.WiFi.SSID.1.SSID" and .[0].subscription_id=="vcx"' "$out" "ValueChange only for the instance whose [Enable==true] holds"
check 'map(select(.obj_deletion))|length==1 and .[0].obj_deletion.obj_path=="Device.WiFi.SSID.3." and .[0].subscription_id=="odx"' "$out" "ObjectDeletion only for the instance whose [Alias==\"gone\"] held"

sim_stop
echo "PASS: $CHECKS checks"
