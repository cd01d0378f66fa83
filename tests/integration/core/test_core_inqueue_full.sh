#!/usr/bin/env bash
# A full MQTT in-queue while the core sends. uspc is frozen (SIGSTOP) for
# 2 s while 50 agents send ValueChange notifications, so the broker queues
# them; thawed, with a 16-message in-queue and a one-message window, Paho's
# receive thread waits for in-queue space while the core hands NotifyResps
# to Paho. Paho holds its own lock during that wait, so the core must not
# need the waiting thread (controller/mtp/mqtt_mtp.c): it keeps taking
# events (no "core took no event" warning), every notification is stored
# once and answered, and the daemon stops cleanly. Before the fix, each
# arrival waited 5 s here and the run did not finish.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

AGENTS=50
RATE=300
new_db "core_inqueue_full"
rate_file="$W/vc-rate"
echo 0 >"$rate_file"
start_uspc d1 --mqtt-in-queue 16 --mqtt-max-inflight 1 --mqtt-out-queue 16 --stats-interval 1
start_sim s1 $AGENTS --status-interval 1 --host-churn 0 --vc-rate 0 --vc-rate-file "$rate_file"
wait_sql "SELECT count(*) FROM agent_subscriptions WHERE sub_id = 'uspc-swversion'" $AGENTS 60

sleep 1.5
n0=$(sim_counter s1 notify) a0=$(sim_counter s1 acked) rows0=$(vc_rows)
freeze_under_load "$PID_d1" "$rate_file" "$RATE" 2
wait_vc_settled s1 "$n0" "$a0" "$rows0" || true
log "sent $SENT, stored $STORED, answered $ACKED"
grep -q 'in-queue full' "$W/d1.log" || fail "the in-queue never filled; nothing tested"
grep -q 'core took no event' "$W/d1.log" && fail "the core stopped taking events while the in-queue was full"
check_vc_settled 900
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"
log "ok"
