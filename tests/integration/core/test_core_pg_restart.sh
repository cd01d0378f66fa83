#!/usr/bin/env bash
# PostgreSQL restarted while agents stream notifications: none is lost. The
# agents send Device.LocalAgent.Periodic! every second (a subscription and
# PeriodicNotifInterval set through tasks); a capture of the controller
# topic (every agent's level below it) counts the distinct notifications sent, which must equal the rows
# stored once the daemon's writer has reconnected and flushed.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

AGENTS=20
private_stack "$W/stack"
new_db "core_pg_restart"
start_uspc d1
start_sim s1 $AGENTS
wait_sql "SELECT count(*) FROM agents WHERE onboarded_at IS NOT NULL" $AGENTS 60

# Agents publish on their identity level below the controller topic.
mosquitto_sub -L "${USPC_MQTT}/$CTL_TOPIC/+" -V mqttv5 -F '%x' >"$W/ctl-topic.hex" &
SUB=$!
track "$SUB"
sleep 0.5
q "INSERT INTO tasks (eid, op, request) SELECT eid, 'add',
   '{\"allow_partial\":false,\"create_objs\":[{\"obj_path\":\"Device.LocalAgent.Subscription.\",
     \"param_settings\":[{\"param\":\"ID\",\"value\":\"pg-periodic\",\"required\":true},
     {\"param\":\"NotifType\",\"value\":\"Event\",\"required\":true},
     {\"param\":\"ReferenceList\",\"value\":\"Device.LocalAgent.Periodic!\",\"required\":true},
     {\"param\":\"Enable\",\"value\":\"true\"},{\"param\":\"NotifRetry\",\"value\":\"true\"}]}]}' FROM agents;
   INSERT INTO tasks (eid, op, request) SELECT eid, 'set',
   '{\"allow_partial\":false,\"update_objs\":[{\"obj_path\":\"Device.LocalAgent.Controller.[EndpointID==\\\"$CTL_EID\\\"].\",
     \"param_settings\":[{\"param\":\"PeriodicNotifInterval\",\"value\":\"1\",\"required\":true}]}]}' FROM agents;
   NOTIFY uspc_task_new" >/dev/null
wait_sql "SELECT count(*) FROM tasks WHERE state = 'done'" $((AGENTS * 2)) 30
wait_sql "SELECT count(*) > 0 FROM notifications WHERE path = 'Device.LocalAgent.Periodic!'" t 15

sleep 2
log "restarting PostgreSQL"
"$USPC_LOCAL_STACK" restart-db --dir "$W/stack" >/dev/null
sleep 4
# Stop the stream: stop the agents, then let the capture see the last ones.
stop_pid "$PID_sim_s1" || true
sleep 1
kill -TERM "$SUB"; wait "$SUB" 2>/dev/null || true
hex=$(printf 'Periodic!' | tohex)
sent=$(grep "$hex" "$W/ctl-topic.hex" | sort -u | wc -l)
log "agents sent $sent distinct Periodic! notifications"
[ "$sent" -ge $((AGENTS * 5)) ] || fail "too few notifications sent ($sent) to test anything"
wait_sql "SELECT count(*) FROM notifications WHERE path = 'Device.LocalAgent.Periodic!'" "$sent" 30
grep -q 'store' "$W/d1.log" || true
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"
log "ok"
