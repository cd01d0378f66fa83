#!/usr/bin/env bash
# test_uspctl_ops.sh — every uspctl op against simulated agents through the
# daemon: the USP requests (get, set, add, delete, operate sync and async
# with wait_complete, get_supported_dm, get_instances,
# get_supported_protocol, subscribe, unsubscribe) and the fleet ops
# (list_agents, show_agent, tag, untag, snapshot, task_status, cancel), each
# checked on the result lines uspctl prints.
# shellcheck disable=SC2119 # uctl takes its own flags
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-uspctl.sh
. "$(dirname "$0")/itest-uspctl.sh"

new_db "$DB_NAME"
start_uspc uspc
start_sim main 3 --fw-download-time 1
wait_onboarded 3 60
A1=$(agent 1) A2=$(agent 2) A3=$(agent 3)

# ---- OperationComplete subscriptions --------------------------------------
# The daemon creates these at onboarding; asking again is harmless (another
# Subscription instance) and keeps this test about uspctl.
cat >"$W/subs.jsonl" <<EOF
{"id":"sub-diag","op":"subscribe","targets":"$A2","subscription_id":"uspctl-it-diag","notif_type":"OperationComplete","reference_list":"Device.IP.Diagnostics."}
{"id":"sub-fw","op":"subscribe","targets":["$A1","$A2"],"subscription_id":"uspctl-it-fw","notif_type":"OperationComplete","reference_list":"Device.DeviceInfo.FirmwareImage."}
EOF
rc=0
uctl --timeout 30 <"$W/subs.jsonl" >"$W/subs.out" 2>"$W/subs.err" || rc=$?
expect_status 0 $rc "OperationComplete subscriptions"

# ---- USP requests, one batch ----------------------------------------------
cat >"$W/usp.jsonl" <<EOF
{"id":"get","op":"get","targets":{"all":true},"paths":["Device.DeviceInfo.SoftwareVersion"]}
{"id":"set","op":"set","targets":"$A1","params":{"Device.WiFi.SSID.1.SSID":"uspctl-it"}}
{"id":"add","op":"add","targets":"$A1","path":"Device.WiFi.SSID.","params":{"SSID":"guest"}}
{"id":"gi","op":"get_instances","targets":"$A2","paths":"Device.WiFi.SSID.","first_level_only":true}
{"id":"gsdm","op":"get_supported_dm","targets":"$A2","paths":"Device.DeviceInfo.","first_level_only":true,"return_params":true}
{"id":"gsp","op":"get_supported_protocol","targets":"$A2"}
{"id":"sub","op":"subscribe","targets":"$A2","subscription_id":"uspctl-it-vc","notif_type":"ValueChange","reference_list":"Device.Time.NTPServer1"}
{"id":"ping","op":"operate","targets":"$A2","command":"Device.IP.Diagnostics.IPPing()","args":{"Host":"192.0.2.1","NumberOfRepetitions":2},"wait_complete":true}
{"id":"fw","op":"operate","targets":["$A1","$A2"],"command":"Device.DeviceInfo.FirmwareImage.2.Download()","args":{"URL":"https://fw.example/sim-gw-1.1.0.bin","AutoActivate":false},"wait_complete":true}
EOF
rc=0
uctl --timeout 30 <"$W/usp.jsonl" >"$W/usp.out" 2>"$W/usp.err" || rc=$?
expect_status 0 $rc "USP batch"
check_jsonl "one line per command and agent" 'length == 12' "$W/usp.out"
check_jsonl "get: every agent answered with its SoftwareVersion" \
  '[.[] | select(.id == "get")] | length == 3 and all(.ok and .task > 0 and
     .result.type == "get_resp" and
     .result.req_path_results[0].resolved_path_results[0].result_params.SoftwareVersion == "1.0.0")' "$W/usp.out"
# Results come out of PostgreSQL as jsonb text ("key": value, with spaces);
# every line is compact JSON, and the text of the values is kept.
grep '"id":"get"' "$W/usp.out" | grep -q '": \|, "' && fail "get result lines are not compact: $(grep -m1 '"id":"get"' "$W/usp.out" | cut -c1-300)"
check_jsonl "set: SetResp with the new value" \
  '.[] | select(.id == "set") | .ok and .agent == "'"$A1"'" and
     .result.updated_obj_results[0].oper_status.oper_success.updated_inst_results[0].updated_params.SSID == "uspctl-it"' "$W/usp.out"
check_jsonl "add: AddResp names the new instance" \
  '.[] | select(.id == "add") | .ok and (.result.created_obj_results[0].oper_status.oper_success.instantiated_path | test("^Device\\.WiFi\\.SSID\\.[0-9]+\\.$"))' "$W/usp.out"
check_jsonl "get_instances: two SSIDs" \
  '.[] | select(.id == "gi") | .ok and (.result.req_path_results[0].curr_insts | length) == 2' "$W/usp.out"
check_jsonl "get_supported_dm: DeviceInfo params" \
  '.[] | select(.id == "gsdm") | .ok and .result.type == "get_supported_dm_resp" and
     ([.result.req_obj_results[0].supported_objs[].supported_params[]?.param_name] | index("SoftwareVersion") != null)' "$W/usp.out"
check_jsonl "get_supported_protocol: versions" \
  '.[] | select(.id == "gsp") | .ok and (.result.agent_supported_protocol_versions | test("1\\."))' "$W/usp.out"
check_jsonl "subscribe: Subscription instance created" \
  '.[] | select(.id == "sub") | .ok and (.result.created_obj_results[0].oper_status.oper_success.instantiated_path | startswith("Device.LocalAgent.Subscription."))' "$W/usp.out"
check_jsonl "operate async + wait_complete: IPPing outputs" \
  '.[] | select(.id == "ping") | .ok and .result.operation_results[0].req_obj_path != null and
     .completions[0].command_name == "IPPing()" and .completions[0].state == "complete" and
     .completions[0].output_args.Status == "Complete"' "$W/usp.out"
check_jsonl "operate firmware Download followed to completion on 2 agents" \
  '[.[] | select(.id == "fw")] | length == 2 and all(.ok and .completions[0].command_name == "Download()")' "$W/usp.out"
grep -q "9 commands, 12 results: 12 ok, 0 failed" "$W/usp.err" || fail "summary: $(cat "$W/usp.err")"

NEW=$(jq -r 'select(.id == "add") | .result.created_obj_results[0].oper_status.oper_success.instantiated_path' "$W/usp.out")
GET_TASK=$(jq -r 'select(.id == "get" and .agent == "'"$A1"'") | .task' "$W/usp.out")

# ---- follow-ups: the set is visible, delete, unsubscribe, sync operate -----
cat >"$W/usp2.jsonl" <<EOF
{"id":"get2","op":"get","targets":"$A1","paths":["Device.WiFi.SSID.1.SSID"]}
{"id":"del","op":"delete","targets":"$A1","paths":["$NEW"]}
{"id":"unsub","op":"unsubscribe","targets":"$A2","subscription_id":"uspctl-it-vc"}
{"id":"reboot","op":"operate","targets":"$A3","command":"Device.Reboot()","command_key":"it-reboot"}
EOF
rc=0
uctl --timeout 30 <"$W/usp2.jsonl" >"$W/usp2.out" 2>"$W/usp2.err" || rc=$?
expect_status 0 $rc "second batch"
check_jsonl "get after set sees the new SSID" \
  '.[] | select(.id == "get2") | .result.req_path_results[0].resolved_path_results[0].result_params.SSID == "uspctl-it"' "$W/usp2.out"
check_jsonl "delete: the added instance is gone" \
  '.[] | select(.id == "del") | .ok and .result.deleted_obj_results[0].oper_status.oper_success.affected_paths == ["'"$NEW"'"]' "$W/usp2.out"
check_jsonl "unsubscribe: one Subscription deleted" \
  '.[] | select(.id == "unsub") | .ok and (.result.deleted_obj_results[0].oper_status.oper_success.affected_paths | length) == 1' "$W/usp2.out"
check_jsonl "sync operate (Reboot) answered" \
  '.[] | select(.id == "reboot") | .ok and .result.type == "operate_resp"' "$W/usp2.out"

# ---- fleet ops -------------------------------------------------------------
cat >"$W/fleet.jsonl" <<EOF
{"id":"tag","op":"tag","targets":["$A1","$A2"],"tags":["beta","it"]}
{"id":"untag","op":"untag","targets":"$A2","tags":"beta"}
{"id":"beta","op":"list_agents","targets":{"tag":"beta"}}
{"id":"all","op":"list_agents"}
{"id":"model","op":"list_agents","targets":{"model":"SIM-GW-1000","eid":"${AGENT_PREFIX}*1"}}
{"id":"show","op":"show_agent","targets":"$A1"}
{"id":"snap","op":"snapshot","targets":"$A1","paths":["Device.DeviceInfo.SoftwareVersion","Device.WiFi.SSID.1."]}
{"id":"ts","op":"task_status","tasks":[$GET_TASK, 999999999]}
{"id":"cancel-done","op":"cancel","tasks":[$GET_TASK]}
EOF
rc=0
uctl <"$W/fleet.jsonl" >"$W/fleet.out" 2>"$W/fleet.err" || rc=$?
expect_status 1 $rc "fleet batch (an unknown task and a done task's cancel fail)"
check_jsonl "tag: both agents carry beta and it" \
  '[.[] | select(.id == "tag")] | length == 2 and all(.ok and (.result.tags | index("beta") != null and index("it") != null))' "$W/fleet.out"
check_jsonl "untag: beta removed from A2 only" \
  '.[] | select(.id == "untag") | .ok and .agent == "'"$A2"'" and .result.tags == ["it"]' "$W/fleet.out"
check_jsonl "list_agents by tag: only A1" \
  '[.[] | select(.id == "beta") | .agent] == ["'"$A1"'"]' "$W/fleet.out"
check_jsonl "list_agents: all three, inventory fields" \
  '[.[] | select(.id == "all")] | length == 3 and all(.ok and .result.model_name == "SIM-GW-1000" and .result.software_version == "1.0.0")' "$W/fleet.out"
check_jsonl "list_agents: model + EID glob" \
  '[.[] | select(.id == "model") | .agent] == ["'"$A1"'"]' "$W/fleet.out"
check_jsonl "show_agent: subscriptions and task counts" \
  '.[] | select(.id == "show") | .ok and (.result.subscriptions | type) == "array" and .result.tasks.done > 0' "$W/fleet.out"
check_jsonl "snapshot: values from earlier Gets, without asking the agent" \
  '.[] | select(.id == "snap") | .ok and .result["Device.DeviceInfo.SoftwareVersion"].value == "1.0.0" and
     .result["Device.WiFi.SSID.1.SSID"].value == "uspctl-it"' "$W/fleet.out"
check_jsonl "task_status: the get task is done; an unknown id gets unknown_task" \
  '(.[] | select(.id == "ts" and .task == '"$GET_TASK"') | .ok and .result.state == "done" and .agent == "'"$A1"'") and
   (.[] | select(.id == "ts" and .line) | .error.code == "unknown_task")' "$W/fleet.out"
check_jsonl "cancel of a done task: not_cancelable" \
  '.[] | select(.id == "cancel-done") | (.ok | not) and .error.code == "not_cancelable"' "$W/fleet.out"
log PASS
