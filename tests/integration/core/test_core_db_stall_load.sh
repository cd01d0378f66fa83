#!/usr/bin/env bash
# PostgreSQL stalls (SIGSTOP, 8 s) while 50 agents send 150 ValueChange
# notifications/s. With a 256-op store writer queue and a 16-message MQTT
# in-queue, the daemon stops reading once the writer's queue is 3/4 full,
# the in-queue fills, and Paho's receive thread gives up waiting after 5 s
# ("core took no event"), so Paho queues arrivals itself. Once PostgreSQL
# runs again, every notification is stored exactly once and answered, and
# the daemon stops cleanly.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

AGENTS=50
RATE=150
private_stack "$W/stack"
new_db "core_db_stall_load"
rate_file="$W/vc-rate"
echo 0 >"$rate_file"
start_uspc d1 --db-writer-queue 256 --mqtt-in-queue 16 --stats-interval 1
start_sim s1 $AGENTS --status-interval 1 --host-churn 0 --vc-rate 0 --vc-rate-file "$rate_file"
wait_sql "SELECT count(*) FROM agent_subscriptions WHERE sub_id = 'uspc-swversion'" $AGENTS 60

sleep 1.5
n0=$(sim_counter s1 notify) a0=$(sim_counter s1 acked) rows0=$(vc_rows)
echo "$RATE" >"$rate_file"
sleep 1
freeze_pg "$W/stack"
log "PostgreSQL stopped under load"
sleep 8
thaw_pg "$W/stack"
log "PostgreSQL running again"
sleep 2
echo 0 >"$rate_file"
wait_vc_settled s1 "$n0" "$a0" "$rows0" || true
log "sent $SENT, stored $STORED, answered $ACKED"
grep -q 'core took no event' "$W/d1.log" || fail "the in-queue wait never gave up; nothing tested"
check_vc_settled 1200
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"
log "ok"
