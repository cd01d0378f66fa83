#!/usr/bin/env bash
# A daemon killed with SIGKILL in the middle of profile runs loses
# nothing: two daemons (one shared group) serve 40 agents; a profile is
# put while half of the agents are frozen, so that their runs are surely
# under way, and the daemon that sent most of their requests is killed -9
# (then the agents thaw; the daemon is restarted 2 s later); the other one
# and the restarted one finish: every agent is compliant, a fresh Get of a
# few agents shows the values, no profile_runs row and no profile request
# is left, and no agent got a path Set more than twice (once, plus at most
# one repeat of a Set whose outcome died with the daemon).
# Then the profile gate: a daemon restarted with --profile-gate true holds
# an operator's Set, queued for an agent while it is away, until that
# agent's onboarding run (which has a value to put back) has ended and its
# verdict is written; and it does not hold the tasks of an agent whose
# profiles converged while the gate was off.
# shellcheck disable=SC2154,SC2119 # PID_* are set by start_uspc / start_sim; uctl reads stdin
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-profile.sh
. "$(dirname "$0")/../itest-profile.sh"

N=40
# for a post-mortem: every task, with who sent it and how it ended
tasks_dump() {
	q "SELECT id, eid, op, batch_id, state, claimed_by, created_at, sent_at, finished_at, error_code,
	   error_message FROM tasks ORDER BY id" >"$W/tasks-dump.txt" 2>&1
}
at_cleanup tasks_dump
new_db "$T"
start_uspc d1 --shared-group "$T"
start_uspc d2 --shared-group "$T"
# s2's agents are frozen around the kill, so that runs are surely under
# way then; agent 40 runs alone in s3 (the gate test restarts it)
start_sim s1 19
start_sim s2 20 --first-index 20
start_sim s3 1 --first-index 40
wait_onboarded $N 60

# shellcheck disable=SC2016 # ${serial} is the profile's template
NTP='"name":"ntp","selector":{"model":"SIM-GW-1000"},"priority":10,
 "steps":[{"set":{"Device.Time.NTPServer1":"ntp1.example.net","Device.Time.NTPServer2":"ntp2.example.net",
   "Device.Time.LocalTimeZone":"UTC0","Device.WiFi.SSID.1.SSID":"k9-${serial}"}}]'
freeze_sim "$PID_sim_s2" # (the cleanup thaws it if the test fails)
put_profile "$NTP"
# s2's runs under way: their first request sent, unanswered
wait_sql "SELECT count(*) FROM profile_runs r JOIN tasks t ON t.id = r.task_id
  WHERE r.started_at IS NOT NULL AND t.state = 'sent' AND r.eid BETWEEN '$(agent 20)' AND '$(agent 39)'" 20 15
# kill -9 the daemon that sent most of them (d1 on a tie)
victim=$(q "SELECT n FROM (VALUES ('d1'), ('d2')) v(n) ORDER BY (SELECT count(*) FROM tasks
  WHERE state = 'sent' AND batch_id = 'profile' AND claimed_by = '$T-' || n) DESC, n LIMIT 1")
at_kill=$(q "SELECT (SELECT count(*) FROM profile_runs WHERE started_at IS NOT NULL) || ' runs under way, '
  || (SELECT count(*) FROM profile_agents WHERE state = 'compliant') || ' compliant, '
  || (SELECT count(*) FROM tasks WHERE state = 'sent' AND claimed_by = '$T-$victim') || ' requests in flight from $victim'")
pid=PID_$victim
kill -KILL "${!pid}"
wait "${!pid}" 2>/dev/null || true
log "killed $victim (-9) with $at_kill"
[[ $at_kill =~ ^[1-9][0-9]*\ runs.*\ [1-9][0-9]*\ requests ]] || fail "the kill hit no run under way: $at_kill"
sleep 0.3
thaw_sim "$PID_sim_s2"
# the survivor works alone for a while, then the victim comes back
sleep 2
start_uspc "$victim" --shared-group "$T"
wait_count ntp compliant $N 50
wait_sql "SELECT count(*) FROM profile_runs" 0 20
[ "$(q "SELECT count(*) FROM tasks WHERE batch_id = 'profile' AND state IN ('queued', 'sent')")" = 0 ] ||
	fail "profile requests still in flight after every agent is compliant"
for i in 1 25 40; do
	[ "$(agent_get "$i" Device.Time.NTPServer1)" = ntp1.example.net ] || fail "agent $i: NTPServer1 not set"
	[ "$(agent_get "$i" Device.Time.LocalTimeZone)" = UTC0 ] || fail "agent $i: LocalTimeZone not set"
	s=$(q "SELECT serial_number FROM agents WHERE eid = '$(agent "$i")'")
	[ "$(agent_get "$i" Device.WiFi.SSID.1.SSID)" = "k9-$s" ] || fail "agent $i: SSID not k9-$s"
	[[ $(agent_get "$i" Device.DeviceInfo.ProvisioningCode) == uspc:* ]] || fail "agent $i: no stamp"
done
# no path of an agent Set more than twice
rep=$(q "SELECT t.eid, s.param, count(*) FROM tasks t,
  jsonb_array_elements(t.request->'update_objs') o, jsonb_array_elements(o->'param_settings') p,
  LATERAL (SELECT (o->>'obj_path') || (p->>'param') AS param) s
  WHERE t.batch_id = 'profile' AND t.op = 'set' GROUP BY 1, 2 HAVING count(*) > 2")
[ -z "$rep" ] || fail "paths Set more than twice: $rep"
[ "$(q "SELECT count(DISTINCT eid) FROM tasks WHERE batch_id = 'profile' AND op = 'set'
  AND request::text LIKE '%NTPServer1%'")" = $N ] || fail "not every agent got a Set of NTPServer1"
log "after the kill: $(q "SELECT count(*) FROM tasks WHERE batch_id = 'profile'") profile tasks, by state: $(q "SELECT
  string_agg(s || '=' || n, ' ') FROM (SELECT state s, count(*) n FROM tasks WHERE batch_id = 'profile'
  GROUP BY 1 ORDER BY 1) x"); history outcomes: $(q "SELECT string_agg(o || '=' || n, ' ')
  FROM (SELECT outcome o, count(*) n FROM profile_history GROUP BY 1 ORDER BY 1) x")"

# ---- the profile gate ----
stop_pid "$PID_d1" || fail "d1 exit status $?"
stop_pid "$PID_d2" || fail "d2 exit status $?"
# d2's durable MQTT session would keep its share of the group's messages
# (agents' records) while it is away: end it, d1 is the group's only member
timeout 5 mosquitto_sub -L "$USPC_MQTT/uspc-test-end-session" -V mqttv5 -i "uspc-$T-d2" -E >/dev/null 2>&1 ||
	fail "could not end d2's MQTT session"
start_uspc d1 --shared-group "$T" --profile-gate true
K=40
E=$(agent $K)
# agent 40 reconnects, so that the restarted d1 knows it (a daemon ignores
# the DisconnectRecord of an agent it has not seen connect), and onboards:
# its profile run opens the gate for it
onb() { q "SELECT coalesce(onboarded_at::text, '') FROM agents WHERE eid = '$E'"; }
onb0=$(onb)
stop_pid "$PID_sim_s3" || fail "s3 exit status $?"
start_sim s3 1 --first-index 40
wait_sql "SELECT onboarded_at > '$onb0' AND provisioned_at >= onboarded_at FROM agents WHERE eid = '$E'" t 20
# it drifts (an operator's Set: the gate is open) ...
set_on $K Device.Time.NTPServer1 drifted.example.net
# ... goes away; an operator's Set is queued for it; it comes back
hist0=$(q "SELECT count(*) FROM profile_history WHERE eid = '$E'")
stop_pid "$PID_sim_s3" || fail "s3 exit status $?"
wait_sql "SELECT online FROM agents WHERE eid = '$E'" f 10
printf '{"id":"op","op":"set","targets":"%s","params":{"Device.Time.NTPServer2":"operator.example.net"}}\n' "$E" |
	uctl --timeout 30 >"$W/opset.out" &
opset=$!
track $opset
wait_sql "SELECT count(*) FROM tasks WHERE eid = '$E' AND request::text LIKE '%operator.example.net%'" 1 10
start_sim s3 1 --first-index 40
wait "$opset" || fail "the operator's Set failed: $(cat "$W/opset.out")"
jq -e '.ok' "$W/opset.out" >/dev/null || fail "the operator's Set: $(cat "$W/opset.out")"
wait_sql "SELECT count(*) > $hist0 FROM profile_history WHERE eid = '$E'" t 20
wait_sql "SELECT count(*) FROM profile_runs" 0 10
q "SELECT id, op, batch_id, state, created_at, sent_at, finished_at FROM tasks WHERE eid = '$E' ORDER BY id" >"$W/gate-tasks.txt"
q "SELECT 'onboarding' = ANY(triggers) FROM profile_history WHERE eid = '$E' ORDER BY id DESC LIMIT 1" | grep -q t ||
	fail "agent $K's last run was not its onboarding's"
[ "$(agent_get $K Device.Time.NTPServer1)" = ntp1.example.net ] || fail "agent $K: the onboarding run did not put NTPServer1 back"
[ "$(agent_get $K Device.Time.NTPServer2)" = operator.example.net ] || fail "agent $K: the operator's Set did not land"
op_id=$(q "SELECT id FROM tasks WHERE eid = '$E' AND request::text LIKE '%operator.example.net%'")
# the onboarding run's requests: from the Get to the last one (NTPServer1
# put back, then the stamp)
run=$(q "SELECT count(*) || ' ' || count(*) FILTER (WHERE op = 'set' AND request::text LIKE '%ntp1.example.net%')
  FROM tasks WHERE eid = '$E' AND batch_id = 'profile' AND id > $op_id")
[ "${run#* }" -ge 1 ] || fail "the onboarding run did not Set NTPServer1 back (tasks in $W/gate-tasks.txt)"
# the operator's Set was sent only after the run's last request ended and
# its verdict was written (the gate opened), though it was queued before
v=$(q "WITH o AS (SELECT created_at, sent_at FROM tasks WHERE id = $op_id),
  r AS (SELECT min(created_at) AS st, max(finished_at) AS fin FROM tasks
    WHERE eid = '$E' AND batch_id = 'profile' AND id > $op_id)
  SELECT (o.created_at < r.st)::text || ' ' || (o.sent_at >= r.fin)::text || ' ' ||
    (o.sent_at >= (SELECT applied_at FROM profile_agents WHERE name = 'ntp' AND eid = '$E'))::text || ' ' ||
    (o.sent_at >= (SELECT provisioned_at FROM agents WHERE eid = '$E'))::text || ' ' ||
    o.sent_at::text || ' ' || r.fin::text FROM o, r")
log "gate: queued-before-run, sent-after-run-end, sent-after-verdict, sent-after-provisioned: $v"
read -r before_run after_end after_applied after_prov _ <<<"$v"
[ "$before_run" = true ] || fail "the operator's Set was not queued before the run: $v"
[ "$after_end" = true ] || fail "the gate let the operator's Set out before the profile run's last request ended: $v"
[ "$after_applied" = true ] || fail "the operator's Set was sent before the profile's verdict (applied_at): $v"
[ "$after_prov" = true ] || fail "the operator's Set was sent before provisioned_at: $v"

# an agent whose profiles converged while the gate was off (and that has
# not onboarded since) is not held by the gate once it is on
out=$(printf '{"id":"g","op":"get","targets":"%s","paths":"Device.Time.NTPServer1"}\n' "$(agent 3)" |
	uctl --timeout 8) || true
jq -e '.ok' <<<"$out" >/dev/null ||
	fail "with the gate on, a Get of agent 3 (compliant, converged while the gate was off) is held: $out
  (agents.provisioned_at = '$(q "SELECT provisioned_at FROM agents WHERE eid = '$(agent 3)'")',
  onboarded_at = '$(q "SELECT onboarded_at FROM agents WHERE eid = '$(agent 3)'")')"
stop_pid "$PID_d1" || fail "d1 exit status $?"
log "ok"
