#!/usr/bin/env bash
# usp-agent-sim: the firmware procedure and each firmware fault, with
# fraction 1 on its own simulator (all started side by side, --first-index):
# the image name/version rule, Activate() that fails, an image that does not
# boot (Activate() and BootFirmwareImage + Reboot()), an agent that never
# comes back (and does after a restart), a wrong SoftwareVersion, a lost
# Boot!, a single bank (across a restart and a factory reset), and agents
# without Activate(). A plain agent runs the same procedure as the control.
TAG=fwm
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-sim.sh
. "$(dirname "$0")/itest-sim.sh"
SIM_STATE_DIRS=1 # restarts below: each simulator keeps its state in $W/sim-NAME

FAST=(--fw-download-time 0.2 --reboot-time 0.5)
URL="http://fw.example/images/gw_2.1.0-rc1.bin?sig=a/b-9.9"
NEW=2.1.0-rc1
FI=Device.DeviceInfo.FirmwareImage

# one simulator per behaviour (start_sim NAME AGENTS [flags]), state in $W/sim-NAME
sims() {
	start_sim ctl 1 --first-index 1 "${FAST[@]}"
	start_sim act 2 --first-index 2 "${FAST[@]}" --fw-activate-fail-fraction 1
	start_sim boot 1 --first-index 4 "${FAST[@]}" --fw-boot-fail-fraction 1
	start_sim noret 1 --first-index 5 "${FAST[@]}" --fw-no-return-fraction 1
	start_sim wrong 1 --first-index 6 "${FAST[@]}" --fw-wrong-version-fraction 1
	start_sim lose 1 --first-index 7 "${FAST[@]}" --fw-lose-boot-fraction 1
	start_sim single 1 --first-index 8 "${FAST[@]}" --single-bank-fraction 1
	start_sim noact 1 --first-index 9 "${FAST[@]}" --no-activate-fraction 1
}
# wait_up N: agent N answers
wait_up() {
	for _ in $(seq 1 40); do
		probe "$1" --timeout 1 '{"type":"get_supported_protocol"}' >/dev/null 2>&1 && return 0
	done
	fail "agent $1 never answered"
}
restart_sim() { # NAME FIRST-INDEX [flags]
	local pid=PID_sim_$1 name=$1 first=$2
	shift 2
	stop_pid "${!pid}" || fail "usp-agent-sim $name exited with an error status"
	start_sim "$name" 1 --first-index "$first" "${FAST[@]}" "$@"
}

# everything the agents send to the controller topic, from now on, in $W/L.out
listen_all() {
	probe_bg L --agent "$(eid 1)" --id "$CTL_EID" --topic "$CTL_TOPIC" --listen 80
	sleep 0.5
}
# wait_for 'jq filter over all lines (-s)' TIMEOUT WHAT
wait_for() {
	local end=$((SECONDS + $2))
	until jq -se "$1" "$W/L.out" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || fail "after $2 s: $3 (jq: $1)"
		sleep 0.2
	done
}
# what agent N sent: its notifications and records, as one JSON array
from() { jq -sc "[.[]|select(.from_id==\"$(eid "$1")\")]" "$W/L.out"; }
boots() { from "$1" | jq -c '[.[]|select(.event.event_name=="Boot!")|.event.params]'; }
completions() { from "$1" | jq -c "[.[]|select(.oper_complete.command_name==\"$2\")|.oper_complete]"; }
# Get of the firmware parameters of agent N, flattened into one object:
# {"SoftwareVersion":..,"Active":..,"Boot":..,"1":{row 1},"2":{row 2}}
fw() {
	probe "$1" '{"type":"get","param_paths":["Device.DeviceInfo.SoftwareVersion","Device.DeviceInfo.ActiveFirmwareImage","Device.DeviceInfo.BootFirmwareImage","Device.DeviceInfo.FirmwareImage.*."]}' |
		jq -c '[.req_path_results[].resolved_path_results[]|
			if .resolved_path=="Device.DeviceInfo." then .result_params
			else {(.resolved_path|capture("\\.(?<n>[0-9]+)\\.$").n): .result_params} end]|add|
			{SoftwareVersion, Active: .ActiveFirmwareImage, Boot: .BootFirmwareImage} + (with_entries(select(.key|test("^[0-9]+$"))))'
}
operate() { # N COMMAND KEY [input args JSON]
	local args=${4:-'{}'}
	probe "$1" "{\"type\":\"operate\",\"command\":\"$2\",\"command_key\":\"$3\",\"send_resp\":true,\"input_args\":$args}"
}
set_boot() { # N VALUE
	probe "$1" "{\"type\":\"set\",\"allow_partial\":false,\"update_objs\":[{\"obj_path\":\"Device.DeviceInfo.\",\"param_settings\":[{\"param\":\"BootFirmwareImage\",\"value\":\"$2\",\"required\":true}]}]}"
}

sims
for n in 1 2 3 4 5 6 7 8 9; do wait_up "$n"; done
listen_all
for n in 1 2 3 4 5 6 7 8 9; do # OperationComplete of every firmware command, kept across reboots
	probe "$n" '{"type":"add","create_objs":[{"obj_path":"Device.LocalAgent.Subscription.","param_settings":[{"param":"ID","value":"fw"},{"param":"Enable","value":"true"},{"param":"NotifType","value":"OperationComplete"},{"param":"ReferenceList","value":"Device.DeviceInfo.FirmwareImage."},{"param":"Persistent","value":"true"}]}]}' >/dev/null
done

# ---- single bank: only FirmwareImage.1 ----
r=$(probe 8 '{"type":"get_instances","obj_paths":["Device.DeviceInfo.FirmwareImage."],"first_level_only":true}')
check '[.req_path_results[0].curr_insts[].instantiated_obj_path]==["Device.DeviceInfo.FirmwareImage.1."]' "$r" "single-bank agent has FirmwareImage.1 only"
r=$(probe 1 '{"type":"get_instances","obj_paths":["Device.DeviceInfo.FirmwareImage."],"first_level_only":true}')
check '.req_path_results[0].curr_insts|length==2' "$r" "a plain agent has two banks"
r=$(operate 8 "$FI.2.Download()" dl-8 "{\"URL\":\"$URL\",\"AutoActivate\":\"false\"}")
check '.type=="error" and .err_code==7016' "$r" "single-bank agent: no bank 2 to download into"

# ---- no Activate(): unsupported like a command outside the model ----
unknown=$(operate 9 "$FI.2.Frobnicate()" x)
r=$(operate 9 "$FI.2.Activate()" act-9)
check '.type=="error" and .err_code==7026 and .err_code=='"$(jq .err_code <<<"$unknown")"' and (.err_msg|test("Activate"))' "$r" "no-activate agent: Activate() is an Error 7026, as an unknown command"
r=$(operate 9 "$FI.*.Activate()" act-9)
check '.type=="error" and .err_code==7026' "$r" "no-activate agent: Activate() on a search path too"
gsdm='{"type":"get_supported_dm","obj_paths":["Device.DeviceInfo.FirmwareImage.{i}."],"first_level_only":true,"return_commands":true}'
r=$(probe 9 "$gsdm")
check '[.req_obj_results[0].supported_objs[0].supported_commands[].command_name]==["Download()"]' "$r" "no-activate agent: GetSupportedDM lists Download() only"
r=$(probe 1 "$gsdm")
check '[.req_obj_results[0].supported_objs[0].supported_commands[].command_name]==["Download()","Activate()"]' "$r" "a plain agent lists Activate()"

# ---- BootFirmwareImage must name a FirmwareImage row ----
r=$(set_boot 9 "$FI.7")
check '.type=="error" and .param_errs[0].param_path=="Device.DeviceInfo.BootFirmwareImage" and .param_errs[0].err_code==7012' "$r" "BootFirmwareImage = a missing row: 7012"
r=$(set_boot 9 "Device.DeviceInfo.")
check '.type=="error" and .param_errs[0].err_code==7012' "$r" "BootFirmwareImage = not a FirmwareImage row: 7012"

# ---- downloads: bank 2 (bank 1 with AutoActivate on the single-bank agent) ----
for n in 1 2 3 4 5 6 7 9; do
	operate "$n" "$FI.2.Download()" "dl-$n" "{\"URL\":\"$URL\",\"AutoActivate\":\"false\"}" >/dev/null
done
operate 8 "$FI.1.Download()" auto-8 "{\"URL\":\"$URL\",\"AutoActivate\":\"true\"}" >/dev/null
wait_for '[.[]|select(.oper_complete.command_name=="Download()")]|length==9' 10 "9 downloads complete"
r=$(fw 1)
check '.["2"]|.Name=="gw_2.1.0-rc1.bin" and .Version=="'$NEW'" and .Status=="Available"' "$r" "downloaded image: Name = the URL's file name, Version by the naming rule"
check '.SoftwareVersion=="1.0.0" and .Active=="'$FI'.1" and .["1"].Status=="Active"' "$r" "download alone changes nothing that runs"

# ---- activation, each way ----
for n in 1 2 4 5 6 7; do
	r=$(operate "$n" "$FI.2.Activate()" "act-$n")
	check '.operation_results[0].req_obj_path!=null' "$r" "agent $n: Activate() accepted (async)"
done
r=$(set_boot 3 "$FI.2")
check '.updated_obj_results[0].oper_status.oper_success!=null' "$r" "BootFirmwareImage set to bank 2"
r=$(set_boot 9 "$FI.2")
check '.updated_obj_results[0].oper_status.oper_success!=null' "$r" "no-activate agent: BootFirmwareImage set to bank 2"
operate 3 "Device.Reboot()" rb-3 >/dev/null
operate 9 "Device.Reboot()" rb-9 >/dev/null

# the agents that come back, then a second for anything that should not come
wait_for '[.[]|select(.event.event_name=="Boot!" and (.event.params.CommandKey|test("^(act-1|rb-3|act-4|act-6|auto-8|rb-9)$")))]|length==6' 20 "Boot! from agents 1, 3, 4, 6, 8, 9"
wait_for '[.[]|select(.record=="mqtt_connect" and .from_id=="'"$(eid 7)"'")]|length>=1' 10 "lose-boot agent reconnects"
wait_for '[.[]|select(.oper_complete.command_name=="Activate()")]|length>=4' 10 "Activate() completions of agents 1, 2, 4, 6"
sleep 1.5

# control: the whole procedure works
check '.[0]|.FirmwareUpdated=="true" and .CommandKey=="act-1" and .Cause=="RemoteReboot"' "$(boots 1)" "plain agent: Boot! FirmwareUpdated=true with the Activate's key"
check 'length==1 and .[0].command_key=="act-1" and .[0].req_output_args!=null' "$(completions 1 'Activate()')" "plain agent: Activate() completes with success"
r=$(fw 1)
check '.SoftwareVersion=="'$NEW'" and .Active=="'$FI'.2" and .Boot=="'$FI'.2" and .["2"].Status=="Active" and .["1"].Status=="Available"' "$r" "plain agent runs the new image"

# --fw-activate-fail-fraction: Activate() fails, no reboot
check 'length==1 and .[0].cmd_failure.err_code==7022 and .[0].cmd_failure.err_msg=="activation failed (simulated)"' "$(completions 2 'Activate()')" "activate-fail: OperationComplete 7022 'activation failed (simulated)'"
check 'map(select(.record or .event.event_name=="Boot!"))|length==0' "$(from 2)" "activate-fail: no reboot (no disconnect or connect record, no Boot!)"
r=$(fw 2)
check '.["2"].Status=="ActivationFailed" and .SoftwareVersion=="1.0.0" and .Active=="'$FI'.1" and .Boot=="'$FI'.1" and .["1"].Status=="Active"' "$r" "activate-fail: bank ActivationFailed, nothing else changed"
# ... and by BootFirmwareImage + Reboot(), like an image that does not boot
check 'length==1 and .[0].FirmwareUpdated=="false" and .[0].CommandKey=="rb-3"' "$(boots 3)" "activate-fail, Reboot() path: Boot! FirmwareUpdated=false"
r=$(fw 3)
check '(.["2"].BootFailureLog|length>0) and .SoftwareVersion=="1.0.0" and .Active=="'$FI'.1" and .Boot=="'$FI'.2"' "$r" "activate-fail, Reboot() path: old image runs, BootFailureLog set"

# --fw-boot-fail-fraction: reboots, comes back on the old image
check 'length==1 and .[0].FirmwareUpdated=="false" and .[0].CommandKey=="act-4"' "$(boots 4)" "boot-fail: Boot! FirmwareUpdated=false with the Activate's key"
check 'length==1 and .[0].cmd_failure.err_code==7022 and .[0].cmd_failure.err_msg=="image failed to boot (simulated)"' "$(completions 4 'Activate()')" "boot-fail: Activate() completes with 7022 'image failed to boot (simulated)'"
r=$(fw 4)
check '.SoftwareVersion=="1.0.0" and .Active=="'$FI'.1" and .["1"].Status=="Active"' "$r" "boot-fail: the old image still runs"
check '.Boot=="'$FI'.2" and .["2"].Status=="Available" and (.["2"].BootFailureLog|test("image failed to boot"))' "$r" "boot-fail: BootFirmwareImage still names bank 2, its BootFailureLog is set"

# --fw-wrong-version-fraction
check 'length==1 and .[0].FirmwareUpdated=="true" and .[0].CommandKey=="act-6"' "$(boots 6)" "wrong-version: Boot! FirmwareUpdated=true"
r=$(fw 6)
check '.SoftwareVersion=="'$NEW'-rc0" and .Active=="'$FI'.2" and .["2"].Version=="'$NEW'" and .["2"].Status=="Active"' "$r" "wrong-version: runs bank 2, reports another SoftwareVersion"

# --fw-lose-boot-fraction
check 'length==0' "$(boots 7)" "lose-boot: no Boot!"
check 'length==0' "$(completions 7 'Activate()')" "lose-boot: no Activate() completion"
r=$(fw 7)
check '.SoftwareVersion=="'$NEW'" and .Active=="'$FI'.2" and .["2"].Status=="Active"' "$r" "lose-boot: rebooted into the new image"
check 'map(select(.record=="disconnect"))|length>=1' "$(from 7)" "lose-boot: it did reboot (DisconnectRecord, then MQTTConnect record)"

# --fw-no-return-fraction: never back while the simulator runs
check '(map(select(.record=="disconnect"))|length>=1) and (map(select(.record=="mqtt_connect" or .event.event_name=="Boot!"))|length==0)' "$(from 5)" "no-return: went down to reboot, no MQTTConnect record nor Boot! since"
if probe 5 --timeout 1 '{"type":"get_supported_protocol"}' >/dev/null 2>&1; then fail "no-return agent answered"; fi
echo "ok - no-return: the agent does not answer"

# --single-bank-fraction: AutoActivate into the running bank
check 'length==1 and .[0].FirmwareUpdated=="true" and .[0].CommandKey=="auto-8"' "$(boots 8)" "single-bank: Boot! FirmwareUpdated=true after AutoActivate"
r=$(fw 8)
check '.SoftwareVersion=="'$NEW'" and .Active=="'$FI'.1" and .["1"].Version=="'$NEW'" and .["1"].Status=="Active" and has("2")==false' "$r" "single-bank: bank 1 holds and runs the new image"

# --no-activate-fraction: BootFirmwareImage + Reboot()
check 'length==1 and .[0].FirmwareUpdated=="true" and .[0].CommandKey=="rb-9" and .[0].Cause=="RemoteReboot"' "$(boots 9)" "no-activate, Reboot(): Boot! FirmwareUpdated=true with the Reboot's key"
r=$(fw 9)
check '.SoftwareVersion=="'$NEW'" and .Active=="'$FI'.2" and .["2"].Status=="Active" and .["1"].Status=="Available"' "$r" "no-activate, Reboot(): the new image runs"

# ---- restarts: the no-return agent comes back; single bank stays ----
restart_sim noret 5 --fw-no-return-fraction 1
restart_sim single 8 --single-bank-fraction 1
wait_for '[.[]|select(.from_id=="'"$(eid 5)"'" and .event.event_name=="Boot!")]|length==1' 15 "no-return agent's Boot! after a restart"
check '.[0]|.FirmwareUpdated=="true" and .CommandKey=="act-5"' "$(boots 5)" "no-return: a restarted simulator brings it back on the new image"
wait_for '[.[]|select(.from_id=="'"$(eid 5)"'" and .oper_complete.command_name=="Activate()")]|length==1' 10 "no-return agent's Activate() completion"
check '.[0].command_key=="act-5" and .[0].req_output_args!=null' "$(completions 5 'Activate()')" "no-return: the Activate() completes after the restart"
wait_up 8
r=$(fw 8)
check 'has("2")==false and .["1"].Version=="'$NEW'" and .SoftwareVersion=="'$NEW'"' "$r" "single-bank: one bank and the new image after a restart"
operate 8 "Device.FactoryReset()" fr-8 >/dev/null
wait_for '[.[]|select(.event.params.CommandKey=="fr-8")]|length==1' 15 "Boot! after the factory reset"
r=$(probe 8 '{"type":"get_instances","obj_paths":["Device.DeviceInfo.FirmwareImage."],"first_level_only":true}')
check '[.req_path_results[0].curr_insts[].instantiated_obj_path]==["Device.DeviceInfo.FirmwareImage.1."]' "$r" "single-bank: still one bank after a factory reset"

for s in ctl act boot noret wrong lose single noact; do
	pid=PID_sim_$s
	stop_pid "${!pid}" || fail "usp-agent-sim $s exited with an error status"
done
echo "PASS: $CHECKS checks"
