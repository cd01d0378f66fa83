#!/usr/bin/env bash
# Priorities, table rows, failures and templates, on 3 agents:
#   - two overlapping profiles (priorities 10 and 20) name the same path
#     with different values: the agent ends with the priority-20 value,
#     each profile's other path is set, profile_paths names the owner of
#     each path, both are compliant; a third profile with priority 20 on
#     that path is refused (profile_conflict) and changes nothing;
#   - ensure_instance (a guest SSID keyed by Alias, params with ${serial})
#     creates the row once: two more reconciles add no second row and send
#     no second Add; ensure_absent deletes the row an operator added;
#     ensure_count max 3 deletes the excess; a subscribe step creates the
#     subscription once (not again on re-apply);
#   - a profile that sets a read-only parameter is not_applicable on every
#     agent with the USP error code in its detail, and is no loop: one Set
#     per agent per application (reconcile included), none from retries;
#     another profile whose Set went in the same run is compliant;
#   - ${var:ssid} with variables for 2 of 3 agents: those 2 compliant with
#     their value, the third failed with a detail naming the variable;
#   - a profile put while runs of the agents are under way (the agents
#     slow to answer) still reaches them once those runs end.
# shellcheck disable=SC2119,SC2016 # uctl takes its own flags; ${...} templates stay unexpanded
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-profile.sh
. "$(dirname "$0")/../itest-profile.sh"

new_db "$T"
start_uspc d1
start_sim s1 3
wait_onboarded 3 60

# get_n AGENT_INDEX PATH — how many objects a Get of PATH (one parameter
# per row) resolves to: the rows.
get_n() {
	printf '{"id":"g","op":"get","targets":"%s","paths":"%s"}\n' "$(agent "$1")" "${2//\"/\\\"}" | uctl |
		jq -r '.result.req_path_results[0].resolved_path_results | length'
}
# sget AGENT_INDEX PATH — agent_get for a path with a search expression.
sget() { agent_get "$1" "${2//\"/\\\"}"; }
# get_inst AGENT_INDEX SEARCH_PATH — the instance path of the one row it finds.
get_inst() {
	printf '{"id":"g","op":"get","targets":"%s","paths":"%s"}\n' "$(agent "$1")" "${2//\"/\\\"}Alias" | uctl |
		jq -r '.result.req_path_results[0].resolved_path_results[0].resolved_path'
}
plist() { printf '{"id":"l","op":"profile_list"}\n' | uctl | jq -c '.result' | sort; }

# ---- overlapping profiles: the higher priority wins the shared path -------------
put_profile '"name":"p-low","selector":{"all":true},"priority":10,
 "steps":[{"set":{"Device.Time.NTPServer1":"low.example.net","Device.Time.NTPServer2":"low2.example.net"}}]'
wait_count p-low compliant 3 30
put_profile '"name":"p-high","selector":{"all":true},"priority":20,
 "steps":[{"set":{"Device.Time.NTPServer1":"high.example.net","Device.Time.LocalTimeZone":"UTC0"}}]'
wait_count p-high compliant 3 30
wait_count p-low compliant 3 10
for i in 1 2 3; do
	[ "$(agent_get $i Device.Time.NTPServer1)" = high.example.net ] || fail "agent $i: NTPServer1 is not the priority-20 value"
	[ "$(agent_get $i Device.Time.NTPServer2)" = low2.example.net ] || fail "agent $i: NTPServer2 of p-low not set"
	[ "$(agent_get $i Device.Time.LocalTimeZone)" = UTC0 ] || fail "agent $i: LocalTimeZone of p-high not set"
done
printf '{"id":"o","op":"profile_paths","targets":"%s","path":"Device.Time."}\n' "$(agent 2)" | uctl >"$W/paths.out"
owners=$(jq -r -s 'map(.result | "\(.path)=\(.profile)") | sort | join(",")' "$W/paths.out")
[ "$owners" = "Device.Time.LocalTimeZone=p-high,Device.Time.NTPServer1=p-high,Device.Time.NTPServer2=p-low" ] ||
	fail "profile_paths owners: $owners ($(cat "$W/paths.out"))"
jq -e -s 'all(.result.state == "compliant")' "$W/paths.out" >/dev/null || fail "profile_paths states: $(cat "$W/paths.out")"

# the same priority on a shared path is refused, and changes nothing
before=$(plist)
nprof=$(q "SELECT count(*) FROM profiles")
err=$(put_error '"name":"p-tie","selector":{"all":true},"priority":20,
 "steps":[{"set":{"Device.Time.NTPServer1":"tie.example.net"}}]')
[[ $err == profile_conflict:*p-high*NTPServer1* ]] || fail "the tie: $err"
[ "$(plist)" = "$before" ] || fail "profile_list changed after a refused put: $(plist)"
[ "$(q "SELECT count(*) FROM profiles")" = "$nprof" ] || fail "the refused put left a version"
[ "$(q "SELECT count(*) FROM profile_heads WHERE name = 'p-tie'")" = 0 ] || fail "the refused put left a head"

# ---- rows: ensure_instance, ensure_absent, ensure_count, subscribe ----------------
for i in 1 2 3; do
	for a in old extra; do # instances 3 (old) and 4 (extra)
		printf '{"id":"a","op":"add","targets":"%s","path":"Device.WiFi.SSID.","params":{"Alias":"%s"}}\n' \
			"$(agent $i)" $a | uctl | jq -e '.ok' >/dev/null || fail "agent $i: add of $a failed"
	done
	[ "$(get_n $i Device.WiFi.SSID.*.Alias)" = 4 ] || fail "agent $i: $(get_n $i Device.WiFi.SSID.*.Alias) SSID rows, wanted 4"
done
put_profile '"name":"rows","selector":{"all":true},"priority":30,"steps":[
 {"ensure_instance":{"table":"Device.WiFi.SSID.","keys":{"Alias":"guest"},
   "params":{"SSID":"Guest-${serial}","Enable":false}}},
 {"ensure_absent":{"table":"Device.WiFi.SSID.","match":{"Alias":"old"}}},
 {"ensure_count":{"table":"Device.WiFi.SSID.","max":3}},
 {"subscribe":{"id":"uspc-prof-ntp","notif_type":"ValueChange","reference_list":"Device.Time.NTPServer1"}}]'
wait_count rows compliant 3 30
for _ in 1 2; do # two more applications
	h0=$(q "SELECT coalesce(max(id), 0) FROM profile_history WHERE name = 'rows'")
	reconcile '"name":"rows"' >/dev/null
	wait_sql "SELECT count(*) FROM profile_history WHERE name = 'rows' AND id > $h0 AND triggers @> '{demand}'" 3 20
done
wait_count rows compliant 3 10
for i in 1 2 3; do
	serial=$(q "SELECT serial_number FROM agents WHERE eid = '$(agent $i)'")
	[ -n "$serial" ] || fail "agent $i has no serial number in the inventory"
	[ "$(get_n $i 'Device.WiFi.SSID.[Alias=="guest"].Alias')" = 1 ] || fail "agent $i: not exactly one guest row"
	[ "$(sget $i 'Device.WiFi.SSID.[Alias=="guest"].SSID')" = "Guest-$serial" ] ||
		fail "agent $i: guest SSID is '$(sget $i 'Device.WiFi.SSID.[Alias=="guest"].SSID')', wanted Guest-$serial"
	[ "$(sget $i 'Device.WiFi.SSID.[Alias=="guest"].Enable')" = false ] || fail "agent $i: guest row enabled"
	[ "$(get_n $i 'Device.WiFi.SSID.[Alias=="old"].Alias')" = 0 ] || fail "agent $i: the old row is still there"
	[ "$(get_n $i Device.WiFi.SSID.*.Alias)" = 3 ] || fail "agent $i: $(get_n $i Device.WiFi.SSID.*.Alias) SSID rows, wanted 3 (max)"
	n=$(q "SELECT count(*) FROM tasks WHERE batch_id = 'profile' AND op = 'add' AND eid = '$(agent $i)'
	  AND request::text LIKE '%\"guest\"%'")
	[ "$n" = 1 ] || fail "agent $i: $n Adds of the guest row, wanted 1"
	[ "$(get_n $i 'Device.LocalAgent.Subscription.[ID=="uspc-prof-ntp"].ID')" = 1 ] ||
		fail "agent $i: the subscription is not there exactly once"
	[ "$(sget $i 'Device.LocalAgent.Subscription.[ID=="uspc-prof-ntp"].ReferenceList')" = Device.Time.NTPServer1 ] ||
		fail "agent $i: subscription ReferenceList"
	n=$(q "SELECT count(*) FROM tasks WHERE batch_id = 'profile' AND op = 'add' AND eid = '$(agent $i)'
	  AND request::text LIKE '%uspc-prof-ntp%'")
	[ "$n" = 1 ] || fail "agent $i: $n Adds of the subscription, wanted 1"
done

# ---- a read-only parameter: not_applicable, no loop; the other profile of the run is compliant
put_profile '"name":"ok2","selector":{"all":true},"priority":41,"steps":[{"set":{"Device.IP.IPv4Enable":false}}]'
wait_count ok2 compliant 3 30
for i in 1 2 3; do set_on $i Device.IP.IPv4Enable true; done # ok2 now differs: its Set joins ro's run
put_profile '"name":"ro","selector":{"all":true},"priority":40,"steps":[{"set":{"Device.DeviceInfo.Manufacturer":"ACME"}}]'
wait_count ro not_applicable 3 30
wait_count ok2 compliant 3 10
for i in 1 2 3; do
	d=$(q "SELECT detail FROM profile_agents WHERE name = 'ro' AND eid = '$(agent $i)'")
	[[ $d =~ ^Device\.DeviceInfo\.Manufacturer:\ 70[0-9][0-9] ]] || fail "agent $i: ro detail '$d' has no USP error code"
	[ "$(agent_get $i Device.IP.IPv4Enable)" = false ] || fail "agent $i: ok2 not applied"
	[ "$(agent_get $i Device.DeviceInfo.Manufacturer)" = "USPC Simulated Devices" ] || fail "agent $i: Manufacturer changed"
	# one Set carried both: the read-only failure did not stop the other profile
	n=$(q "SELECT count(*) FROM tasks WHERE batch_id = 'profile' AND op = 'set' AND eid = '$(agent $i)'
	  AND request::text LIKE '%Manufacturer%' AND request::text LIKE '%IPv4Enable%'")
	[ "$n" = 1 ] || fail "agent $i: no Set with both Manufacturer and IPv4Enable ($n)"
	[ "$(profile_sets $i Device.DeviceInfo.Manufacturer)" = 1 ] || fail "agent $i: $(profile_sets $i Device.DeviceInfo.Manufacturer) Sets of Manufacturer, wanted 1"
done
hist=$(history_of 1 ro | jq -c -s '.[0].result')
jq -e '.outcome == "not_applicable" and (.changes | map(select(.path == "Device.DeviceInfo.Manufacturer"
  and .result == "not_applicable" and (.err_code | type) == "number")) | length == 1)' <<<"$hist" >/dev/null ||
	fail "ro history: $hist"
# a reconcile applies it once more, then nothing: no retries
h0=$(q "SELECT coalesce(max(id), 0) FROM profile_history WHERE name = 'ro'")
reconcile '"name":"ro"' >/dev/null
wait_sql "SELECT count(*) FROM profile_history WHERE name = 'ro' AND id > $h0 AND triggers @> '{demand}'" 3 20
sleep 10
for i in 1 2 3; do
	[ "$(profile_sets $i Device.DeviceInfo.Manufacturer)" = 2 ] ||
		fail "agent $i: $(profile_sets $i Device.DeviceInfo.Manufacturer) Sets of Manufacturer after 2 applications, wanted 2"
	[ "$(pstate ro $i)" = not_applicable ] || fail "agent $i: ro is $(pstate ro $i)"
	[ -z "$(q "SELECT retry_at FROM profile_agents WHERE name = 'ro' AND eid = '$(agent $i)'")" ] ||
		fail "agent $i: ro has a retry scheduled"
done
wait_count ok2 compliant 3 5

# ---- templates: ${var:ssid} for 2 of 3 agents -------------------------------------
for i in 1 2; do
	printf '{"id":"v","op":"profile_vars","targets":"%s","vars":{"ssid":"home-%s"}}\n' "$(agent $i)" $i | uctl |
		jq -e '.ok' >/dev/null || fail "profile_vars for agent $i"
done
put_profile '"name":"vars","selector":{"all":true},"priority":60,"steps":[{"set":{"Device.WiFi.SSID.1.SSID":"${var:ssid}"}}]'
wait_pstate vars 1 compliant 30
wait_pstate vars 2 compliant 10
wait_pstate vars 3 failed 10
[ "$(agent_get 1 Device.WiFi.SSID.1.SSID)" = home-1 ] || fail "agent 1: SSID.1 not home-1"
[ "$(agent_get 2 Device.WiFi.SSID.1.SSID)" = home-2 ] || fail "agent 2: SSID.1 not home-2"
d=$(q "SELECT detail FROM profile_agents WHERE name = 'vars' AND eid = '$(agent 3)'")
[[ $d == *'${var:ssid}'* ]] || fail "agent 3: detail '$d' does not name the variable"
[ "$(profile_sets 3 Device.WiFi.SSID.1.SSID)" = 0 ] || fail "agent 3: SSID.1 was Set without a value"
[ "$(agent_get 3 Device.WiFi.SSID.1.SSID)" != '${var:ssid}' ] || fail "agent 3: the template was sent as is"

# ---- a profile put while the agents' runs are under way ----------------------------
# shellcheck disable=SC2154 # set by start_sim
freeze_sim "$PID_sim_s1"
at_cleanup thaw_s1
thaw_s1() { thaw_sim "$PID_sim_s1"; }
reconcile '"name":"ok2"' >/dev/null
wait_sql "SELECT count(*) FROM profile_runs WHERE started_at IS NOT NULL" 3 5
put_profile '"name":"late","selector":{"all":true},"priority":70,"steps":[{"set":{"Device.Time.Enable":false}}]'
sleep 0.5
thaw_sim "$PID_sim_s1"
wait_count late compliant 3 20
for i in 1 2 3; do
	[ "$(agent_get $i Device.Time.Enable)" = false ] || fail "agent $i: late not applied"
done

# ---- ensure_count keeps the row ensure_instance wants ------------------------------
# The operator deletes the guest row and adds another: restoring guest makes
# 4 rows, one too many; the excess to delete is the operator's row, not the
# guest row the same profile just created.
gi=$(get_inst 1 'Device.WiFi.SSID.[Alias=="guest"].')
printf '{"id":"a","op":"add","targets":"%s","path":"Device.WiFi.SSID.","params":{"Alias":"extra2"}}\n' "$(agent 1)" |
	uctl | jq -e '.ok' >/dev/null || fail "add of extra2 failed"
printf '{"id":"d","op":"delete","targets":"%s","paths":["%s"]}\n' "$(agent 1)" "$gi" | uctl | jq -e '.ok' >/dev/null ||
	fail "delete of the guest row $gi failed"
adds=$(profile_tasks 1 add)
h0=$(q "SELECT coalesce(max(id), 0) FROM profile_history WHERE name = 'rows' AND eid = '$(agent 1)'")
reconcile '"name":"rows","targets":"'"$(agent 1)"'"' >/dev/null
wait_sql "SELECT count(*) FROM profile_history WHERE name = 'rows' AND eid = '$(agent 1)' AND id > $h0" 1 30
[ "$(pstate rows 1)" = compliant ] ||
	fail "rows on agent 1: $(pstate rows 1) ($(q "SELECT detail FROM profile_agents WHERE name = 'rows' AND eid = '$(agent 1)'")), $(($(profile_tasks 1 add) - adds)) Adds"
[ "$(get_n 1 'Device.WiFi.SSID.[Alias=="guest"].Alias')" = 1 ] || fail "agent 1: no guest row"
[ "$(get_n 1 Device.WiFi.SSID.*.Alias)" = 3 ] || fail "agent 1: $(get_n 1 Device.WiFi.SSID.*.Alias) rows"
[ "$(get_n 1 'Device.WiFi.SSID.[Alias=="extra2"].Alias')" = 0 ] || fail "agent 1: the excess row extra2 is still there"
[ $(($(profile_tasks 1 add) - adds)) = 1 ] || fail "agent 1: $(($(profile_tasks 1 add) - adds)) Adds to restore one row"
log "ok"
