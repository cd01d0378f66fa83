#!/usr/bin/env bash
# A campaign over 30 agents in three waves, advanced by two daemons at once
# (both take steps of it, never at the same moment):
# every device ends succeeded and runs 2.0.0 from the bank the campaign
# filled (read back from the agents), each wave starts only after the one
# before is done, no Download() or Activate() is sent twice for a device
# and attempt, `uspctl --follow` exits 0 with the final status, and
# fleet_versions counts the new version from the inventory.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-campaign.sh
. "$(dirname "$0")/../itest-campaign.sh"

N=30
new_db "$T"
start_uspc d1 --shared-group "$T"
start_uspc d2 --shared-group "$T"
start_sim s1 $N
wait_onboarded $N 60

create_campaign '"name":"gw-2.0","targets":{"all":true},'"$FW"',
  "waves":[{"percent":10},{"percent":50},{"percent":100}],"max_inflight":6,"seed":11'
[ "$(dev_count "true")" = $N ] || fail "not every target in the campaign"
[ "$(dev_count "wave = 0")" = 3 ] || fail "wave 1 should hold 10% (3 devices)"
[ "$(dev_count "wave = 1")" = 12 ] || fail "wave 2 should hold up to 50% (12 more)"

timeout 120 "$USPCTL" --db "$DB_URL" --follow "$CAMPAIGN" >"$W/follow.out" 2>"$W/follow.err" ||
	fail "uspctl --follow exited $?: $(tail -3 "$W/follow.err")"
jq -e '.result.state == "finished" and .result.counts.succeeded == 30' "$W/follow.out" >/dev/null ||
	fail "--follow's final status: $(cat "$W/follow.out")"
wait_settled 30
summary
[ "$(dev_count "state = 'succeeded'")" = $N ] || fail "not every device succeeded"

# waves in order: no device of wave k+1 started before wave k was done
for k in 0 1; do
	bad=$(q "SELECT count(*) FROM campaign_devices n WHERE n.campaign = $CAMPAIGN
	  AND n.wave = $((k + 1)) AND n.started_at < (SELECT max(finished_at)
	  FROM campaign_devices p WHERE p.campaign = $CAMPAIGN AND p.wave = $k)")
	[ "$bad" = 0 ] || fail "$bad device(s) of wave $((k + 2)) started before wave $((k + 1)) was done"
done
q "SELECT message FROM campaign_events WHERE campaign = $CAMPAIGN ORDER BY id" | grep -q "wave 3 of 3 starts" ||
	fail "no 'wave 3 of 3 starts' event"

# no step repeated; one Download() and one Activate() per device
rep=$(fw_tasks_repeated)
[ -z "$rep" ] || fail "firmware commands sent twice: $rep"
[ "$(q "SELECT count(*) FROM tasks WHERE batch_id = 'campaign:$CAMPAIGN'
  AND request->>'command' LIKE '%Activate()'")" = $N ] || fail "not one Activate() per device"

# the agents themselves say so (a fresh Get, not the campaign's claim)
echo '{"id":"v","op":"get","targets":{"all":true},"paths":["Device.DeviceInfo.SoftwareVersion","Device.DeviceInfo.ActiveFirmwareImage"]}' |
	uctl >"$W/get.out"
[ "$(jq -r '.result.req_path_results[0].resolved_path_results[0].result_params.SoftwareVersion' "$W/get.out" |
	sort | uniq -c | awk '{print $1 " " $2}')" = "$N 2.0.0" ] || fail "agents do not all run 2.0.0: $(head -3 "$W/get.out")"
mism=$(q "SELECT count(*) FROM campaign_devices WHERE campaign = $CAMPAIGN
  AND rtrim(bank, '.') <> (SELECT value FROM snapshot s WHERE s.eid = campaign_devices.eid
  AND s.path = 'Device.DeviceInfo.ActiveFirmwareImage')")
[ "$mism" = 0 ] || fail "$mism device(s) run another bank than the one the campaign filled"

echo '{"id":"fv","op":"fleet_versions"}' | uctl >"$W/fv.out"
jq -e 'select(.result.software_version == "2.0.0") | .result.devices == 30' "$W/fv.out" >/dev/null ||
	fail "fleet_versions: $(cat "$W/fv.out")"

# both daemons' engines took steps of this one campaign (one pass at a time)
by=$(q "SELECT string_agg(DISTINCT e->>'by', ',' ORDER BY e->>'by') FROM campaign_devices,
  jsonb_array_elements(timeline) e WHERE campaign = $CAMPAIGN")
[ "$by" = "$T-d1,$T-d2" ] || fail "steps taken by '$by', wanted both daemons"
stop_pid "$PID_d1" || fail "d1 exit status $?"
stop_pid "$PID_d2" || fail "d2 exit status $?"
log "ok"
