#!/usr/bin/env bash
# usp-agent-sim: every read/write request type and their error codes, driven
# over MQTT by usp-probe against one simulated agent.
TAG=msg
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-sim.sh
. "$(dirname "$0")/itest-sim.sh"

sim_start 2

# --- Get
r=$(probe 1 '{"type":"get","param_paths":["Device.DeviceInfo."],"max_depth":1}')
check '.type=="get_resp" and .req_path_results[0].resolved_path_results[0].resolved_path=="Device.DeviceInfo."' "$r" "Get of an object path"
check '.req_path_results[0].resolved_path_results|length==1' "$r" "max_depth 1 stops at the object's own parameters"
check '.req_path_results[0].resolved_path_results[0].result_params.SerialNumber|test("^SIM[0-9A-F]{10}$")' "$r" "seeded serial number"
serial1=$(printf '%s' "$r" | jq -r '.req_path_results[0].resolved_path_results[0].result_params.SerialNumber')
r2=$(probe 2 '{"type":"get","param_paths":["Device.DeviceInfo.SerialNumber"]}')
check ".req_path_results[0].resolved_path_results[0].result_params.SerialNumber != \"$serial1\"" "$r2" "agents get different serials"
r=$(probe 1 '{"type":"get","param_paths":["Device.DeviceInfo."]}')
check '[.req_path_results[0].resolved_path_results[].resolved_path]|index("Device.DeviceInfo.FirmwareImage.2.")!=null' "$r" "max_depth 0 returns sub-objects"
r=$(probe 1 '{"type":"get","param_paths":["Device.WiFi.SSID.*.Name","Device.IP.Interface.[Name==\"ip2\"].Status","Device.WiFi.SSID.[Enable==true].Alias"]}')
check '[.req_path_results[0].resolved_path_results[].result_params.Name]==["ssid1","ssid2"]' "$r" "wildcard parameter path"
check '.req_path_results[1].resolved_path_results[0].resolved_path=="Device.IP.Interface.2."' "$r" "unique-key search"
check '.req_path_results[2].resolved_path_results|length==2' "$r" "boolean search expression"
r=$(probe 1 '{"type":"get","param_paths":["Device.Foo.","Device.WiFi.SSID.99.","Device.WiFi..Name","Device.WiFi.SSID.[Name==\"none\"]."]}')
check '.req_path_results[0].err_code==7026' "$r" "unknown object: 7026"
check '.req_path_results[1].err_code==7026' "$r" "missing instance: 7026"
check '.req_path_results[2].err_code==7008' "$r" "bad syntax: 7008"
check '(.req_path_results[3].err_code//0)==0 and (.req_path_results[3].resolved_path_results//[]|length)==0' "$r" "search matching nothing is success"
r=$(probe 1 '{"type":"get","param_paths":["Device.DeviceInfo.UpTime"]}')
up1=$(printf '%s' "$r" | jq -r '.req_path_results[0].resolved_path_results[0].result_params.UpTime')
sleep 2
r=$(probe 1 '{"type":"get","param_paths":["Device.DeviceInfo.UpTime"]}')
check ".req_path_results[0].resolved_path_results[0].result_params.UpTime|tonumber > $up1" "$r" "UpTime moves"

# --- GetInstances
r=$(probe 1 '{"type":"get_instances","obj_paths":["Device.IP.Interface.","Device.DeviceInfo."],"first_level_only":false}')
check '[.req_path_results[0].curr_insts[].instantiated_obj_path]==["Device.IP.Interface.1.","Device.IP.Interface.1.IPv4Address.1.","Device.IP.Interface.2.","Device.IP.Interface.2.IPv4Address.1."]' "$r" "GetInstances with nested tables"
check '.req_path_results[0].curr_insts[0].unique_keys.Name=="ip1"' "$r" "GetInstances unique keys"
check '.req_path_results[1].err_code==7018' "$r" "GetInstances on a non-table: 7018"
r=$(probe 1 '{"type":"get_instances","obj_paths":["Device.IP.Interface."],"first_level_only":true}')
check '.req_path_results[0].curr_insts|length==2' "$r" "first_level_only"

# --- GetSupportedDM
r=$(probe 1 '{"type":"get_supported_dm","obj_paths":["Device.DeviceInfo.FirmwareImage.{i}."],"return_params":true,"return_commands":true,"return_events":true,"return_unique_key_sets":true}')
check '.req_obj_results[0].supported_objs[0].is_multi_instance==true and .req_obj_results[0].supported_objs[0].supported_obj_path=="Device.DeviceInfo.FirmwareImage.{i}."' "$r" "GSDM table"
check '[.req_obj_results[0].supported_objs[0].supported_commands[]|select(.command_name=="Download()")][0].command_type=="CMD_ASYNC"' "$r" "GSDM async command"
check '[.req_obj_results[0].supported_objs[0].supported_commands[]|select(.command_name=="Download()")][0].input_arg_names|index("URL")!=null' "$r" "GSDM command arguments"
check '.req_obj_results[0].supported_objs[0].unique_key_sets[0].key_names==["Alias"]' "$r" "GSDM unique key sets"
r=$(probe 1 '{"type":"get_supported_dm","obj_paths":["Device.","Device.Nope.","Device.Boot!","Device.WiFi.SSID.1."],"first_level_only":true,"return_params":false}')
check '[.req_obj_results[0].supported_objs[].supported_obj_path]|index("Device.WiFi.")!=null and (index("Device.WiFi.SSID.{i}.")==null)' "$r" "GSDM first_level_only"
check '.req_obj_results[0].supported_objs[0].supported_params==null' "$r" "GSDM without return_params"
check '.req_obj_results[1].err_code==7026' "$r" "GSDM unknown path: 7026"
check '.req_obj_results[2].supported_objs[0].supported_events[0].event_name=="Boot!"' "$r" "GSDM event path (1.4)"
check '.req_obj_results[3].supported_objs[0].supported_obj_path=="Device.WiFi.SSID.{i}."' "$r" "GSDM instantiated path"

# --- GetSupportedProtocol
r=$(probe 1 '{"type":"get_supported_protocol","controller_supported_protocol_versions":"1.3,1.4"}')
check '.agent_supported_protocol_versions|split(",")|index("1.4")!=null' "$r" "GetSupportedProtocol"

# --- Set
r=$(probe 1 '{"type":"set","allow_partial":true,"update_objs":[{"obj_path":"Device.WiFi.SSID.1.","param_settings":[{"param":"SSID","value":"home","required":true},{"param":"Status","value":"Down"}]},{"obj_path":"Device.WiFi.SSID.*.","param_settings":[{"param":"Enable","value":"maybe","required":true}]},{"obj_path":"Device.WiFi.SSID.7.","param_settings":[{"param":"SSID","value":"x"}]}]}')
check '.updated_obj_results[0].oper_status.oper_success.updated_inst_results[0].updated_params.SSID=="home"' "$r" "Set applies the good parameter"
check '.updated_obj_results[0].oper_status.oper_success.updated_inst_results[0].param_errs[0].err_code==7013' "$r" "Set of a read-only param: 7013 (not required)"
check '.updated_obj_results[1].oper_status.oper_failure.err_code==7021 and (.updated_obj_results[1].oper_status.oper_failure.updated_inst_failures|length==2)' "$r" "required failure on a search path fails the whole obj_path"
check '.updated_obj_results[1].oper_status.oper_failure.updated_inst_failures[0].param_errs[0].err_code==7011' "$r" "invalid boolean: 7011"
check '.updated_obj_results[2].oper_status.oper_failure.err_code==7016' "$r" "Set of a missing instance: 7016"
r=$(probe 1 '{"type":"set","allow_partial":false,"update_objs":[{"obj_path":"Device.WiFi.SSID.1.","param_settings":[{"param":"SSID","value":"atomic"}]},{"obj_path":"Device.WiFi.SSID.2.","param_settings":[{"param":"Bogus","value":"1","required":true}]}]}')
check '.type=="error" and .err_code==7021 and .param_errs[0].param_path=="Device.WiFi.SSID.2.Bogus" and .param_errs[0].err_code==7010' "$r" "allow_partial=false: Error with param_errs"
r=$(probe 1 '{"type":"get","param_paths":["Device.WiFi.SSID.1.SSID"]}')
check '.req_path_results[0].resolved_path_results[0].result_params.SSID=="home"' "$r" "atomic Set left nothing applied"
r=$(probe 1 '{"type":"set","update_objs":[{"obj_path":"Device.WiFi.SSID.1.","param_settings":[{"param":"Alias","value":"cpe-2","required":true}]}]}')
check '.type=="error" and .param_errs[0].err_code==7025' "$r" "Set creating a duplicate unique key: 7025"
r=$(probe 1 '{"type":"set","update_objs":[{"obj_path":"Device.WiFi.Radio.1.","param_settings":[{"param":"OperatingFrequencyBand","value":"7GHz","required":true}]}]}')
check '.type=="error" and .param_errs[0].err_code==7012' "$r" "value outside the enumeration: 7012"

# --- Add
r=$(probe 1 '{"type":"add","allow_partial":false,"create_objs":[{"obj_path":"Device.WiFi.SSID.","param_settings":[{"param":"SSID","value":"guest","required":true},{"param":"Bogus","value":"1"}]}]}')
check '.created_obj_results[0].oper_status.oper_success.instantiated_path=="Device.WiFi.SSID.3."' "$r" "Add creates the next instance"
check '.created_obj_results[0].oper_status.oper_success.unique_keys.Alias=="cpe-3" and .created_obj_results[0].oper_status.oper_success.unique_keys.Name=="ssid3"' "$r" "Add fills in unique keys (R-ADD.5)"
check '.created_obj_results[0].oper_status.oper_success.param_errs[0].err_code==7010' "$r" "non-required unknown param in param_errs"
r=$(probe 1 '{"type":"add","allow_partial":true,"create_objs":[{"obj_path":"Device.WiFi.SSID.","param_settings":[{"param":"Alias","value":"cpe-1"}]},{"obj_path":"Device.Hosts.Host."},{"obj_path":"Device.DeviceInfo."},{"obj_path":"Device.IP.Interface.*.IPv4Address.","param_settings":[{"param":"IPAddress","value":"192.0.2.1"}]}]}')
check '.created_obj_results[0].oper_status.oper_failure.err_code==7025' "$r" "duplicate unique key: 7025"
check '.created_obj_results[1].oper_status.oper_failure.err_code==7019' "$r" "non-creatable table: 7019"
check '.created_obj_results[2].oper_status.oper_failure.err_code==7018' "$r" "Add to a non-table: 7018"
check '[.created_obj_results[3:][]|.oper_status.oper_success.instantiated_path]==["Device.IP.Interface.1.IPv4Address.2.","Device.IP.Interface.2.IPv4Address.2."]' "$r" "Add with a search path creates one per match"
r=$(probe 1 '{"type":"add","allow_partial":false,"create_objs":[{"obj_path":"Device.WiFi.SSID.","param_settings":[{"param":"SSID","value":"y"}]},{"obj_path":"Device.WiFi.SSID.","param_settings":[{"param":"Enable","value":"no","required":true}]}]}')
check '.type=="error" and .err_code==7021' "$r" "Add allow_partial=false: Error"
r=$(probe 1 '{"type":"get_instances","obj_paths":["Device.WiFi.SSID."],"first_level_only":true}')
check '.req_path_results[0].curr_insts|length==3' "$r" "failed atomic Add created nothing"

# --- Delete
r=$(probe 1 '{"type":"delete","allow_partial":true,"obj_paths":["Device.WiFi.SSID.3.","Device.Hosts.Host.*.","Device.WiFi.SSID.77.","Device.WiFi.SSID.[Name==\"none\"]."]}')
check '.deleted_obj_results[0].oper_status.oper_success.affected_paths==["Device.WiFi.SSID.3."]' "$r" "Delete an instance"
check '.deleted_obj_results[1].oper_status.oper_success.unaffected_path_errs[0].err_code==7024' "$r" "undeletable instances: 7024 in unaffected_path_errs"
check '.deleted_obj_results[2].oper_status.oper_failure.err_code==7016' "$r" "Delete of a missing instance: 7016"
check '(.deleted_obj_results[3].oper_status.oper_success.affected_paths//[])|length==0' "$r" "Delete search matching nothing: success"
r=$(probe 1 '{"type":"delete","allow_partial":false,"obj_paths":["Device.IP.Interface.1.IPv4Address.2.","Device.DeviceInfo.FirmwareImage.1."]}')
check '.type=="error" and .err_code==7024' "$r" "Delete allow_partial=false: Error"
r=$(probe 1 '{"type":"get_instances","obj_paths":["Device.IP.Interface.1.IPv4Address."]}')
check '.req_path_results[0].curr_insts|length==2' "$r" "failed atomic Delete removed nothing"

# --- Operate (errors; async/firmware in test_sim_operate.sh)
r=$(probe 1 '{"type":"operate","command":"Device.NoSuch()","send_resp":true}')
check '.type=="error" and .err_code==7026' "$r" "Operate of an unknown command: Error 7026"
r=$(probe 1 '{"type":"operate","command":"Device.DeviceInfo.FirmwareImage.9.Download()","send_resp":true}')
check '.type=="error" and .err_code==7016' "$r" "Operate on a missing instance: Error 7016"
r=$(probe 1 '{"type":"operate","command":"Device.DeviceInfo.FirmwareImage.2.Download()","command_key":"k","send_resp":true,"input_args":{"URL":"http://x/fw.bin"}}')
check '.operation_results[0].cmd_failure.err_code==7027' "$r" "missing mandatory input: cmd_failure 7027"

sim_stop
echo "PASS: $CHECKS checks"
