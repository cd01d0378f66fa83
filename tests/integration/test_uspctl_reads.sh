#!/usr/bin/env bash
# test_uspctl_reads.sh — the reads the HTTP API pages through, against
# simulated agents through the daemon, each checked on the lines uspctl
# prints and against the tables:
#   - list_agents with limit and after: pages in byte order of the
#     Endpoint ID, an empty last page prints nothing (exit 0), explicit
#     Endpoint IDs answer for their own page only;
#   - notifications: newest first, with agent, by agent / kind / path /
#     before / limit / since / until; after: oldest first from an id;
#     nothing matching prints nothing;
#   - task_list: newest first, with agent and task, the very objects
#     task_status prints, by agent / state / task_op / batch / before;
#   - operation_results: the rows of an async Operate, by command_key;
#   - tag_list and fleet_summary (agents ready / offline, models, recent
#     onboardings, queued and parked tasks of an offline agent);
#   - bad fields get bad_field, unknown agents unknown_agent, a selector
#     matching nothing no_targets.
# shellcheck disable=SC2119 # uctl takes its own flags
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-uspctl.sh
. "$(dirname "$0")/itest-uspctl.sh"

new_db "$DB_NAME"
start_uspc uspc
start_sim main 3
start_sim late 1 --first-index 4
wait_onboarded 4 60
A1=$(agent 1) A2=$(agent 2) A3=$(agent 3) A4=$(agent 4)

# run NAME [flags] — uspctl on $W/NAME.jsonl; RC is its exit status.
run() {
  local name=$1
  shift
  RC=0
  uctl "$@" <"$W/$name.jsonl" >"$W/$name.out" 2>"$W/$name.err" || RC=$?
}

# ---- some history: tags, a ValueChange, an async Operate -------------------
cat >"$W/setup.jsonl" <<EOF
{"id":"tag","op":"tag","targets":["$A1","$A2"],"tags":"beta"}
{"id":"tag2","op":"tag","targets":{"all":true},"tags":"eu"}
{"id":"sub","op":"subscribe","targets":"$A1","subscription_id":"reads-vc","notif_type":"ValueChange","reference_list":"Device.Time.NTPServer1"}
EOF
run setup --timeout 30
expect_status 0 $RC "setup"
cat >"$W/setup2.jsonl" <<EOF
{"id":"ntp","op":"set","targets":"$A1","params":{"Device.Time.NTPServer1":"ntp.reads.example"}}
{"id":"ping","op":"operate","targets":["$A2","$A3"],"command":"Device.IP.Diagnostics.IPPing()","command_key":"reads-ping","args":{"Host":"192.0.2.1","NumberOfRepetitions":1},"wait_complete":true}
EOF
run setup2 --timeout 30
expect_status 0 $RC "a Set and an async Operate"
wait_sql "SELECT count(*) > 0 FROM notifications WHERE eid = '$A1' AND kind = 'value_change'" t 30
[ "$(q "SELECT count(*) FROM pg_indexes WHERE indexname = 'notifications_eid_id'")" = 1 ] ||
  fail "migration 8's index on notifications (eid, id) is missing"

# ---- list_agents pages -----------------------------------------------------
cat >"$W/pages.jsonl" <<EOF
{"id":"p1","op":"list_agents","limit":2}
{"id":"p2","op":"list_agents","limit":2,"after":"$A2"}
{"id":"p3","op":"list_agents","limit":2,"after":"$A4"}
{"id":"p4","op":"list_agents","targets":{"tag":"beta"},"after":"$A1"}
{"id":"p5","op":"list_agents","targets":["$A1","$A3","proto::zzz-unknown"],"limit":1,"after":"$A1"}
{"id":"p6","op":"list_agents","targets":["$A1","$A3","proto::zzz-unknown"],"after":"$A1"}
EOF
run pages
expect_status 1 $RC "pages (one unknown agent in the last one)"
check_jsonl "first page, then the next one after its last agent" \
  '[.[] | select(.id == "p1") | .agent] == ["'"$A1"'", "'"$A2"'"] and
   [.[] | select(.id == "p2") | .agent] == ["'"$A3"'", "'"$A4"'"]' "$W/pages.out"
check_jsonl "an empty page prints nothing (not no_targets)" \
  '[.[] | select(.id == "p3")] == []' "$W/pages.out"
check_jsonl "after with a selector" '[.[] | select(.id == "p4") | .agent] == ["'"$A2"'"]' "$W/pages.out"
check_jsonl "explicit EIDs: a full page does not answer for the EIDs past it" \
  '[.[] | select(.id == "p5") | .agent] == ["'"$A3"'"] and
   ([.[] | select(.id == "p6") | select(.ok) | .agent] == ["'"$A3"'"]) and
   ([.[] | select(.id == "p6" and .ok == false) | .agent + " " + .error.code] == ["proto::zzz-unknown unknown_agent"])' \
  "$W/pages.out"
# all agents' pages joined are list_agents
{
  echo '{"id":"all","op":"list_agents"}'
} >"$W/all.jsonl"
run all
jq -r '.agent' "$W/all.out" >"$W/all.eids"
: >"$W/paged.eids"
after=""
for _ in 1 2 3 4 5; do
  if [ -n "$after" ]; then
    echo '{"id":"pg","op":"list_agents","limit":1,"after":"'"$after"'"}' >"$W/pg.jsonl"
  else
    echo '{"id":"pg","op":"list_agents","limit":1}' >"$W/pg.jsonl"
  fi
  run pg
  expect_status 0 $RC "a page of one"
  [ -s "$W/pg.out" ] || break
  after=$(jq -r '.agent' "$W/pg.out")
  echo "$after" >>"$W/paged.eids"
done
cmp -s "$W/all.eids" "$W/paged.eids" || fail "paging by one does not give list_agents: $(paste -sd' ' "$W/paged.eids")"
log "ok: pages of one join to the whole inventory"

# ---- notifications ---------------------------------------------------------
VC_ID=$(q "SELECT max(id) FROM notifications WHERE eid = '$A1' AND kind = 'value_change'")
N_A1=$(q "SELECT count(*) FROM notifications WHERE eid = '$A1'")
N_ALL=$(q "SELECT count(*) FROM notifications")
cat >"$W/notif.jsonl" <<EOF
{"id":"a1","op":"notifications","targets":"$A1"}
{"id":"vc","op":"notifications","targets":"$A1","kind":"value_change","path":"Device.Time."}
{"id":"all","op":"notifications","limit":10000}
{"id":"one","op":"notifications","limit":1}
{"id":"older","op":"notifications","targets":"$A1","before":$VC_ID}
{"id":"recent","op":"notifications","targets":{"tag":"beta"},"since":3600}
{"id":"old","op":"notifications","until":3600}
{"id":"nopath","op":"notifications","path":"Device.NoSuchThing."}
{"id":"up","op":"notifications","after":0,"limit":2}
{"id":"up2","op":"notifications","targets":"$A1","after":0}
{"id":"upnone","op":"notifications","after":$(q "SELECT max(id) FROM notifications")}
EOF
run notif
expect_status 0 $RC "notifications"
check_jsonl "an agent's notifications, newest first, each with its agent" \
  '[.[] | select(.id == "a1")] | length == '"$N_A1"' and all(.ok and .agent == "'"$A1"'" and .result.eid == .agent) and
     ([.[].result.id] == ([.[].result.id] | sort | reverse))' "$W/notif.out"
check_jsonl "the row: id, eid, kind, path, subscription_id, msg_id, times, payload" \
  '[.[] | select(.id == "vc")] | length >= 1 and all(.result.kind == "value_change" and
     .result.path == "Device.Time.NTPServer1" and .result.subscription_id == "reads-vc" and
     (.result.msg_id | type) == "string" and (.result.received_at | test("^20")) and
     (.result.stored_at | test("^20")) and (.result.payload | type) == "object")' "$W/notif.out"
check_jsonl "every agent's: all of them; limit 1: the newest" \
  '([.[] | select(.id == "all")] | length == '"$N_ALL"') and
   ([.[] | select(.id == "one")] | length == 1) and
   ((.[] | select(.id == "one") | .result.id) == ([.[] | select(.id == "all") | .result.id] | max))' "$W/notif.out"
check_jsonl "before: only older ids" \
  '[.[] | select(.id == "older") | .result.id] | all(. < '"$VC_ID"') and length == '"$(q "SELECT count(*) FROM notifications WHERE eid = '$A1' AND id < $VC_ID")" \
  "$W/notif.out"
check_jsonl "since, with a selector: the beta agents only" \
  '[.[] | select(.id == "recent")] | length >= 1 and all(.agent == "'"$A1"'" or .agent == "'"$A2"'")' "$W/notif.out"
check_jsonl "nothing matching: no line" \
  '[.[] | select(.id == "old" or .id == "nopath" or .id == "upnone")] == []' "$W/notif.out"
check_jsonl "after: the oldest above that id first (following a stream)" \
  '([.[] | select(.id == "up") | .result.id] == ([.[] | select(.id == "all") | .result.id] | sort | .[0:2])) and
   ([.[] | select(.id == "up2") | .result.id] == ([.[] | select(.id == "a1") | .result.id] | sort))' "$W/notif.out"

# ---- task_list -------------------------------------------------------------
echo '{"id":"later","op":"get","targets":["'"$A4"'"],"paths":"Device.DeviceInfo.UpTime"}' >"$W/later.jsonl"
kill_pid "$PID_sim_late"
offline "$A4" 20
run later --no-wait --expires 3600
expect_status 0 $RC "a task for an offline agent"
LATER_TASK=$(jq -r '.task' "$W/later.out")
LATER_BATCH=$(jq -r '.result.batch' "$W/later.out")
wait_sql "SELECT parked FROM tasks WHERE id = $LATER_TASK" t 30
PING_TASK=$(q "SELECT max(id) FROM tasks WHERE eid = '$A2' AND op = 'operate'")
cat >"$W/tasks.jsonl" <<EOF
{"id":"a2","op":"task_list","targets":"$A2"}
{"id":"ops","op":"task_list","task_op":"operate"}
{"id":"queued","op":"task_list","state":"queued"}
{"id":"batch","op":"task_list","batch":"$LATER_BATCH"}
{"id":"before","op":"task_list","targets":"$A2","before":$PING_TASK,"limit":1}
{"id":"ts","op":"task_status","tasks":[$PING_TASK]}
{"id":"none","op":"task_list","targets":"$A3","state":"canceled"}
EOF
run tasks
expect_status 0 $RC "task_list"
check_jsonl "an agent's tasks, newest first, with agent and task" \
  '[.[] | select(.id == "a2")] | length == '"$(q "SELECT count(*) FROM tasks WHERE eid = '$A2'")"' and
     all(.ok and .agent == "'"$A2"'" and .task == .result.id) and ([.[].task] == ([.[].task] | sort | reverse))' "$W/tasks.out"
check_jsonl "the result is the object task_status prints" \
  '(.[] | select(.id == "a2" and .task == '"$PING_TASK"') | .result) == (.[] | select(.id == "ts") | .result)' "$W/tasks.out"
check_jsonl "task_op: the two IPPings (the subscribe was an add)" \
  '[.[] | select(.id == "ops")] | length == 2 and all(.result.op == "operate")' "$W/tasks.out"
check_jsonl "state and batch: the offline agent's parked task" \
  '([.[] | select(.id == "queued") | .task] == ['"$LATER_TASK"']) and
   ((.[] | select(.id == "queued") | .result.parked) == true) and
   ([.[] | select(.id == "batch") | .task] == ['"$LATER_TASK"'])' "$W/tasks.out"
check_jsonl "before, limit 1: the task just older" \
  '[.[] | select(.id == "before") | .task] == ['"$(q "SELECT max(id) FROM tasks WHERE eid = '$A2' AND id < $PING_TASK")"']' "$W/tasks.out"
check_jsonl "nothing matching: no line" '[.[] | select(.id == "none")] == []' "$W/tasks.out"

# ---- operation_results, tag_list, fleet_summary ----------------------------
cat >"$W/misc.jsonl" <<EOF
{"id":"or","op":"operation_results","command_key":"reads-ping"}
{"id":"or3","op":"operation_results","targets":"$A3","limit":1}
{"id":"ornone","op":"operation_results","command_key":"no-such-key"}
{"id":"tags","op":"tag_list"}
{"id":"sum","op":"fleet_summary"}
EOF
run misc
expect_status 0 $RC "operation_results, tag_list, fleet_summary"
check_jsonl "operation_results of a command_key: both agents, complete, with the output" \
  '[.[] | select(.id == "or")] | length == 2 and ([.[].agent] | sort) == ["'"$A2"'", "'"$A3"'"] and
     all(.result.command_key == "reads-ping" and .result.state == "complete" and
       .result.command_name == "IPPing()" and .result.output.Status == "Complete" and
       .result.eid == .agent and (.result.updated_at | test("^20")))' "$W/misc.out"
check_jsonl "operation_results of an agent, limit 1" \
  '[.[] | select(.id == "or3") | .agent] == ["'"$A3"'"] and ([.[] | select(.id == "ornone")] == [])' "$W/misc.out"
check_jsonl "tag_list: by tag, agents and online" \
  '[.[] | select(.id == "tags") | .result] == [{"tag":"beta","agents":2,"online":2},{"tag":"eu","agents":4,"online":3}]' \
  "$W/misc.out"
check_jsonl "fleet_summary: one line, the agents, models, onboardings, tasks, rejections" \
  '[.[] | select(.id == "sum")] | length == 1 and (.[0] | (has("agent") | not) and .result.agents ==
     {"total":4,"online":3,"ready":3,"offline":1} and
     .result.models == [{"model":"SIM-GW-1000","software_version":"1.0.0","agents":4,"online":3}] and
     (.result.recent_onboardings | length == 4 and all(has("eid") and .model_name == "SIM-GW-1000" and
       .software_version == "1.0.0" and (.onboarded_at | test("^20")))) and
     ([.result.recent_onboardings[].onboarded_at] == ([.result.recent_onboardings[].onboarded_at] | sort | reverse)) and
     .result.tasks == {"queued":1,"parked":1,"sent":0} and
     (.result.rejections | keys) == ["rows", "senders_last_hour"]) and
     ((.[0] | keys_unsorted) == ["id","ok","result"]) and
     ((.[0].result | keys_unsorted) == ["agents","models","recent_onboardings","tasks","rejections"])' "$W/misc.out"

# ---- bad lines ---------------------------------------------------------------
cat >"$W/bad.jsonl" <<EOF
{"id":"b1","op":"notifications","kind":"boot"}
{"id":"b2","op":"notifications","since":60,"until":120}
{"id":"b3","op":"task_list","state":"parked"}
{"id":"b4","op":"task_list","task_op":"reboot"}
{"id":"b5","op":"list_agents","limit":10001}
{"id":"b6","op":"tag_list","targets":{"all":true}}
{"id":"b7","op":"fleet_summary","verbose":true}
{"id":"b8","op":"operation_results","limit":0}
{"id":"u1","op":"notifications","targets":"proto::nobody"}
{"id":"u2","op":"task_list","targets":{"model":"no-such-model"}}
EOF
run bad
expect_status 1 $RC "bad lines"
check_jsonl "bad fields: bad_field each" \
  '[.[] | select(.id | startswith("b")) | .error.code] == ["bad_field","bad_field","bad_field","bad_field","bad_field","bad_field","bad_field","bad_field"]' \
  "$W/bad.out"
check_jsonl "an unknown agent; a selector matching nothing" \
  '(.[] | select(.id == "u1") | .agent == "proto::nobody" and .error.code == "unknown_agent") and
   (.[] | select(.id == "u2") | .line == 10 and .error.code == "no_targets")' "$W/bad.out"
log PASS
