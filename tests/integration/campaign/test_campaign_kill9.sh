#!/usr/bin/env bash
# A daemon killed (SIGKILL) in the middle of a campaign, twice, with devices
# in every step: after each restart the campaign carries on, every device
# ends succeeded, and no Download() or Activate() was ever sent twice for
# one device and attempt (a step is committed with its task or not at all;
# a request whose outcome is unknown is reconciled by reading the device,
# never by sending it again).
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-campaign.sh
. "$(dirname "$0")/../itest-campaign.sh"

N=40
new_db "$T"
start_uspc d1
start_sim s1 $N
wait_onboarded $N 60
create_campaign '"name":"k9","targets":{"all":true},'"$FW"',"max_inflight":15,
  "timeouts":{"download_s":20,"reboot_s":20,"verify_s":20}'
for round in 1 2; do
	wait_sql "SELECT count(*) >= $((round * 8)) FROM campaign_devices
	  WHERE campaign = $CAMPAIGN AND state = 'succeeded'" t 90
	log "round $round: $(q "SELECT string_agg(state || '=' || n, ' ') FROM (SELECT state, count(*) n
	  FROM campaign_devices WHERE campaign = $CAMPAIGN GROUP BY 1 ORDER BY 1) x")"
	kill_pid "$PID_d1"
	start_uspc d1
done
wait_campaign finished 120
wait_settled 30
summary
[ "$(dev_count "state = 'succeeded'")" = $N ] || fail "not every device succeeded after the kills"
rep=$(fw_tasks_repeated)
[ -z "$rep" ] || fail "firmware commands sent twice for one attempt: $rep"
bad=$(q "SELECT count(*) FROM agents WHERE software_version <> '2.0.0'")
[ "$bad" = 0 ] || fail "$bad agent(s) not on 2.0.0 in the inventory"
stop_pid "$PID_d1" || fail "d1 exit status $?"
log "ok"
