#!/usr/bin/env bash
# test_uspctl_profile.sh — provisioning profiles from the operator's side,
# through a daemon whose profile engine is off (--profiles false), so
# that nothing but uspctl can have changed a profile table or an agent:
#   - bad input gets one clear error line each and changes nothing (the
#     profile tables and profile_list as before): an unknown step kind, a
#     path with a syntax error, a "set" key that is an object path, a
#     selector that selects no agent (no_targets; accepted with
#     "allow_empty": true), a template naming a variable no agent has, an
#     unknown top-level field, a priority out of range, profile_status /
#     _delete / _reconcile / _plan of an unknown profile (unknown_profile),
#     malformed JSON; the good lines of the same batch still run;
#   - profile_plan of a definition reads the sampled agents and shows per
#     agent the "changes" it would make, and changes nothing: a fresh Get
#     shows the old value, no profile, head, agent row or kick is made, no
#     request but Gets is sent; profile_plan by "name" plans the current
#     version of an existing profile;
#   - a selector's "where" predicates on the snapshot count the agents
#     they hold for: "==" a value one agent has, "!=" it, two at once, a
#     parameter or an object no agent has (never "==", always "!="), with
#     "eids"; profile_put and profile_reconcile select the same agents.
# shellcheck disable=SC2119 # uctl takes its own flags
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-uspctl.sh
. "$(dirname "$0")/itest-uspctl.sh"

new_db "$DB_NAME"
start_uspc uspc --profiles false
start_sim main 3
wait_onboarded 3 60
A1=$(agent 1)

# run NAME — uspctl on $W/NAME.jsonl; RC is its exit status.
run() {
  RC=0
  uctl --timeout 60 <"$W/$1.jsonl" >"$W/$1.out" 2>"$W/$1.err" || RC=$?
}
# tables — the rows of every profile table, one line (what uspctl may change).
tables() {
  q "SELECT (SELECT count(*) FROM profiles) || '/' || (SELECT count(*) FROM profile_heads) || '/' ||
     (SELECT count(*) FROM profile_agents) || '/' || (SELECT count(*) FROM profile_kicks) || '/' ||
     (SELECT count(*) FROM profile_runs) || '/' || (SELECT count(*) FROM profile_vars) || '/' ||
     (SELECT count(*) FROM profile_history) || '/' || (SELECT count(*) FROM profile_paths)"
}
plist() { echo '{"id":"l","op":"profile_list"}' | uctl | jq -c '.result' | sort; }
fresh_get() {
  printf '{"id":"g","op":"get","targets":"%s","paths":"%s"}\n' "$(agent "$1")" "$2" | uctl -q |
    jq -r '.result.req_path_results[0].resolved_path_results[0].result_params | to_entries[0].value'
}

# a profile that exists, and variables for one agent (so a ${var:ssid} is known)
cat >"$W/setup.jsonl" <<EOF
{"id":"v","op":"profile_vars","targets":"$A1","vars":{"ssid":"home-1"}}
{"id":"base","op":"profile_put","name":"base","selector":{"all":true},"priority":10,"steps":[{"set":{"Device.Time.NTPServer2":"base2.example.net"}}]}
EOF
run setup
expect_status 0 "$RC" "setup"
check_jsonl "setup: the profile exists" \
  '.[1] | .ok and .result.profile == "base" and .result.version == 1 and .result.new and .result.targets == 3' "$W/setup.out"
before_tables=$(tables)
before_list=$(plist)
log "tables before: $before_tables"

# ---- bad input: one error line each, nothing changed -----------------------------
SEL='"selector":{"all":true},"priority":20'
cat >"$W/bad.jsonl" <<EOF
{"id":"kind","op":"profile_put","name":"x1",$SEL,"steps":[{"frobnicate":{"a":1}}]}
{"id":"syntax","op":"profile_put","name":"x2",$SEL,"steps":[{"set":{"Device..Time.NTPServer1":"a"}}]}
{"id":"objkey","op":"profile_put","name":"x3",$SEL,"steps":[{"set":{"Device.Time.":"a"}}]}
{"id":"empty","op":"profile_put","name":"x4","selector":{"model":"NO-SUCH-MODEL"},"priority":20,"steps":[{"set":{"Device.Time.NTPServer1":"a"}}]}
{"id":"var","op":"profile_put","name":"x5",$SEL,"steps":[{"set":{"Device.WiFi.SSID.1.SSID":"\${var:nosuchvar}"}}]}
{"id":"field","op":"profile_put","name":"x6",$SEL,"frobs":1,"steps":[{"set":{"Device.Time.NTPServer1":"a"}}]}
{"id":"prio","op":"profile_put","name":"x7","selector":{"all":true},"priority":1000001,"steps":[{"set":{"Device.Time.NTPServer1":"a"}}]}
{"id":"prio2","op":"profile_put","name":"x8","selector":{"all":true},"priority":-1,"steps":[{"set":{"Device.Time.NTPServer1":"a"}}]}
{"id":"status","op":"profile_status","name":"nosuch"}
{"id":"delete","op":"profile_delete","name":"nosuch"}
{"id":"reconcile","op":"profile_reconcile","name":"nosuch"}
{"id":"plan","op":"profile_plan","name":"nosuch"}
{"id":"broken","op":"profile_put","name":"x9",
{"id":"good","op":"profile_status","name":"base"}
EOF
run bad
expect_status 1 "$RC" "a batch with bad lines"
# err ID CODE REGEX — line ID is one error line with that code and a message matching REGEX
err() {
  check_jsonl "$1: $2" 'map(select(.id == "'"$1"'")) | length == 1 and (.[0] | .ok == false
    and .error.code == "'"$2"'" and (.error.message | test("'"$3"'")))' "$W/bad.out"
}
err kind bad_field 'steps\\[1\\]\\.frobnicate: unknown step kind'
err syntax invalid_path 'Device\\.\\.Time\\.NTPServer1.*not a valid path'
err objkey invalid_path "Device\\\\.Time\\\\.' ends in '\\\\.': name a parameter"
err empty no_targets 'selects no agent.*allow_empty'
err var bad_field 'var:nosuchvar.*no agent has this variable'
err field bad_field 'frobs: unknown field'
err prio bad_field 'priority: must be an integer from 0 to 1000000'
err prio2 bad_field 'priority: must be an integer from 0 to 1000000'
err status unknown_profile "no profile 'nosuch'"
err delete unknown_profile "no profile 'nosuch'"
err reconcile unknown_profile "no profile 'nosuch'"
err plan unknown_profile "no profile 'nosuch'"
check_jsonl "malformed JSON: malformed_json with its line number" \
  'map(select(.line == 13)) | length == 1 and .[0].error.code == "malformed_json"' "$W/bad.out"
check_jsonl "the good line ran" 'map(select(.id == "good" and .ok and .result.name == "base")) | length == 1' "$W/bad.out"
check_jsonl "one line each" 'length == 14' "$W/bad.out"
[ "$(tables)" = "$before_tables" ] || fail "the bad lines changed the profile tables: $(tables), before $before_tables"
[ "$(plist)" = "$before_list" ] || fail "the bad lines changed profile_list: $(plist)"

# allow_empty: the same empty selector is accepted, for agents still to come
echo '{"id":"later","op":"profile_put","name":"x4","selector":{"model":"NO-SUCH-MODEL"},"priority":20,"allow_empty":true,"steps":[{"set":{"Device.Time.NTPServer1":"a"}}]}' >"$W/later.jsonl"
run later
expect_status 0 "$RC" "allow_empty"
check_jsonl "allow_empty: created with no target" '.[0] | .ok and .result.profile == "x4" and .result.targets == 0' "$W/later.out"
echo '{"id":"d","op":"profile_delete","name":"x4"}' >"$W/del.jsonl"
run del
expect_status 0 "$RC" "profile_delete"
check_jsonl "profile_delete" '.[0] | .ok and .result.deleted and .result.agents == 0' "$W/del.out"

# ---- profile_plan: what would change, nothing changed ------------------------------
before_tables=$(tables)
ntp_before=$(for i in 1 2 3; do fresh_get $i Device.Time.NTPServer1; done | sort -u)
[ "$ntp_before" = pool.ntp.org ] || fail "NTPServer1 before the plan: $ntp_before"
cat >"$W/plan.jsonl" <<EOF
{"id":"def","op":"profile_plan","name":"plan-ntp","selector":{"all":true},"priority":5,"sample":3,"timeout":20,"steps":[{"set":{"Device.Time.NTPServer1":"plan.example.net","Device.Time.Enable":true}}]}
{"id":"byname","op":"profile_plan","name":"base","sample":2,"timeout":20}
EOF
run plan
expect_status 0 "$RC" "profile_plan"
check_jsonl "plan of a definition: 3 agents sampled, each with the change it would make" \
  '.[] | select(.id == "def") | .ok and .result.profile == "plan-ntp" and .result.targets == 3
    and .result.online == 3 and (.result.sample | length == 3)
    and (.result.sample | all(has("error") | not))
    and (.result.sample | all(.changes | map(select(.path == "Device.Time.NTPServer1"
      and .old == "pool.ntp.org" and .new == "plan.example.net" and .action == "would_set")) | length == 1))
    and (.result.sample | all(.changes | map(select(.path == "Device.Time.Enable")) | length == 0))' "$W/plan.out"
check_jsonl "plan by name: the current version of an existing profile" \
  '.[] | select(.id == "byname") | .ok and .result.profile == "base" and .result.targets == 3
    and (.result.sample | length == 2)
    and (.result.sample | all(.changes | map(select(.path == "Device.Time.NTPServer2"
      and .old == "" and .new == "base2.example.net" and .action == "would_set")) | length == 1))' "$W/plan.out"
for i in 1 2 3; do
  [ "$(fresh_get $i Device.Time.NTPServer1)" = pool.ntp.org ] || fail "agent $i: the plan changed NTPServer1"
  [ "$(fresh_get $i Device.Time.NTPServer2)" = "" ] || fail "agent $i: the plan changed NTPServer2"
done
[ "$(tables)" = "$before_tables" ] || fail "profile_plan changed the profile tables: $(tables), before $before_tables"
[ "$(q "SELECT count(*) FROM profile_agents")" = 0 ] || fail "profile_plan made profile_agents rows"
[ "$(q "SELECT count(*) FROM profile_heads WHERE name = 'plan-ntp'")" = 0 ] || fail "profile_plan made a profile"
n=$(q "SELECT count(*) FROM tasks WHERE batch_id LIKE 'profile%' AND op <> 'get'")
[ "$n" = 0 ] || fail "$n requests other than Gets were sent for profiles"
[ "$(q "SELECT count(*) FROM tasks WHERE batch_id = 'profile_plan' AND op = 'get'")" = 5 ] ||
  fail "the plans did not send one Get per sampled agent"

# ---- "where": predicates on the snapshot ----------------------------------------
A2=$(agent 2)
echo '{"id":"di","op":"get","targets":{"all":true},"paths":"Device.DeviceInfo."}' | uctl -q >/dev/null ||
  fail "a Get of Device.DeviceInfo. (into the snapshot) failed"
snap() { q "SELECT value FROM snapshot WHERE eid = '$1' AND path = '$2'"; }
S1=$(snap "$A1" Device.DeviceInfo.SerialNumber)
M1=$(snap "$A1" Device.DeviceInfo.ModelName)
V1=$(snap "$A1" Device.DeviceInfo.SoftwareVersion)
if [ -z "$S1" ] || [ "$(snap "$A2" Device.DeviceInfo.SerialNumber)" = "$S1" ]; then
  fail "the snapshot has no distinct SerialNumber for agents 1 and 2"
fi
[ "$(q "SELECT count(DISTINCT value) FROM snapshot WHERE path = 'Device.DeviceInfo.ModelName'")" = 1 ] ||
  fail "the agents do not share one ModelName"
WS='"priority":30,"sample":0,"steps":[{"set":{"Device.Time.NTPServer1":"w.example.net"}}]'
where() { # ID SELECTOR
  printf '{"id":"%s","op":"profile_plan","name":"w","selector":%s,%s}\n' "$1" "$2" "$WS"
}
{
  where eq '{"all":true,"where":["Device.DeviceInfo.SerialNumber == \"'"$S1"'\""]}'
  where ne '{"all":true,"where":["Device.DeviceInfo.SerialNumber != \"'"$S1"'\""]}'
  where two '{"all":true,"where":["Device.DeviceInfo.ModelName == \"'"$M1"'\"","Device.DeviceInfo.SerialNumber != \"'"$S1"'\""]}'
  where dots '{"all":true,"where":["Device.DeviceInfo.SoftwareVersion == \"'"$V1"'\""]}'
  where noparam '{"all":true,"where":["Device.DeviceInfo.NoSuchParameter == \"\""]}'
  where noparamne '{"all":true,"where":["Device.DeviceInfo.NoSuchParameter != \"x\""]}'
  where noobj '{"all":true,"where":["Device.No.Such.Object.Param == \"\""]}'
  where eids '{"eids":["'"$A1"'","'"$A2"'"],"where":["Device.DeviceInfo.SerialNumber != \"'"$S1"'\""]}'
  printf '{"id":"put","op":"profile_put","name":"w","selector":{"all":true,"where":["Device.DeviceInfo.SerialNumber != \\"%s\\""]},%s}\n' \
    "$S1" '"priority":30,"steps":[{"set":{"Device.Time.NTPServer1":"w.example.net"}}]'
  echo '{"id":"rec","op":"profile_reconcile","name":"w"}'
} >"$W/where.jsonl"
run where
expect_status 0 "$RC" "where selectors"
# targets ID N — the plan ID counts N agents
targets() {
  check_jsonl "where $1: $2 agents" '.[] | select(.id == "'"$1"'") | .ok and .result.targets == '"$2" "$W/where.out"
}
targets eq 1
targets ne 2
targets two 2
targets dots 3
targets noparam 0
targets noparamne 3
targets noobj 0
targets eids 1
check_jsonl "where: profile_put selects the same agents" \
  '.[] | select(.id == "put") | .ok and .result.targets == 2' "$W/where.out"
check_jsonl "where: profile_reconcile kicks the same agents" \
  '.[] | select(.id == "rec") | .ok and .result.queued == 2' "$W/where.out"
[ "$(q "SELECT string_agg(eid, ',' ORDER BY eid) FROM profile_agents WHERE name = 'w'")" = \
  "$(q "SELECT string_agg(eid, ',' ORDER BY eid) FROM agents WHERE eid <> '$A1'")" ] ||
  fail "profile_reconcile: the rows of profile w are not the agents but agent 1"
log "ok"
