#!/usr/bin/env bash
# A profile put while 10 agents are online reaches each of them (paced,
# one batched Get each), sets only what differs, and reports them
# compliant — which a fresh Get of every agent confirms; agents that come
# online later get it at onboarding; the ProvisioningCode stamp tells the
# versions applied; the audit trail and path owners say what was done;
# a second put of the same definition is not a new version.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-profile.sh
. "$(dirname "$0")/../itest-profile.sh"

new_db "$T"
start_uspc d1
start_sim s1 10
wait_onboarded 10 60

NTP='"name":"ntp","selector":{"model":"SIM-GW-1000"},"priority":10,
 "steps":[{"set":{"Device.Time.NTPServer1":"ntp1.example.net","Device.Time.NTPServer2":"ntp2.example.net",
   "Device.Time.Enable":true}}]'
put_profile "$NTP"
[ "$VERSION" = 1 ] || fail "first version is $VERSION"
wait_count ntp compliant 10 60
for i in 1 5 10; do
	[ "$(agent_get "$i" Device.Time.NTPServer1)" = ntp1.example.net ] || fail "agent $i: NTPServer1 not set"
	[ "$(agent_get "$i" Device.Time.NTPServer2)" = ntp2.example.net ] || fail "agent $i: NTPServer2 not set"
done
# only what differed was set: Enable was already true
sets=$(q "SELECT count(*) FROM tasks WHERE batch_id = 'profile' AND op = 'set'
  AND request::text LIKE '%\"Enable\"%'")
[ "$sets" = 0 ] || fail "Device.Time.Enable was set although it was already true ($sets Sets)"

st=$(status_json ntp)
jq -e '.version == 1 and .counts.targeted == 10 and .counts.compliant == 10' <<<"$st" >/dev/null ||
	fail "profile_status: $st"

# the stamp
stamp=$(agent_get 3 Device.DeviceInfo.ProvisioningCode)
[[ $stamp == uspc:* ]] || fail "ProvisioningCode is '$stamp', wanted a uspc: stamp"

# the audit trail of one agent and its owners
printf '{"id":"h","op":"profile_history","targets":"%s"}\n' "$(agent 2)" | uctl >"$W/hist.out"
jq -e 'select(.result.profile == "ntp" and .result.outcome == "compliant")
  | .result.changes | map(select(.path == "Device.Time.NTPServer1" and .new == "ntp1.example.net")) | length == 1' \
	"$W/hist.out" >/dev/null || fail "history: $(cat "$W/hist.out")"
printf '{"id":"o","op":"profile_paths","targets":"%s","path":"Device.Time."}\n' "$(agent 2)" | uctl >"$W/paths.out"
[ "$(jq -r 'select(.result.path == "Device.Time.NTPServer1") | .result.profile' "$W/paths.out")" = ntp ] ||
	fail "profile_paths: $(cat "$W/paths.out")"

# the same definition again: not a new version
put_profile "$NTP"
[ "$VERSION" = 1 ] || fail "an unchanged definition made version $VERSION"

# a tag brings an agent into a profile's scope at once (not at the next
# periodic walk: the daemon walks every 2 s here, so give it 300 s)
stop_pid "$PID_d1"
start_uspc d1 --profile-scope-s 300
put_profile '"name":"beta-tz","selector":{"tag":"beta"},"priority":20,"allow_empty":true,
 "steps":[{"set":{"Device.Time.LocalTimeZone":"UTC0"}}]'
printf '{"id":"t","op":"tag","targets":"%s","tags":"beta"}\n' "$(agent 4)" | uctl >/dev/null
wait_count beta-tz compliant 1 20
[ "$(agent_get 4 Device.Time.LocalTimeZone)" = UTC0 ] || fail "tagged agent 4 did not get beta-tz"
[ "$(q "SELECT count(*) FROM profile_agents WHERE name = 'beta-tz'")" = 1 ] ||
	fail "beta-tz selected more than the tagged agent"

# agents that come online later get it when they onboard
start_sim s2 5 --first-index 11
wait_onboarded 15 60
wait_count ntp compliant 15 60
[ "$(agent_get 13 Device.Time.NTPServer1)" = ntp1.example.net ] || fail "late agent 13 not provisioned"
log "ok"
