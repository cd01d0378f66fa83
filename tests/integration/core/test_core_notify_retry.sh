#!/usr/bin/env bash
# Retried Notify under overload. The agents retry an unanswered ValueChange
# after 1 s (their model says so). uspc is frozen (SIGSTOP) for 4 s while
# they keep sending, so the broker queues originals and retries for it.
# Thawed, with a one-message MQTT window and a 16-message out-queue, its
# NotifyResps pile up in the outbox.
# 1. Default notify_resp_backlog: retries arrive while the first answer to
#    their msg_id still waits in the outbox; they get no second answer
#    (retry_answers_skipped > 0).
# 2. notify_resp_backlog 16: past 16 waiting publishes, NotifyResps are not
#    sent at all (answers_shed > 0); the agents' retries get them answered.
# Each time, every notification is stored exactly once, and every one is
# answered in the end (the agents' counts agree).
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"

# 2 changes per agent and second: a retry (1 s later) reaches uspc behind
# ~2 newer notifications of its agent, well inside the 8 msg_ids uspc
# remembers per agent, and no agent holds more than its 64 pending ones.
AGENTS=50
RATE=100
new_db "core_notify_retry"

model="$W/retry-1s.model"
retry_model "$model" 1 1000

rate_file="$W/vc-rate"
echo 0 >"$rate_file"
start_uspc d1 --mqtt-max-inflight 1 --mqtt-out-queue 16 --stats-interval 1
start_sim s1 $AGENTS --model "$model" --status-interval 1 --host-churn 0 \
  --vc-rate 0 --vc-rate-file "$rate_file"
wait_sql "SELECT count(*) FROM agent_subscriptions WHERE sub_id = 'uspc-swversion'" $AGENTS 60

# overload_round DAEMON — freeze DAEMON for 4 s under load, then wait until
# everything sent is stored once and answered; checks and logs the counts.
overload_round() {
  local d=$1 pidvar="PID_$1" pid n0 a0 r0 rows0 retries
  pid=${!pidvar}
  sleep 1.5
  n0=$(sim_counter s1 notify) a0=$(sim_counter s1 acked) r0=$(sim_counter s1 retries) rows0=$(vc_rows)
  freeze_under_load "$pid" "$rate_file" "$RATE" 4
  wait_vc_settled s1 "$n0" "$a0" "$rows0" || true
  retries=$(($(sim_counter s1 retries) - r0))
  log "$d: sent $SENT, stored $STORED, answered $ACKED, agent retries $retries"
  check_vc_settled 400 "$d: "
  [ "$retries" -gt 0 ] || fail "$d: the agents never retried; nothing tested"
  sleep 1.2
}

overload_round d1
dups=$(stat_field "$W/d1.log" notify_retries)
skipped=$(stat_field "$W/d1.log" retry_answers_skipped)
log "d1: notify_retries=$dups retry_answers_skipped=$skipped"
[ "${dups:-0}" -gt 0 ] || fail "uspc saw no retried Notify"
[ "${skipped:-0}" -gt 0 ] || fail "every retry was answered again while its first answer waited"
[ "$skipped" -le "$dups" ] || fail "more answers skipped ($skipped) than retries seen ($dups)"
[ "$(stat_field "$W/d1.log" answers_shed)" = 0 ] || fail "d1 dropped answers below notify_resp_backlog"
stop_pid "$PID_d1" || fail "daemon exit status $? after SIGTERM"

start_uspc d2 --mqtt-max-inflight 1 --mqtt-out-queue 16 --stats-interval 1 --notify-resp-backlog 16
overload_round d2
shed=$(stat_field "$W/d2.log" answers_shed)
log "d2: answers_shed=$shed"
[ "${shed:-0}" -gt 0 ] || fail "the outbox passed notify_resp_backlog and no answer was dropped"
grep -q 'NotifyResp for .* not sent, the agent will retry' "$W/d2.log" || fail "no warning about dropped answers"
stop_pid "$PID_d2" || fail "daemon exit status $? after SIGTERM"
log "ok"
