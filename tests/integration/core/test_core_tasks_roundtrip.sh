#!/usr/bin/env bash
# A task of each request type the controller sends round-trips and stores
# its result (get, set, add, delete, operate, get_supported_dm,
# get_instances, get_supported_protocol); a malformed request fails with
# 7004. Boot! and ValueChange notifications are persisted and answered
# (a NotifyResp carrying the Notify's msg_id reaches the agent's topic);
# Get results land in the snapshot and OperationComplete in
# operation_results; Add, Set and Delete results update the snapshot.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

new_db "core_tasks_roundtrip"
start_uspc d1
start_sim s1 2
wait_sql "SELECT count(*) FROM agents WHERE onboarded_at IS NOT NULL" 2 40
A=$(q "SELECT min(eid) FROM agents")
TOPIC=$(q "SELECT reply_topic FROM agents WHERE eid = '$A'")
mosquitto_sub -L "${USPC_MQTT}/$TOPIC" -V mqttv5 -F '%x' >"$W/agent-topic.hex" &
track "$!"
sleep 0.5

task() { # task OP JSON → id
  q "WITH t AS (INSERT INTO tasks (eid, op, request) VALUES ('$A', '$1', '$2'::jsonb) RETURNING id)
     SELECT id FROM t; NOTIFY uspc_task_new" | head -n 1
}
done_ok() { # done_ok ID OP
  wait_sql "SELECT state FROM tasks WHERE id = $1 AND state IN ('done','failed','expired')" done 20
  local ty
  ty=$(q "SELECT result->>'type' FROM tasks WHERE id = $1")
  [ "$ty" = "${2}_resp" ] || fail "task $1 ($2): result type '$ty'"
}

# ValueChange subscription first, then the Set that fires it.
id_add=$(task add '{"allow_partial":false,"create_objs":[{"obj_path":"Device.LocalAgent.Subscription.",
  "param_settings":[{"param":"ID","value":"rt-vc","required":true},
  {"param":"NotifType","value":"ValueChange","required":true},
  {"param":"ReferenceList","value":"Device.WiFi.SSID.1.SSID","required":true},
  {"param":"Enable","value":"true"},{"param":"NotifRetry","value":"true"}]}]}')
done_ok "$id_add" add
id_set=$(task set '{"allow_partial":false,"update_objs":[{"obj_path":"Device.WiFi.SSID.1.",
  "param_settings":[{"param":"SSID","value":"uspc-roundtrip","required":true}]}]}')
done_ok "$id_set" set
id_get=$(task get '{"param_paths":["Device.DeviceInfo.SerialNumber","Device.WiFi.SSID.1.SSID"]}')
done_ok "$id_get" get
id_gsdm=$(task get_supported_dm '{"obj_paths":["Device.DeviceInfo."],"first_level_only":true,"return_params":true}')
done_ok "$id_gsdm" get_supported_dm
id_gi=$(task get_instances '{"obj_paths":["Device.LocalAgent.Subscription."]}')
done_ok "$id_gi" get_instances
id_gsp=$(task get_supported_protocol '{"controller_supported_protocol_versions":"1.3,1.4"}')
done_ok "$id_gsp" get_supported_protocol
id_op=$(task operate '{"command":"Device.IP.Diagnostics.IPPing()","command_key":"rt-ping","send_resp":true,
  "input_args":{"Host":"192.0.2.1","ProtocolVersion":"IPv4","NumberOfRepetitions":"2","Timeout":"500","DataBlockSize":"64"}}')
done_ok "$id_op" operate
id_bad=$(task get '{"param_paths":"not-a-list"}')
wait_sql "SELECT state || ' ' || error_code FROM tasks WHERE id = $id_bad" "failed 7004" 20

# Get results are in the snapshot.
[ "$(q "SELECT value FROM snapshot WHERE eid = '$A' AND path = 'Device.WiFi.SSID.1.SSID'")" = uspc-roundtrip ] \
  || fail "snapshot lacks the Get result"
# ValueChange persisted, snapshot updated, answered.
wait_sql "SELECT count(*) FROM notifications WHERE eid = '$A' AND kind = 'value_change'
  AND path = 'Device.WiFi.SSID.1.SSID' AND subscription_id = 'rt-vc'" 1 20
# OperationComplete of the async IPPing (our uspc-diag-complete subscription).
wait_sql "SELECT state FROM operation_results WHERE eid = '$A' AND command_key = 'rt-ping'
  AND command_name = 'IPPing()'" complete 20

# Boot!: reboot the agent; it reconnects and sends Boot! to our subscription.
id_rb=$(task operate '{"command":"Device.Reboot()","command_key":"rt-reboot","send_resp":true}')
done_ok "$id_rb" operate
wait_sql "SELECT count(*) FROM notifications WHERE eid = '$A' AND kind = 'event' AND path = 'Device.Boot!' AND subscription_id = 'uspc-boot'
  AND payload::text LIKE '%rt-reboot%'" 1 40
id_del=$(task delete '{"allow_partial":false,"obj_paths":["Device.LocalAgent.Subscription.[ID==\"rt-vc\"]."]}')
done_ok "$id_del" delete

# Each of the two notifications was answered: a NotifyResp with its msg_id
# was published to the agent's topic.
sleep 1
for kind in value_change event; do
  mid=$(q "SELECT msg_id FROM notifications WHERE eid = '$A' AND kind = '$kind' AND subscription_id IN ('rt-vc', 'uspc-boot') ORDER BY id DESC LIMIT 1")
  hex=$(printf '%s' "$mid" | tohex)
  grep -q "$hex" "$W/agent-topic.hex" || fail "no NotifyResp for $kind notification $mid"
done
# Successful writes update the snapshot: Add stores the new instance's
# unique keys and the parameters it set, Set its updated parameters, Delete
# removes every row under the deleted instance.
snap() { q "SELECT value FROM snapshot WHERE eid = '$A' AND path = '$1'"; }
id_add2=$(task add '{"allow_partial":false,"create_objs":[{"obj_path":"Device.WiFi.SSID.",
  "param_settings":[{"param":"Alias","value":"rt-ssid","required":true},{"param":"SSID","value":"rt-net-1"}]}]}')
done_ok "$id_add2" add
inst=$(q "SELECT result->'created_obj_results'->0->'oper_status'->'oper_success'->>'instantiated_path'
  FROM tasks WHERE id = $id_add2")
[[ "$inst" =~ ^Device\.WiFi\.SSID\.[0-9]+\.$ ]] || fail "Add result has no instantiated_path: '$inst'"
[ "$(snap "${inst}Alias")" = rt-ssid ] || fail "snapshot lacks the Add's unique key Alias"
[ "$(snap "${inst}SSID")" = rt-net-1 ] || fail "snapshot lacks the parameter the Add set"
key_name=$(q "SELECT result->'created_obj_results'->0->'oper_status'->'oper_success'->'unique_keys'->>'Name'
  FROM tasks WHERE id = $id_add2")
[ -n "$key_name" ] && [ "$(snap "${inst}Name")" = "$key_name" ] || fail "snapshot lacks the unique key Name"
id_set2=$(task set '{"allow_partial":false,"update_objs":[{"obj_path":"'"$inst"'",
  "param_settings":[{"param":"SSID","value":"rt-net-2","required":true}]}]}')
done_ok "$id_set2" set
[ "$(snap "${inst}SSID")" = rt-net-2 ] || fail "snapshot not updated by the Set: '$(snap "${inst}SSID")'"
id_del2=$(task delete '{"allow_partial":false,"obj_paths":["'"$inst"'"]}')
done_ok "$id_del2" delete
[ "$(q "SELECT count(*) FROM snapshot WHERE eid = '$A' AND path LIKE '${inst}%'")" = 0 ] \
  || fail "snapshot rows under the deleted $inst remain"
[ "$(q "SELECT count(*) FROM snapshot WHERE eid = '$A' AND path = 'Device.WiFi.SSID.1.SSID'")" = 1 ] \
  || fail "the Delete removed rows outside the deleted instance"

[ "$(q "SELECT count(*) FROM tasks WHERE state = 'done'")" = 12 ] || fail "not all tasks done"
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"
log "ok"
