#!/usr/bin/env bash
# usp-agent-sim: Subscription.{i} for each notification type (ValueChange,
# ObjectCreation, ObjectDeletion, Event incl. Periodic!), NotifRetry with the
# retry schedule until NotifyResp, and TimeToLive.
TAG=ntf
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-sim.sh
. "$(dirname "$0")/itest-sim.sh"

sub() { # ID TYPE REFS [extra param settings JSON]
	local extra=${4:-}
	probe 1 "{\"type\":\"add\",\"create_objs\":[{\"obj_path\":\"Device.LocalAgent.Subscription.\",\"param_settings\":[{\"param\":\"ID\",\"value\":\"$1\"},{\"param\":\"Enable\",\"value\":\"true\"},{\"param\":\"NotifType\",\"value\":\"$2\"},{\"param\":\"ReferenceList\",\"value\":\"$3\"}$extra]}]}"
}

sim_start 1

r=$(sub vc ValueChange "Device.WiFi.SSID.1.SSID")
check '.created_obj_results[0].oper_status.oper_success.unique_keys.Recipient=="Device.LocalAgent.Controller.1"' "$r" "Recipient is the creating controller"
sub oc ObjectCreation "Device.WiFi.SSID." >/dev/null
sub od ObjectDeletion "Device.WiFi.SSID.*." >/dev/null
sub ev Event "Device.LocalAgent.Periodic!" >/dev/null
r=$(probe 1 '{"type":"get","param_paths":["Device.LocalAgent.Subscription.[ID==\"vc\"].CreationDate"]}')
check '.req_path_results[0].resolved_path_results[0].result_params.CreationDate|test("^20[0-9][0-9]-")' "$r" "CreationDate set on Add"

# ValueChange, ObjectCreation, ObjectDeletion
listen_bg n1 1 --expect-notify 3 --timeout 15
probe 1 '{"type":"set","update_objs":[{"obj_path":"Device.WiFi.SSID.1.","param_settings":[{"param":"SSID","value":"watched"}]}]}' >/dev/null
probe 1 '{"type":"set","update_objs":[{"obj_path":"Device.WiFi.SSID.2.","param_settings":[{"param":"SSID","value":"not-watched"}]}]}' >/dev/null
probe 1 '{"type":"add","create_objs":[{"obj_path":"Device.WiFi.SSID."}]}' >/dev/null
probe 1 '{"type":"delete","obj_paths":["Device.WiFi.SSID.3."]}' >/dev/null
wait_bg n1
out=$(jq -sc '[.[]|select(.type=="notify")]' "$W/n1.out")
check 'map(select(.value_change))|length==1' "$out" "one ValueChange (the other param is not referenced)"
check 'map(select(.value_change))[0]|.subscription_id=="vc" and .value_change.param_path=="Device.WiFi.SSID.1.SSID" and .value_change.param_value=="watched"' "$out" "ValueChange content"
check 'map(select(.obj_creation))[0].obj_creation|.obj_path=="Device.WiFi.SSID.3." and .unique_keys.Alias=="cpe-3"' "$out" "ObjectCreation with unique keys"
check 'map(select(.obj_deletion))[0].obj_deletion.obj_path=="Device.WiFi.SSID.3."' "$out" "ObjectDeletion"
check 'map(.send_resp//false)|all(.==false)' "$out" "NotifRetry=false: send_resp false"

# Event: Device.LocalAgent.Periodic! driven by Controller.PeriodicNotifInterval
listen_bg n2 1 --expect-notify 1 --timeout 10
probe 1 '{"type":"set","update_objs":[{"obj_path":"Device.LocalAgent.Controller.1.","param_settings":[{"param":"PeriodicNotifInterval","value":"1"}]}]}' >/dev/null
wait_bg n2
out=$(jq -sc '[.[]|select(.type=="notify")][0]' "$W/n2.out")
check '.subscription_id=="ev" and .event.obj_path=="Device.LocalAgent." and .event.event_name=="Periodic!"' "$out" "Periodic! event"
probe 1 '{"type":"delete","obj_paths":["Device.LocalAgent.Subscription.[ID==\"ev\"]."]}' >/dev/null

# NotifRetry: retried with the same msg_id every m=2 s (k=1000) until NotifyResp
probe 1 '{"type":"set","update_objs":[{"obj_path":"Device.LocalAgent.Controller.1.","param_settings":[{"param":"USPNotifRetryMinimumWaitInterval","value":"2"},{"param":"USPNotifRetryIntervalMultiplier","value":"1000"}]}]}' >/dev/null
sub rt ValueChange "Device.Time.NTPServer2" ',{"param":"NotifRetry","value":"true"}' >/dev/null
listen_bg n3 1 --expect-notify 2 --timeout 10 --no-notify-resp
probe 1 '{"type":"set","update_objs":[{"obj_path":"Device.Time.","param_settings":[{"param":"NTPServer2","value":"ntp.example.net"}]}]}' >/dev/null
wait_bg n3
out=$(jq -sc '[.[]|select(.type=="notify")]' "$W/n3.out")
check 'length>=2 and (map(.msg_id)|unique|length==1) and all(.send_resp==true)' "$out" "unanswered notification retried with the same msg_id"
listen_bg n4 1 --expect-notify 1 --timeout 10 --listen 7
wait_bg n4
out=$(jq -sc '[.[]|select(.type=="notify")]' "$W/n4.out")
check 'length==1' "$out" "NotifyResp stops the retries"

# TimeToLive
sub ttl Event "Device.Boot!" ',{"param":"TimeToLive","value":"2"}' >/dev/null
r=$(probe 1 '{"type":"get_instances","obj_paths":["Device.LocalAgent.Subscription.[ID==\"ttl\"]."]}')
check '.req_path_results[0].curr_insts|length==1' "$r" "TTL subscription exists"
sleep 4
r=$(probe 1 '{"type":"get_instances","obj_paths":["Device.LocalAgent.Subscription.[ID==\"ttl\"]."]}')
check '(.req_path_results[0].curr_insts//[])|length==0' "$r" "TTL subscription removed after TimeToLive"

sim_stop
echo "PASS: $CHECKS checks"
