#!/usr/bin/env bash
# usp-agent-sim: Operate — async commands with Request.{i} rows and
# OperationComplete, Cancel(), send_resp=false, firmware Download() (failing
# and succeeding, TransferComplete!) and Activate() with its reboot cycle
# (Boot! FirmwareUpdated=true, new SoftwareVersion), Reboot(), FactoryReset().
TAG=ops
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-sim.sh
. "$(dirname "$0")/itest-sim.sh"

sub() { # ID TYPE REFS
	probe 1 "{\"type\":\"add\",\"create_objs\":[{\"obj_path\":\"Device.LocalAgent.Subscription.\",\"param_settings\":[{\"param\":\"ID\",\"value\":\"$1\"},{\"param\":\"Enable\",\"value\":\"true\"},{\"param\":\"NotifType\",\"value\":\"$2\"},{\"param\":\"ReferenceList\",\"value\":\"$3\"},{\"param\":\"Persistent\",\"value\":\"true\"}]}]}" >/dev/null
}
notifs() { jq -sc '[.[]|select(.type=="notify")]' "$W/$1.out"; }

sim_start 1 --fw-download-time 1 --reboot-time 1 --fw-fail-url bad-image
sub diag OperationComplete "Device.IP.Diagnostics."
sub fw OperationComplete "Device.DeviceInfo.FirmwareImage."
sub tc Event "Device.LocalAgent.TransferComplete!"

# async IPPing: Request row while running, OperationComplete with outputs
listen_bg a1 1 --expect-notify 1 --timeout 10
r=$(probe 1 '{"type":"operate","command":"Device.IP.Diagnostics.IPPing()","command_key":"ping-1","send_resp":true,"input_args":{"Host":"192.0.2.1","NumberOfRepetitions":"3","Timeout":"1000","DataBlockSize":"64","ProtocolVersion":"IPv4"}}')
check '.operation_results[0].executed_command=="Device.IP.Diagnostics.IPPing()" and (.operation_results[0].req_obj_path|test("^Device.LocalAgent.Request.[0-9]+.$"))' "$r" "async Operate answers with the Request row"
req=$(printf '%s' "$r" | jq -r '.operation_results[0].req_obj_path')
r=$(probe 1 "{\"type\":\"get\",\"param_paths\":[\"$req\"]}")
check '.req_path_results[0].resolved_path_results[0].result_params|.Status=="Active" and .CommandKey=="ping-1" and .Command=="Device.IP.Diagnostics.IPPing()"' "$r" "Request row while the command runs"
wait_bg a1
out=$(notifs a1)
check '.[0].subscription_id=="diag" and .[0].oper_complete.obj_path=="Device.IP.Diagnostics." and .[0].oper_complete.command_name=="IPPing()" and .[0].oper_complete.command_key=="ping-1"' "$out" "OperationComplete identifies the command"
check '.[0].oper_complete.req_output_args.output_args|.Status=="Complete" and .SuccessCount=="3"' "$out" "OperationComplete carries the outputs"
r=$(probe 1 "{\"type\":\"get\",\"param_paths\":[\"$req\"]}")
check '.req_path_results[0].err_code==7026' "$r" "Request row removed when done"

# Cancel()
r=$(probe 1 '{"type":"operate","command":"Device.IP.Diagnostics.TraceRoute()","command_key":"tr-1","send_resp":true,"input_args":{"Host":"192.0.2.1"}}')
req=$(printf '%s' "$r" | jq -r '.operation_results[0].req_obj_path')
listen_bg a2 1 --expect-notify 1 --timeout 10
r=$(probe 1 "{\"type\":\"operate\",\"command\":\"${req}Cancel()\",\"send_resp\":true}")
check '.operation_results[0].req_output_args!=null' "$r" "Cancel() answers"
wait_bg a2
out=$(notifs a2)
check '.[0].oper_complete.command_key=="tr-1" and .[0].oper_complete.cmd_failure.err_code==7023' "$out" "canceled command completes with 7023"

# send_resp=false: no OperateResp, the command still runs
listen_bg a3 1 --expect-notify 1 --timeout 10
probe 1 --no-answer --expect-none 1 '{"type":"operate","command":"Device.IP.Diagnostics.IPPing()","command_key":"quiet","send_resp":false,"input_args":{"Host":"192.0.2.9"}}' >/dev/null ||
	fail "an OperateResp arrived although send_resp=false"
wait_bg a3
check '.[0].oper_complete.command_key=="quiet"' "$(notifs a3)" "send_resp=false command still completes"

# Download() that fails (URL rule): TransferComplete! FaultCode, cmd_failure
listen_bg a4 1 --expect-notify 2 --timeout 10
r=$(probe 1 '{"type":"operate","command":"Device.DeviceInfo.FirmwareImage.2.Download()","command_key":"dl-bad","send_resp":true,"input_args":{"URL":"http://fw.example/bad-image.bin","AutoActivate":"false"}}')
check '.operation_results[0].req_obj_path!=null' "$r" "Download() is async"
wait_bg a4
out=$(notifs a4)
check 'map(select(.event))[0].event|.event_name=="TransferComplete!" and .params.FaultCode=="7022" and .params.TransferType=="Download" and .params.CommandKey=="dl-bad"' "$out" "failed TransferComplete!"
check 'map(select(.oper_complete))[0].oper_complete.cmd_failure.err_code==7022' "$out" "failed download: OperationComplete cmd_failure"
r=$(probe 1 '{"type":"get","param_paths":["Device.DeviceInfo.FirmwareImage.2.Status"]}')
check '.req_path_results[0].resolved_path_results[0].result_params.Status=="DownloadFailed"' "$r" "image Status DownloadFailed"

# Download() that succeeds, then Activate(): reboot, Boot! FirmwareUpdated=true
listen_bg a5 1 --expect-notify 2 --timeout 10
probe 1 '{"type":"operate","command":"Device.DeviceInfo.FirmwareImage.2.Download()","command_key":"dl-ok","send_resp":true,"input_args":{"URL":"http://fw.example/sim-gw-2.0.0.bin","AutoActivate":"false"}}' >/dev/null
wait_bg a5
out=$(notifs a5)
check 'map(select(.event))[0].event.params|.FaultCode=="0" and .TransferURL=="http://fw.example/sim-gw-2.0.0.bin"' "$out" "successful TransferComplete!"
check 'map(select(.oper_complete))[0].oper_complete.req_output_args!=null' "$out" "successful download: OperationComplete"
r=$(probe 1 '{"type":"get","param_paths":["Device.DeviceInfo.FirmwareImage.2."]}')
check '.req_path_results[0].resolved_path_results[0].result_params|.Status=="Available" and .Name=="sim-gw-2.0.0.bin" and .Version=="2.0.0"' "$r" "image 2 available with the new version (Version by the naming rule)"
listen_bg a6 1 --wait-connect --expect-notify 2 --timeout 15
r=$(probe 1 '{"type":"operate","command":"Device.DeviceInfo.FirmwareImage.2.Activate()","command_key":"act-1","send_resp":true}')
check '.operation_results[0].req_obj_path!=null' "$r" "Activate() accepted"
wait_bg a6
check 'map(select(.record=="mqtt_connect"))|length>=1' "$(jq -sc . "$W/a6.out")" "agent reconnected after Activate (MQTTConnect record)"
out=$(notifs a6)
check 'map(select(.event.event_name=="Boot!"))[0].event.params|.FirmwareUpdated=="true" and .CommandKey=="act-1"' "$out" "Boot! FirmwareUpdated=true"
check 'map(select(.oper_complete))[0].oper_complete|.command_name=="Activate()" and .command_key=="act-1"' "$out" "Activate OperationComplete after the boot"
r=$(probe 1 '{"type":"get","param_paths":["Device.DeviceInfo.SoftwareVersion","Device.DeviceInfo.ActiveFirmwareImage","Device.DeviceInfo.FirmwareImage.1.Status","Device.DeviceInfo.UpTime"]}')
check '[.req_path_results[].resolved_path_results[0].result_params]|add|.SoftwareVersion=="2.0.0" and .ActiveFirmwareImage=="Device.DeviceInfo.FirmwareImage.2" and .Status=="Available" and (.UpTime|tonumber)<10' "$r" "new SoftwareVersion active after the reboot"

# Reboot()
listen_bg a7 1 --expect-notify 1 --timeout 15
r=$(probe 1 '{"type":"operate","command":"Device.Reboot()","command_key":"rb-1","send_resp":true}')
check '.operation_results[0].req_output_args!=null' "$r" "Reboot() answers before rebooting"
wait_bg a7
check '.[0].event|.event_name=="Boot!" and .params.Cause=="RemoteReboot" and .params.CommandKey=="rb-1" and .params.FirmwareUpdated=="false"' "$(notifs a7)" "Boot! after Reboot()"

# FactoryReset(): controller-made rows are gone, factory Boot! subscription stays
probe 1 '{"type":"set","update_objs":[{"obj_path":"Device.WiFi.SSID.1.","param_settings":[{"param":"SSID","value":"custom"}]}]}' >/dev/null
listen_bg a8 1 --expect-notify 1 --timeout 15
probe 1 '{"type":"operate","command":"Device.FactoryReset()","command_key":"fr-1","send_resp":true}' >/dev/null
wait_bg a8
check '.[0].event.params|.Cause=="RemoteFactoryReset" and .CommandKey=="fr-1"' "$(notifs a8)" "Boot! after FactoryReset()"
r=$(probe 1 '{"type":"get","param_paths":["Device.WiFi.SSID.1.SSID","Device.LocalAgent.Subscription.*.ID","Device.DeviceInfo.SoftwareVersion"]}')
check '.req_path_results[0].resolved_path_results[0].result_params.SSID!="custom"' "$r" "factory reset restores values"
check '[.req_path_results[1].resolved_path_results[].result_params.ID]==["factory-boot"]' "$r" "factory reset removes controller-made subscriptions"

sim_stop
echo "PASS: $CHECKS checks"
