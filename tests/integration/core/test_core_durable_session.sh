#!/usr/bin/env bash
# Durable controller session: the daemon's MQTT session (stable client id
# uspc-<node_id>, clean start off, session expiry) outlives the daemon, so
# what agents publish to the controller topic while it is stopped waits in
# the broker. Here: start and stop the daemon, boot agents while it is down
# (their MQTTConnect records and Boot! notifications go to the broker
# only), freeze the simulator (no further agent traffic), start the daemon
# again with the same node_id: every agent is discovered (online, with its
# reply topic) and every Boot! is stored from the queued messages alone;
# then thaw the agents and they are onboarded. Also: --mqtt-clean-start
# true discards the session (nothing queued reaches the next start).
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

AGENTS=20
NODE="$T-node"
new_db "core_durable_session"

start_uspc d1 --node-id "$NODE"
grep -q "MQTT connected (session present 0" "$W/d1.log" || fail "first start should open a new session"
stop_pid "$PID_d1" || fail "d1 exit status $?"

# Agents boot while no daemon is running.
start_sim s1 $AGENTS --status-interval 1
wait_log "$W/sim-s1.log" "online $AGENTS connecting 0 .* notify $AGENTS " 30
sleep 0.5                                  # PUBACKs of the last publishes
freeze_sim "$PID_sim_s1"                   # no further agent traffic from here
[ "$(q "SELECT count(*) FROM agents")" = 0 ] || fail "agents known before the daemon ran"

start_uspc d2 --node-id "$NODE" --request-timeout-ms 30000
grep -q "MQTT connected (session present 1" "$W/d2.log" || fail "the broker did not keep the session"
wait_sql "SELECT count(*) FROM agents WHERE online AND reply_topic IS NOT NULL" $AGENTS 20
wait_sql "SELECT count(*) FROM notifications WHERE kind = 'event' AND path = 'Device.Boot!'" $AGENTS 20
log "discovered $AGENTS agents and their Boot! from the broker's queue"

thaw_sim "$PID_sim_s1"
wait_sql "SELECT count(*) FROM agents WHERE onboarded_at IS NOT NULL" $AGENTS 60
stop_pid "$PID_d2" || fail "d2 exit status $?"

# A daemon restarted with clean start gets nothing of what was published
# while it was away: reboot the agents (new connect records and Boot!)
# while it is down, then start it with --mqtt-clean-start true.
q "DELETE FROM notifications" >/dev/null
kill -TERM "$PID_sim_s1"
wait "$PID_sim_s1" 2>/dev/null || true
: >"$W/sim-s2.log"
start_sim s2 $AGENTS --status-interval 1
wait_log "$W/sim-s2.log" "online $AGENTS connecting 0 .* notify $AGENTS " 30
sleep 0.5
freeze_sim "$PID_sim_s2"
start_uspc d3 --node-id "$NODE" --mqtt-clean-start true
grep -q "MQTT connected (session present 0" "$W/d3.log" || fail "clean start kept the session"
sleep 3
[ "$(q "SELECT count(*) FROM notifications")" = 0 ] || fail "clean start still received queued messages"
thaw_sim "$PID_sim_s2"
stop_pid "$PID_d3" || fail "d3 exit status $?"
log "ok"
