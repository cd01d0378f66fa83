# shellcheck shell=bash disable=SC2034 # (settings read by itest-lib.sh and the tests)
# itest-profile.sh — helpers of the provisioning profile tests
# (profile/test_profile_*.sh), sourced after itest-lib.sh. Each test gets
# its own database on the shared PostgreSQL, its own controller endpoint ID
# and agent endpoint IDs, daemons started with start_uspc (each runs the
# profile engine, walking scopes every 2 s) and simulators with fast
# reboots (0.5 s).
#
# Adds: uctl, agent, wait_onboarded, put_profile (sets VERSION),
# status_json, pstate (one agent's state of one profile), wait_pstate,
# wait_count (agents of a profile in a state), agent_get (a fresh Get of
# one parameter, straight from the agent), set_on (an operator's Set).
#
# Needs also: USPC_MQTT / USPC_DB (with-stack.sh) and jq.
: "${USPC_DB:?}" "${USPC_MQTT:?}"
command -v jq >/dev/null || fail "jq is needed (apt-get install jq)"
CTL_EID="proto::uspc-${T//_/-}"
CTL_TOPIC="usp/controller/$CTL_EID"
AGENT_PREFIX="proto::${T//_/-}-"
EID_PATTERN="${AGENT_PREFIX}%04d"
USPC_ARGS=(--stats-interval 5 --request-timeout-ms 5000 --task-poll-ms 300
	--campaign-poll-ms 300 --profile-scope-s 2 --agent-topic-template "usp/agent/%e")
SIM_ARGS=(--controller-topic "$CTL_TOPIC/%s" --reboot-time 0.5 --status-interval 0 --seed 7)
SIM_STATE_DIRS=1

# shellcheck disable=SC2059 # the pattern is a printf format on purpose
agent() { printf "$EID_PATTERN" "$1"; }

uctl() { "$USPCTL" --db "$DB_URL" -q "$@"; }

# wait_onboarded N TIMEOUT — N agents onboarded since they came online.
wait_onboarded() {
	wait_sql "SELECT count(*) FROM agents WHERE online AND onboarded_at >= online_since" "$1" "$2"
}

# put_profile JSON_MEMBERS — profile_put with the object members given
# ('"name":"ntp","selector":{...},...'); sets VERSION; fails on an error.
put_profile() {
	local out
	out=$(printf '{"id":"p","op":"profile_put",%s}\n' "$(tr -d '\n' <<<"$1")" | uctl) ||
		fail "profile_put failed: $out"
	VERSION=$(jq -r '.result.version' <<<"$out")
	[[ $VERSION =~ ^[0-9]+$ ]] || fail "profile_put: $out"
	log "profile put: $(jq -c '.result' <<<"$out")"
}

# put_error JSON_MEMBERS — profile_put that must be refused: prints the
# error line's code and message.
put_error() {
	local out
	out=$(printf '{"id":"p","op":"profile_put",%s}\n' "$(tr -d '\n' <<<"$1")" | uctl) &&
		fail "profile_put accepted what it should refuse: $out"
	jq -r '"\(.error.code): \(.error.message)"' <<<"$out"
}

status_json() {
	printf '{"id":"s","op":"profile_status","name":"%s"}\n' "$1" | uctl | jq -c '.result'
}

# pstate NAME AGENT_INDEX — the state of profile NAME on that agent.
pstate() { q "SELECT state FROM profile_agents WHERE name = '$1' AND eid = '$(agent "$2")'"; }

# wait_count NAME STATE N TIMEOUT — N agents hold profile NAME in STATE.
wait_count() {
	wait_sql "SELECT count(*) FROM profile_agents WHERE name = '$1' AND state = '$2'" "$3" "$4"
}

# agent_get AGENT_INDEX PATH — the value the agent holds now (a Get).
agent_get() {
	printf '{"id":"g","op":"get","targets":"%s","paths":"%s"}\n' "$(agent "$1")" "$2" | uctl |
		jq -r '.result.req_path_results[0].resolved_path_results[0].result_params | to_entries[0].value'
}

# set_on AGENT_INDEX PATH VALUE — an operator's Set, waited for.
set_on() {
	printf '{"id":"s","op":"set","targets":"%s","params":{"%s":"%s"}}\n' "$(agent "$1")" "$2" "$3" |
		uctl | jq -e '.ok' >/dev/null || fail "set $2 on agent $1 failed"
}

# On the way out, the runs and rows that did not settle, for a post-mortem.
profile_dump() {
	{
		q "SELECT * FROM profile_runs"
		q "SELECT name, eid, version, state, detail, attempt, retry_at, drift_at FROM profile_agents ORDER BY name, eid"
		q "SELECT id, eid, name, version, triggers, outcome, detail, entry FROM profile_history ORDER BY id"
	} >"$W/profile-dump.txt" 2>&1
}
at_cleanup profile_dump

# ---- added for the drift / overlap tests ------------------------------------

# profile_sets AGENT_INDEX PATH — how many Sets the profile engine sent
# (tasks of batch 'profile', any state) that name PATH on that agent.
profile_sets() {
	q "SELECT count(*) FROM tasks t, jsonb_array_elements(t.request -> 'update_objs') o,
	     jsonb_array_elements(o -> 'param_settings') s
	   WHERE t.batch_id = 'profile' AND t.op = 'set' AND t.eid = '$(agent "$1")'
	     AND (o ->> 'obj_path') || (s ->> 'param') = '$2'"
}

# profile_tasks AGENT_INDEX OP — the profile engine's tasks of op OP on that agent.
profile_tasks() {
	q "SELECT count(*) FROM tasks WHERE batch_id = 'profile' AND op = '$2' AND eid = '$(agent "$1")'"
}

# history_of AGENT_INDEX [NAME] — profile_history of that agent (one JSON
# line per row, newest first) into stdout.
history_of() {
	if [ -n "${2:-}" ]; then
		printf '{"id":"h","op":"profile_history","targets":"%s","name":"%s","limit":200}\n' \
			"$(agent "$1")" "$2" | uctl
	else
		printf '{"id":"h","op":"profile_history","targets":"%s","limit":200}\n' "$(agent "$1")" | uctl
	fi
}

# wait_get AGENT_INDEX PATH VALUE TIMEOUT — until a fresh Get shows VALUE.
wait_get() {
	local end=$((SECONDS + $4)) got=""
	while [ $SECONDS -lt $end ]; do
		got=$(agent_get "$1" "$2" 2>/dev/null || true)
		[ "$got" = "$3" ] && return 0
		sleep 0.5
	done
	fail "after $4s: agent $1 $2 is '$got', wanted '$3'"
}

# wait_pstate NAME AGENT_INDEX STATE TIMEOUT — profile NAME on that agent
# reaches STATE.
wait_pstate() {
	wait_sql "SELECT state FROM profile_agents WHERE name = '$1' AND eid = '$(agent "$2")'" "$3" "$4"
}

# reconcile JSON_MEMBERS — profile_reconcile; prints the result object.
reconcile() {
	local out
	out=$(printf '{"id":"r","op":"profile_reconcile",%s}\n' "$1" | uctl) || fail "profile_reconcile: $out"
	jq -e '.ok' <<<"$out" >/dev/null || fail "profile_reconcile: $out"
	jq -c '.result' <<<"$out"
}
