#!/usr/bin/env bash
# Write-only values, factory resets and once-per-version commands on 4
# agents: a profile that sets a write-only KeyPassphrase (read back empty
# from the agent) stays compliant on a reconcile without setting it again;
# a Device.FactoryReset() wipes the agent, and when it is back the
# profile restores every value and sets the passphrase again (history
# says "(secret)", the clear value is nowhere in profile_history); a
# reconcile with "write_only":true sets it again on the targeted agent
# only; a new version of the profile sets it again everywhere (new hash);
# a second profile's {"operate":{"command":"Device.Reboot()",
# "once_per":"version"}} reboots each agent exactly once per version, and
# not again when the agents onboard after that reboot.
# shellcheck disable=SC2154,SC2119 # PID_* are set by start_uspc / start_sim; uctl reads stdin
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-profile.sh
. "$(dirname "$0")/../itest-profile.sh"

N=4
KP=Device.WiFi.AccessPoint.1.Security.KeyPassphrase
MODE=Device.WiFi.AccessPoint.1.Security.ModeEnabled
SSID=Device.WiFi.SSID.1.SSID

# kp_sets AGENT_INDEX — profile Sets that carried the passphrase to it.
kp_sets() {
	q "SELECT count(*) FROM tasks WHERE batch_id = 'profile' AND op = 'set'
	   AND eid = '$(agent "$1")' AND request::text LIKE '%KeyPassphrase%'"
}
# kp_sets_all — "n1 n2 n3 n4": kp_sets of every agent.
kp_sets_all() {
	local i out=()
	for i in $(seq $N); do out+=("$(kp_sets "$i")"); done
	echo "${out[*]}"
}
# hist_n AGENT_INDEX NAME — audit rows of profile NAME for that agent.
hist_n() { q "SELECT count(*) FROM profile_history WHERE eid = '$(agent "$1")' AND name = '$2'"; }
# wait_hist AGENT_INDEX NAME N TIMEOUT — at least N audit rows, no run left.
wait_hist() {
	local end=$((SECONDS + $4)) got=""
	while [ $SECONDS -lt $end ]; do
		got=$(hist_n "$1" "$2")
		[ "$got" -ge "$3" ] && [ "$(q "SELECT count(*) FROM profile_runs WHERE eid = '$(agent "$1")'")" = 0 ] &&
			return 0
		sleep 0.3
	done
	fail "after $4s: agent $1 has $got audit row(s) of $2, wanted $3 (and no run left)"
}
# last_kp_action AGENT_INDEX — the action of the passphrase in the agent's
# newest audit row of wifi ("" when it is not in its changes).
last_kp_action() {
	q "SELECT coalesce((SELECT c->>'action' FROM jsonb_array_elements(entry->'changes') c
	   WHERE c->>'path' = '$KP' LIMIT 1), '') FROM profile_history
	   WHERE eid = '$(agent "$1")' AND name = 'wifi' ORDER BY id DESC LIMIT 1"
}
reconcile() {
	local out
	out=$(printf '{"id":"r","op":"profile_reconcile",%s}\n' "$1" | uctl) || fail "profile_reconcile: $out"
	log "reconcile: $(jq -c '.result' <<<"$out")"
}
no_secret_anywhere() {
	local n
	n=$(q "SELECT count(*) FROM profile_history h WHERE h::text LIKE '%s3cret%'")
	[ "$n" = 0 ] || fail "$1: the clear passphrase is in $n profile_history row(s)"
	n=$(q "SELECT count(*) FROM profile_agents p WHERE p::text LIKE '%s3cret%'")
	[ "$n" = 0 ] || fail "$1: the clear passphrase is in $n profile_agents row(s)"
	printf '{"id":"h","op":"profile_history","targets":{"all":true},"limit":1000}\n' | uctl >"$W/hist-all.out"
	! grep -q s3cret "$W/hist-all.out" || fail "$1: profile_history output shows the clear passphrase"
}

new_db "$T"
start_uspc d1
start_sim s1 $N
wait_onboarded $N 60

# shellcheck disable=SC2016 # ${serial} is the profile's template
WIFI='"name":"wifi","selector":{"model":"SIM-GW-1000"},"priority":10,
 "steps":[{"set":{"'$SSID'":"corp-net","'$MODE'":"WPA3-Personal",
   "'$KP'":{"value":"s3cret-${serial}","write_only":true}}}]'
put_profile "$WIFI"
wait_count wifi compliant $N 30
for i in $(seq $N); do wait_hist "$i" wifi 1 20; done
for i in 1 4; do
	[ "$(agent_get "$i" $SSID)" = corp-net ] || fail "agent $i: SSID not set"
	[ "$(agent_get "$i" $MODE)" = WPA3-Personal ] || fail "agent $i: ModeEnabled not set"
	[ "$(agent_get "$i" $KP)" = "" ] || fail "agent $i: a write-only value reads back non-empty"
done
[ "$(kp_sets_all)" = "1 1 1 1" ] || fail "passphrase Sets per agent after the put: $(kp_sets_all)"
[ "$(last_kp_action 1)" = set ] || fail "agent 1: the first run's history has no set of the passphrase"
# the value sent was the agent's own (templated): the Set task holds it
serial=$(q "SELECT serial_number FROM agents WHERE eid = '$(agent 1)'")
[ "$(q "SELECT count(*) FROM tasks WHERE batch_id = 'profile' AND eid = '$(agent 1)'
  AND request::text LIKE '%s3cret-$serial%'")" = 1 ] || fail "agent 1 was not sent s3cret-$serial"

# 1. reconcile: it reads back "" yet stays compliant, nothing is set again
reconcile '"name":"wifi"'
for i in $(seq $N); do wait_hist "$i" wifi 2 20; done
wait_count wifi compliant $N 10
[ "$(kp_sets_all)" = "1 1 1 1" ] || fail "a reconcile set the passphrase again: $(kp_sets_all) Sets"
for i in $(seq $N); do
	[ "$(last_kp_action "$i")" = "" ] || fail "agent $i: the reconcile's history has a '$(last_kp_action "$i")' of the passphrase"
done
no_secret_anywhere "after the reconcile"

# 2. a factory reset of agent 2: everything is restored, the passphrase too
before=$(hist_n 2 wifi)
printf '{"id":"fr","op":"operate","targets":"%s","command":"Device.FactoryReset()"}\n' "$(agent 2)" |
	uctl >"$W/fr.out" || fail "FactoryReset(): $(cat "$W/fr.out")"
wait_hist 2 wifi $((before + 1)) 30
wait_count wifi compliant $N 10
q "SELECT payload -> 'event' -> 'params' ->> 'Cause' FROM notifications WHERE eid = '$(agent 2)'
   AND path = 'Device.Boot!' ORDER BY id DESC LIMIT 1" | grep -q FactoryReset ||
	fail "agent 2 sent no Boot! with a FactoryReset cause"
[ "$(agent_get 2 $SSID)" = corp-net ] || fail "agent 2: SSID not restored after the factory reset"
[ "$(agent_get 2 $MODE)" = WPA3-Personal ] || fail "agent 2: ModeEnabled not restored after the factory reset"
[[ $(agent_get 2 Device.DeviceInfo.ProvisioningCode) == uspc:* ]] || fail "agent 2: stamp not restored"
[ "$(kp_sets_all)" = "1 2 1 1" ] || fail "passphrase Sets per agent after agent 2's factory reset: $(kp_sets_all) (wanted 1 2 1 1)"
h=$(q "SELECT c::text FROM profile_history, jsonb_array_elements(entry->'changes') c
  WHERE eid = '$(agent 2)' AND name = 'wifi' AND c->>'path' = '$KP' ORDER BY id DESC LIMIT 1")
jq -e '.action == "set" and .new == "(secret)"' <<<"$h" >/dev/null ||
	fail "agent 2: the factory reset's history of the passphrase: '$h'"
no_secret_anywhere "after the factory reset"

# 3. reconcile with write_only on agent 3 only
before=$(hist_n 3 wifi)
reconcile '"name":"wifi","targets":"'"$(agent 3)"'","write_only":true'
wait_hist 3 wifi $((before + 1)) 20
[ "$(kp_sets_all)" = "1 2 2 1" ] || fail "passphrase Sets per agent after a write_only reconcile of agent 3: $(kp_sets_all) (wanted 1 2 2 1)"
[ "$(last_kp_action 3)" = set ] || fail "agent 3: the write_only reconcile's history has no set"
wait_count wifi compliant $N 10

# 4. a new version (ModeEnabled changed): the passphrase is set again everywhere
wo_hash() { q "SELECT pstate -> 'wo' ->> '$KP' FROM profile_agents WHERE name = 'wifi' AND eid = '$(agent "$1")'"; }
h1=$(wo_hash 1)
[[ $h1 =~ ^[0-9a-f]{64}$ ]] || fail "agent 1: no write-only hash in its profile state: '$h1'"
WIFI2=${WIFI/WPA3-Personal/WPA2-WPA3-Personal}
put_profile "$WIFI2"
[ "$VERSION" = 2 ] || fail "the changed definition is version $VERSION"
wait_sql "SELECT count(*) FROM profile_agents WHERE name = 'wifi' AND version = 2 AND state = 'compliant'" $N 30
for i in $(seq $N); do wait_hist "$i" wifi 3 20; done
[ "$(kp_sets_all)" = "2 3 3 2" ] || fail "passphrase Sets per agent after version 2: $(kp_sets_all) (wanted 2 3 3 2)"
[ "$(agent_get 4 $MODE)" = WPA2-WPA3-Personal ] || fail "agent 4: version 2's ModeEnabled not set"
h2=$(wo_hash 1)
[[ $h2 =~ ^[0-9a-f]{64}$ && $h2 != "$h1" ]] || fail "agent 1: the write-only hash of version 2 is '$h2' (version 1: '$h1')"
no_secret_anywhere "after version 2"

# 5. once per version: one Reboot() per agent and version, none at the
# onboarding that follows it
ops() {
	local i out=()
	for i in $(seq $N); do
		out+=("$(q "SELECT count(*) FROM tasks WHERE batch_id = 'profile' AND op = 'operate'
		  AND eid = '$(agent "$i")' AND request->>'command' = 'Device.Reboot()'")")
	done
	echo "${out[*]}"
}
# boots — reboots the agents made (each Boot! may reach the controller
# twice: the factory subscription and the one of the onboarding)
boots() { count_lines "$W/sim-s1.log" ": reboot \(RemoteReboot\)"; }
wait_boots() {
	local end=$((SECONDS + $2))
	while [ "$(boots)" -lt "$1" ]; do
		[ $SECONDS -lt $end ] || fail "after $2s: $(boots) reboots, wanted $1"
		sleep 0.2
	done
}
boots0=$(boots)
MAINT='"name":"maint","selector":{"model":"SIM-GW-1000"},"priority":20,
 "steps":[{"operate":{"command":"Device.Reboot()","once_per":"version"}}]'
put_profile "$MAINT"
wait_count maint compliant $N 30
wait_boots $((boots0 + N)) 20
# every agent back, onboarded, its onboarding run over
wait_onboarded $N 20
wait_sql "SELECT count(*) FROM profile_runs" 0 20
wait_sql "SELECT count(*) FROM profile_kicks" 0 20
wait_sql "SELECT count(*) FROM profile_runs" 0 20
sleep 2 # a second Reboot() would be queued by now
[ "$(ops)" = "1 1 1 1" ] || fail "Reboot() Operates per agent for maint v1: $(ops) (wanted 1 1 1 1)"
[ "$(boots)" = $((boots0 + N)) ] || fail "$(($(boots) - boots0)) boots for $N agents after maint v1"
[ "$(kp_sets_all)" = "2 3 3 2" ] || fail "a plain reboot set the passphrase again: $(kp_sets_all)"
wait_count wifi compliant $N 10

MAINT2='"name":"maint","selector":{"model":"SIM-GW-1000"},"priority":20,
 "steps":[{"operate":{"command":"Device.Reboot()","args":{"Reason":"maint-v2"},"once_per":"version"}}]'
put_profile "$MAINT2"
[ "$VERSION" = 2 ] || fail "maint's changed definition is version $VERSION"
wait_sql "SELECT count(*) FROM profile_agents WHERE name = 'maint' AND version = 2 AND state = 'compliant'" $N 30
wait_boots $((boots0 + 2 * N)) 20
wait_onboarded $N 20
wait_sql "SELECT count(*) FROM profile_runs" 0 20
sleep 2
[ "$(ops)" = "2 2 2 2" ] || fail "Reboot() Operates per agent after maint v2: $(ops) (wanted 2 2 2 2)"
[ "$(boots)" = $((boots0 + 2 * N)) ] || fail "$(($(boots) - boots0)) boots for $N agents after maint v2"
[ "$(kp_sets_all)" = "2 3 3 2" ] || fail "a plain reboot set the passphrase again: $(kp_sets_all)"
no_secret_anywhere "at the end"
log "ok"
