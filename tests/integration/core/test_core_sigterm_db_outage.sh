#!/usr/bin/env bash
# SIGTERM during a 30 s PostgreSQL outage under notification load (50
# agents, 200 ValueChange/s, NotifRetry on): PostgreSQL is stopped (fast
# shutdown: sessions ended, connections refused), the daemon gets SIGTERM
# 5 s later, PostgreSQL runs again 30 s after it stopped. The daemon's stop
# budget is drain_timeout_ms 2 s + 2 s for MQTT + store_drain_timeout_ms
# 10 s, well inside the outage: it must exit within 18 s of the SIGTERM
# (systemd's TimeoutStopSec is sized from those budgets), either with
# nothing lost — exit 0 — or with exit status 1 and a log line naming the
# loss by kind ("data LOST: ... notification=N ..."). And no notification
# it answered is missing: a second daemon started after the outage settles
# the rest (the agents retry what was not answered), and then every
# notification sent is stored exactly once — one answered but lost would
# never be sent again.
#
# USPC_TEST_DB_OUTAGE=freeze: the outage is a stalled server (SIGSTOP)
# instead of a stopped one.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

AGENTS=50
RATE=200
NODE="$T-node"
OUTAGE=${USPC_TEST_DB_OUTAGE:-stop}
private_stack "$W/stack"
new_db "core_sigterm_db_outage"
model="$W/retry-3s.model"
retry_model "$model" 3 1000
rate_file="$W/vc-rate"
echo 0 >"$rate_file"
# The budgets through the environment (a daemon without
# store_drain_timeout_ms ignores it).
USPC_DRAIN_TIMEOUT_MS=2000 USPC_STORE_DRAIN_TIMEOUT_MS=10000 start_uspc d1 --node-id "$NODE" --stats-interval 1
start_sim s1 $AGENTS --model "$model" --status-interval 1 --host-churn 0 \
  --vc-rate 0 --vc-rate-file "$rate_file"
wait_sql "SELECT count(*) FROM agent_subscriptions WHERE sub_id = 'uspc-swversion'" $AGENTS 60
sleep 1.5
n0=$(sim_counter s1 notify) a0=$(sim_counter s1 acked) rows0=$(vc_rows)

echo "$RATE" >"$rate_file"
sleep 2
if [ "$OUTAGE" = freeze ]; then freeze_pg "$W/stack"; else stop_pg "$W/stack"; fi
t_freeze=$SECONDS
log "PostgreSQL stopped ($OUTAGE) under load"
sleep 5
kill -TERM "$PID_d1"
t_term=$SECONDS
log "SIGTERM to the daemon"
sleep 3
echo 0 >"$rate_file"
wait_exit "$PID_d1" $((18 - (SECONDS - t_term))) ||
  fail "daemon still running 18 s after SIGTERM (budget: drain 2 s + MQTT 2 s + store drain 10 s)"
log "daemon exit status $EXIT_RC, $((SECONDS - t_term)) s after SIGTERM, during the outage"
# PostgreSQL returns 30 s after it stopped.
while [ $((SECONDS - t_freeze)) -lt 30 ]; do sleep 0.2; done
if [ "$OUTAGE" = freeze ]; then thaw_pg "$W/stack"; else start_pg "$W/stack"; fi
log "PostgreSQL running again"
loss=$(grep -Ei '(lost|dropped|abandoned|discarded).*(notification|snapshot|agent_state|device_info|task_result|oper_result|subscription)=[0-9]+' \
  "$W/d1.log" | tail -n 1 || true)
[ -n "$loss" ] && log "its loss report: $loss"

start_uspc d2 --node-id "$NODE" --stats-interval 1
wait_vc_quiet s1 "$n0" "$a0" "$rows0" 60 || fail "never settled: $SENT sent, $ACKED answered, $STORED stored"
log "sent $SENT, answered $ACKED, stored $STORED, stored twice $(vc_dups)"
[ "$SENT" -gt 1000 ] || fail "only $SENT notifications sent; the load did not run"
case $EXIT_RC in
  0) [ "$STORED" = "$SENT" ] || fail "exit status 0, yet $((SENT - STORED)) answered notification(s) were lost" ;;
  1) [ -n "$loss" ] || fail "exit status 1 without a log line naming the loss by kind"
     [ "$STORED" = "$SENT" ] || fail "$((SENT - STORED)) notification(s) lost that the agents were told were stored" ;;
  *) fail "daemon exit status $EXIT_RC (want 0, or 1 naming the loss)" ;;
esac
[ "$(vc_dups)" = 0 ] || fail "a notification was stored twice"
stop_pid "$PID_d2" || fail "daemon exit status $? after SIGTERM"
log "ok"
