#!/usr/bin/env bash
# Maintenance windows, with the engine's clock moved by
# campaign_clock_offset_s: a window that opens in two hours (in a real IANA
# zone) lets every device download now but activate none; the campaign
# shows waiting_window, not failed. Restarted with the clock moved into the
# window, the daemon activates them all, and they succeed. A slot no longer
# than its cutoff is refused when the campaign is created. With
# window.device_timezone_tag, devices tagged with their zone get the window
# in that zone (an unknown zone falls back to the campaign's).
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-campaign.sh
. "$(dirname "$0")/../itest-campaign.sh"

N=8
TZ_NAME=America/New_York
new_db "$T"
start_uspc d1
start_sim s1 $N
wait_onboarded $N 60

# the slot starts two hours from now, local time in $TZ_NAME, every day
start=$(TZ=$TZ_NAME date -d '+2 hours' +%H:%M)
create_campaign '"name":"win","targets":{"all":true},'"$FW"',"max_inflight":20,
  "window":{"timezone":"'$TZ_NAME'","cutoff_min":10,
            "slots":[{"start":"'"$start"'","duration_min":60}]}'
wait_devs "state = 'downloaded'" $N 60
wait_campaign waiting_window 10
sleep 2
[ "$(dev_count "state = 'downloaded'")" = $N ] || fail "a device left 'downloaded' outside the window"
[ "$(q "SELECT count(*) FROM tasks WHERE batch_id = 'campaign:$CAMPAIGN'
  AND request->>'command' LIKE '%Activate()'")" = 0 ] || fail "an Activate() was queued outside the window"
reason=$(q "SELECT reason FROM campaigns WHERE id = $CAMPAIGN")
[[ $reason == "activation window closed; the next opens in "* ]] || fail "waiting reason: $reason"
status_json >"$W/status.json"
jq -e '.state == "waiting_window" and .counts.failed == 0' "$W/status.json" >/dev/null ||
	fail "status outside the window: $(cat "$W/status.json")"

# two hours and five minutes later, the window is open (55 min left > cutoff)
stop_pid "$PID_d1" || fail "d1 exit status $?"
start_uspc d1 --campaign-clock-offset-s 7500
wait_campaign finished 90
[ "$(dev_count "state = 'succeeded'")" = $N ] || fail "not every device succeeded in the window"
grep -q "campaign_clock_offset_s = 7500" "$W/d1.log" || fail "no warning about the moved clock"
q "SELECT message FROM campaign_events WHERE campaign = $CAMPAIGN ORDER BY id" | grep -q "activation window open" ||
	fail "no 'window open' event"
activate_at=$(q "SELECT min(t.created_at) FROM tasks t WHERE t.batch_id = 'campaign:$CAMPAIGN'
  AND t.request->>'command' LIKE '%Activate()'")
restart_at=$(q "SELECT min(at) FROM campaign_events WHERE campaign = $CAMPAIGN AND message LIKE 'activation window open%'")
[ "$(q "SELECT '$activate_at'::timestamptz >= '$restart_at'::timestamptz")" = t ] ||
	fail "an activation before the window opened"

# a slot no longer than its cutoff could never activate: refused at creation
out=$(printf '%s\n' '{"id":"short","op":"campaign_create","name":"short","targets":{"all":true},"firmware":{"url":"http://fw.example.net/3.0.0.bin","version":"3.0.0"},"window":{"timezone":"'$TZ_NAME'","cutoff_min":30,"slots":[{"start":"02:00","duration_min":30}]}}' | uctl) && fail "a slot shorter than its cutoff was accepted: $out"
jq -e '.error.code == "bad_field"' <<<"$out" >/dev/null || fail "short slot: $out"
[ "$(q "SELECT count(*) FROM campaigns WHERE name = 'short'")" = 0 ] || fail "the refused campaign exists"

stop_pid "$PID_d1" || fail "d1 exit status $?"
start_uspc d1 # the real clock again

# windows read in each device's own zone: three agents tagged Asia/Tokyo,
# where the slot is open now, and one tagged with a zone PostgreSQL does not
# know (the campaign's zone, UTC, applies: there the slot is hours away)
printf '{"id":"t","op":"tag","targets":["%s","%s","%s"],"tags":"tz:Asia/Tokyo"}\n' \
	"$(agent 1)" "$(agent 2)" "$(agent 3)" | uctl >/dev/null
printf '{"id":"t","op":"tag","targets":["%s"],"tags":"tz:Mars/Olympus_Mons"}\n' "$(agent 4)" | uctl >/dev/null
start=$(TZ=Asia/Tokyo date -d '-10 minutes' +%H:%M)
create_campaign '"name":"zones","targets":{"all":true},"firmware":{"url":"http://fw.example.net/4.0.0.bin","version":"4.0.0"},
  "window":{"timezone":"UTC","device_timezone_tag":"tz:","cutoff_min":10,
            "slots":[{"start":"'"$start"'","duration_min":60}]}'
wait_devs "state = 'succeeded'" 3 60
wait_devs "state = 'downloaded'" $((N - 3)) 30
sleep 2
[ "$(q "SELECT string_agg(eid, ',' ORDER BY eid) FROM campaign_devices WHERE campaign = $CAMPAIGN
  AND state = 'succeeded'")" = "$(agent 1),$(agent 2),$(agent 3)" ] ||
	fail "not exactly the Tokyo devices activated: $(summary)"
[ "$(q "SELECT state FROM campaigns WHERE id = $CAMPAIGN")" = running ] ||
	fail "a campaign with device zones left 'running'"
stop_pid "$PID_d1" || fail "d1 exit status $?"
log "ok"
