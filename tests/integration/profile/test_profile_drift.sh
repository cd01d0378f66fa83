#!/usr/bin/env bash
# Drift and fights, on 3 agents with drift checks every 3 s (+ up to 1 s of
# jitter):
#   - an enforce profile corrects an operator's Set of a value it manages
#     at the next drift check (a fresh Get shows the profile's value again;
#     the history row says trigger drift and the change old -> new);
#   - an audit profile only reports the operator's change: drifted, the
#     agent keeps the operator's value, the history lists it, and the
#     engine never Sets that path;
#   - contested: "another controller" (a loop here) sets the enforce
#     profile's path back each time it sees the profile's value; with
#     --profile-contest-count 3 the rule is "a path that would be set for
#     the 4th time within the window is not set": the profile's Sets of
#     that path on that agent stop at exactly 3 (the first application
#     counts), the profile is contested there, and stays so (no more
#     Sets) until profile_reconcile with "reset_contested":true, which
#     makes the engine set it again.
# shellcheck disable=SC2119 # uctl takes its own flags
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-profile.sh
. "$(dirname "$0")/../itest-profile.sh"

# the profile rows with their per-agent memory, for a post-mortem
pstate_dump() { q "SELECT name, eid, state, detail, pstate FROM profile_agents ORDER BY name, eid" >"$W/pstate.txt" 2>&1; }
at_cleanup pstate_dump

new_db "$T"
start_uspc d1 --profile-contest-count 3 --profile-contest-window-s 3600
start_sim s1 3
wait_onboarded 3 60

NTP1=ntp1.example.net
TZ0='CET-1CEST,M3.5.0,M10.5.0/3' # the model's default
put_profile '"name":"ntp","selector":{"all":true},"priority":10,"mode":"enforce",
 "triggers":["onboarding","scope","version","drift"],"drift_check":{"every_s":3,"jitter_s":1},
 "steps":[{"set":{"Device.Time.NTPServer1":"'$NTP1'"}}]'
put_profile '"name":"tz","selector":{"all":true},"priority":20,"mode":"audit",
 "triggers":["onboarding","scope","version","drift"],"drift_check":{"every_s":3,"jitter_s":1},
 "steps":[{"set":{"Device.Time.LocalTimeZone":"'$TZ0'"}}]'
wait_count ntp compliant 3 30
wait_count tz compliant 3 30
for i in 1 2 3; do
	[ "$(agent_get $i Device.Time.NTPServer1)" = $NTP1 ] || fail "agent $i: NTPServer1 not set"
	[ "$(profile_sets $i Device.Time.NTPServer1)" = 1 ] ||
		fail "agent $i: $(profile_sets $i Device.Time.NTPServer1) Sets of NTPServer1 at the first application"
done

# ---- enforce: the operator's change is corrected at the next drift check ----
h0=$(q "SELECT coalesce(max(id), 0) FROM profile_history")
set_on 1 Device.Time.NTPServer1 rogue.example.net
[ "$(agent_get 1 Device.Time.NTPServer1)" = rogue.example.net ] || fail "the operator's Set did not land"
t0=$SECONDS
wait_get 1 Device.Time.NTPServer1 $NTP1 15
log "enforce: corrected after $((SECONDS - t0)) s"
# the run's verdict comes after the re-read and the stamp
wait_sql "SELECT count(*) FROM profile_history WHERE eid = '$(agent 1)' AND name = 'ntp' AND id > $h0
  AND 'drift' = ANY(triggers) AND outcome = 'compliant'
  AND entry -> 'changes' @> '[{\"path\":\"Device.Time.NTPServer1\",\"old\":\"rogue.example.net\"}]'" 1 10
[ "$(pstate ntp 1)" = compliant ] || fail "ntp on agent 1 is $(pstate ntp 1)"
history_of 1 ntp >"$W/hist1.out"
jq -e -s 'map(.result | select((.triggers | index("drift")) and .outcome == "compliant"
    and (.changes | map(select(.path == "Device.Time.NTPServer1" and .old == "rogue.example.net"
      and .new == "'$NTP1'" and .action == "set" and .result == "ok")) | length == 1)))
  | length == 1' "$W/hist1.out" >/dev/null || fail "history of agent 1 lacks the drift correction: $(cat "$W/hist1.out")"
[ "$(profile_sets 1 Device.Time.NTPServer1)" = 2 ] || fail "agent 1: $(profile_sets 1 Device.Time.NTPServer1) Sets, wanted 2"

# ---- audit: the operator's change is only reported ----------------------------
set_on 2 Device.Time.LocalTimeZone EST5EDT
wait_pstate tz 2 drifted 15
sleep 4 # at least one more drift check
[ "$(agent_get 2 Device.Time.LocalTimeZone)" = EST5EDT ] || fail "the audit profile changed the operator's value"
[ "$(pstate tz 2)" = drifted ] || fail "tz on agent 2 is $(pstate tz 2) after another check"
detail=$(q "SELECT detail FROM profile_agents WHERE name = 'tz' AND eid = '$(agent 2)'")
[[ $detail == *Device.Time.LocalTimeZone* ]] || fail "drifted detail '$detail' does not name the path"
history_of 2 tz >"$W/hist2.out"
jq -e -s 'map(.result | select(.outcome == "drifted" and (.triggers | index("drift"))
    and (.changes | map(select(.path == "Device.Time.LocalTimeZone" and .old == "EST5EDT"
      and .new == "'$TZ0'" and .result == "drifted")) | length == 1))) | length >= 1' \
	"$W/hist2.out" >/dev/null || fail "history of agent 2 lacks the drift: $(cat "$W/hist2.out")"
n=$(q "SELECT count(*) FROM tasks WHERE batch_id = 'profile' AND op = 'set'
  AND request::text LIKE '%LocalTimeZone%'")
[ "$n" = 0 ] || fail "the audit profile's path was Set $n times"
[ "$(pstate tz 1)/$(pstate tz 3)" = compliant/compliant ] || fail "tz on agents 1/3 not compliant"

# ---- contested: another controller keeps setting it back ------------------------
OTHER=other.example.net
fight() { # the other controller: flip the value back whenever it is the profile's
	local v
	while :; do
		v=$(agent_get 3 Device.Time.NTPServer1 2>/dev/null || true)
		if [ "$v" = $NTP1 ]; then
			printf '{"id":"x","op":"set","targets":"%s","params":{"Device.Time.NTPServer1":"%s"}}\n' \
				"$(agent 3)" $OTHER | uctl >/dev/null 2>&1 || true
			echo "flip $(date +%T.%N)" >>"$W/fight.txt"
		fi
		sleep 0.5
	done
}
fight &
FIGHT=$!
track $FIGHT
t0=$SECONDS
wait_pstate ntp 3 contested 40
log "contested after $((SECONDS - t0)) s, $(count_lines "$W/fight.txt" flip) flips"
detail=$(q "SELECT detail FROM profile_agents WHERE name = 'ntp' AND eid = '$(agent 3)'")
[[ $detail == *Device.Time.NTPServer1*contested* ]] || fail "contested detail: '$detail'"
sleep 9 # two or more drift checks while the fight goes on
sets=$(profile_sets 3 Device.Time.NTPServer1)
[ "$sets" = 3 ] || fail "the profile Set NTPServer1 on agent 3 $sets times, wanted exactly 3 (contest count)"
[ "$(pstate ntp 3)" = contested ] || fail "ntp on agent 3 is $(pstate ntp 3), no longer contested"
[ "$(agent_get 3 Device.Time.NTPServer1)" = $OTHER ] || fail "the contested value was changed"
history_of 3 ntp >"$W/hist3.out"
jq -e -s 'map(.result | select(.outcome == "contested" and (.changes | map(select(
    .path == "Device.Time.NTPServer1" and .result == "contested")) | length == 1))) | length >= 1' \
	"$W/hist3.out" >/dev/null || fail "history of agent 3 lacks the contested verdict: $(cat "$W/hist3.out")"
# the others are not contested
[ "$(pstate ntp 1)/$(pstate ntp 2)" = compliant/compliant ] || fail "ntp on agents 1/2 not compliant"
kill_pid $FIGHT

# ---- reset_contested: the engine sets it again ---------------------------------------
res=$(reconcile '"name":"ntp","targets":"'"$(agent 3)"'","reset_contested":true')
jq -e '.queued == 1' <<<"$res" >/dev/null || fail "reconcile: $res"
wait_get 3 Device.Time.NTPServer1 $NTP1 15
wait_pstate ntp 3 compliant 10
[ "$(profile_sets 3 Device.Time.NTPServer1)" = 4 ] || fail "after reset_contested: $(profile_sets 3 Device.Time.NTPServer1) Sets, wanted 4"
log "ok"
