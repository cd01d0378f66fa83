#!/usr/bin/env bash
# Offline agents and continuous campaigns:
#  - 5 of 15 targets are offline: they are parked (not walked again), the
#    wave moves on after timeouts.offline_grace_s (10 s), the others succeed, and
#    when the last wave is done the offline ones end timed_out/offline,
#    retryable; campaign_retry_failed brings them back, and once their
#    agents return they are upgraded and the campaign finishes again;
#  - a continuous campaign on a tag: agents tagged after it started join
#    its last wave and are upgraded; untagged ones are left alone.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-campaign.sh
. "$(dirname "$0")/../itest-campaign.sh"

new_db "$T"
start_uspc d1
start_sim on 10
start_sim off 5 --first-index 101
wait_onboarded 15 60
stop_pid "$PID_sim_off" || true
wait_sql "SELECT count(*) FROM agents WHERE online" 10 30

create_campaign '"name":"off","targets":{"all":true},'"$FW"',
  "waves":[{"percent":50},{"percent":100}],"timeouts":{"offline_grace_s":10}'
wait_devs "parked" 5 30
wait_campaign finished 90
summary
[ "$(dev_count "state = 'succeeded'")" = 10 ] || fail "online devices not all upgraded"
[ "$(dev_count "state = 'timed_out' AND reason = 'offline' AND retryable")" = 5 ] ||
	fail "offline devices did not end timed_out/offline, retryable"

campaign_op campaign_retry_failed >"$W/retry.out"
jq -e '.ok and .result.retried == 5' "$W/retry.out" >/dev/null || fail "retry_failed: $(cat "$W/retry.out")"
[ "$(q "SELECT state FROM campaigns WHERE id = $CAMPAIGN")" = running ] || fail "retried campaign not running"
# they get the whole offline grace again to come back
start_sim off 5 --first-index 101
wait_campaign finished 90
[ "$(dev_count "state = 'succeeded'")" = 15 ] || fail "returning devices not upgraded: $(summary)"

# continuous: a tag selector that later agents join
FIRST=$CAMPAIGN
start_sim late 6 --first-index 201
wait_onboarded 21 60
printf '{"id":"t","op":"tag","targets":["%s","%s"],"tags":"ring1"}\n' "$(agent 201)" "$(agent 202)" | uctl >/dev/null
create_campaign '"name":"ring1","targets":{"tag":"ring1"},"continuous":true,'"$FW"''
wait_devs "state = 'succeeded'" 2 60
printf '{"id":"t","op":"tag","targets":["%s","%s"],"tags":"ring1"}\n' "$(agent 203)" "$(agent 204)" | uctl >/dev/null
wait_devs "state = 'succeeded'" 4 90
q "SELECT message FROM campaign_events WHERE campaign = $CAMPAIGN" | grep -q "newly matching agent(s) joined" ||
	fail "no join event"
[ "$(q "SELECT state FROM campaigns WHERE id = $CAMPAIGN")" = running ] || fail "a continuous campaign finished by itself"
[ "$(q "SELECT count(*) FROM campaign_devices WHERE eid IN ('$(agent 205)', '$(agent 206)')
  AND campaign = $CAMPAIGN")" = 0 ] || fail "untagged agents joined"
campaign_op campaign_abort >/dev/null
wait_settled 30
[ "$(q "SELECT count(*) FROM campaign_devices WHERE campaign = $FIRST AND state <> 'succeeded'")" = 0 ] ||
	fail "the first campaign changed"
stop_pid "$PID_d1" || fail "d1 exit status $?"
log "ok"
