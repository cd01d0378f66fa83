# shellcheck shell=bash disable=SC2034 # (settings read by itest-lib.sh and the tests)
# itest-campaign.sh — helpers of the firmware campaign tests
# (campaign/test_campaign_*.sh), sourced after itest-lib.sh. Each test gets
# its own database on the shared PostgreSQL, its own controller endpoint ID
# and agent endpoint IDs, daemons started with start_uspc (each runs the
# campaign engine) and simulators with fast firmware: downloads of 0.3 s,
# reboots of 0.5 s.
#
# Adds: uctl (uspctl on this test's database), create_campaign (sets
# CAMPAIGN), status_json, wait_campaign, wait_settled, dev_count,
# wait_devs, agent, wait_onboarded, fw_tasks_repeated.
#
# Needs also: USPC_MQTT / USPC_DB (with-stack.sh) and jq.
: "${USPC_DB:?}" "${USPC_MQTT:?}"
command -v jq >/dev/null || fail "jq is needed (apt-get install jq)"
CTL_EID="proto::uspc-${T//_/-}"
CTL_TOPIC="usp/controller/$CTL_EID"
AGENT_PREFIX="proto::${T//_/-}-"
EID_PATTERN="${AGENT_PREFIX}%04d"
# The agents' reply topics from the template, so that every daemon of a
# test can reach every agent whichever daemon saw it connect.
USPC_ARGS=(--stats-interval 5 --request-timeout-ms 5000 --task-poll-ms 300
	--campaign-poll-ms 300 --agent-topic-template "usp/agent/%e")
SIM_ARGS=(--controller-topic "$CTL_TOPIC/%s" --fw-download-time 0.3 --reboot-time 0.5
	--status-interval 0 --seed 7)
SIM_STATE_DIRS=1
FW_URL="http://fw.example.net/images/sim-gw-2.0.0.bin"
FW='"firmware":{"url":"'$FW_URL'","version":"2.0.0"}'

# shellcheck disable=SC2059 # the pattern is a printf format on purpose
agent() { printf "$EID_PATTERN" "$1"; }

uctl() { "$USPCTL" --db "$DB_URL" -q "$@"; }

# wait_onboarded N TIMEOUT — N agents onboarded since they came online.
wait_onboarded() {
	wait_sql "SELECT count(*) FROM agents WHERE online AND onboarded_at >= online_since" "$1" "$2"
}

# create_campaign FIELDS — campaign_create with the JSON object members
# FIELDS ('"name":"c1","targets":{"all":true},...'); sets CAMPAIGN.
create_campaign() {
	local out
	out=$(printf '{"id":"c","op":"campaign_create",%s}\n' "$(tr -d '\n' <<<"$1")" | uctl) ||
		fail "campaign_create failed: $out"
	CAMPAIGN=$(jq -r '.result.campaign' <<<"$out")
	[[ $CAMPAIGN =~ ^[0-9]+$ ]] || fail "campaign_create: $out"
	log "campaign $CAMPAIGN created: $(jq -c '.result | {targets, pending, skipped, waves}' <<<"$out")"
}

# campaign_op OP [CAMPAIGN] — run a control op, print its result line.
campaign_op() {
	printf '{"id":"op","op":"%s","campaign":%s}\n' "$1" "${2:-$CAMPAIGN}" | uctl
}

status_json() {
	printf '{"id":"s","op":"campaign_status","campaign":%s}\n' "${1:-$CAMPAIGN}" | uctl |
		jq -c '.result'
}

# wait_campaign STATE TIMEOUT — the campaign's state becomes STATE.
wait_campaign() {
	local want=$1 t=$2 end=$((SECONDS + $2)) got=""
	while [ $SECONDS -lt $end ]; do
		got=$(q "SELECT state FROM campaigns WHERE id = $CAMPAIGN")
		[ "$got" = "$want" ] && return 0
		sleep 0.3
	done
	fail "after ${t}s campaign $CAMPAIGN is '$got', wanted '$want': $(status_json)"
}

# wait_settled TIMEOUT — finished or aborted, nothing in flight.
wait_settled() {
	wait_sql "SELECT settled FROM campaigns WHERE id = $CAMPAIGN" t "$1"
}

# dev_count WHERE — devices of the campaign matching the SQL condition.
dev_count() { q "SELECT count(*) FROM campaign_devices WHERE campaign = $CAMPAIGN AND ($1)"; }

# wait_devs WHERE N TIMEOUT
wait_devs() {
	wait_sql "SELECT count(*) FROM campaign_devices WHERE campaign = $CAMPAIGN AND ($1)" "$2" "$3"
}

# fw_tasks_repeated — lines "eid command attempt n" for any firmware
# command sent more than once for one device and attempt (none expected:
# no device step is ever repeated).
fw_tasks_repeated() {
	q "SELECT t.eid, t.request->>'command', split_part(t.request->>'command_key', '/', 4), count(*)
	   FROM tasks t WHERE t.batch_id = 'campaign:$CAMPAIGN' AND t.op = 'operate'
	     AND t.state <> 'canceled'
	   GROUP BY 1, 2, 3 HAVING count(*) > 1"
}

# summary — one log line of the campaign's device states and reasons.
summary() {
	log "campaign $CAMPAIGN: $(q "SELECT string_agg(s, ', ') FROM (SELECT state ||
	  coalesce('/' || reason, '') || '=' || count(*) AS s FROM campaign_devices
	  WHERE campaign = $CAMPAIGN GROUP BY state, reason ORDER BY 1) x")"
}

# On the way out (pass or fail), the campaigns' devices that did not finish,
# with their timelines and tasks, into $W/campaign-dump.txt for a post-mortem.
campaign_dump() {
	q "SELECT c.id, c.state, coalesce(c.reason, '') FROM campaigns c ORDER BY id" >"$W/campaign-dump.txt" 2>&1
	q "SELECT d.campaign, d.eid, d.state, d.step, d.attempt, d.deadline_at, d.parked,
	     t.id, t.state, t.op, t.error_message, d.timeline
	   FROM campaign_devices d LEFT JOIN tasks t ON t.id = d.task_id
	   WHERE d.state NOT IN ('succeeded', 'skipped', 'canceled')" >>"$W/campaign-dump.txt" 2>&1
	q "SELECT eid, online, online_since, onboarded_at FROM agents ORDER BY eid" >>"$W/campaign-dump.txt" 2>&1
}
at_cleanup campaign_dump
