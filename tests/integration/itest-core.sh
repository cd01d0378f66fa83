# shellcheck shell=bash disable=SC2034 # (settings read by itest-lib.sh and the tests)
# itest-core.sh — helpers of the uspc daemon's integration tests
# (core/test_core_*.sh), sourced after itest-lib.sh. Each test gets its own
# database on the shared PostgreSQL (new_db) or its own private stack
# (private_stack), its own controller endpoint ID and topic, and its own
# agent endpoint IDs; the daemons are named (start_uspc d1 ... → PID_d1,
# $W/d1.log), so are the simulators (start_sim s1 N → PID_sim_s1,
# $W/sim-s1.log, state in $W/sim-s1/).
#
# Adds: servers of a private stack (freeze_pg / thaw_pg, stop_pg /
# start_pg, stop_broker / start_broker), a private mosquitto of the test's
# own configuration (start_broker_conf, production_conf, make_certs),
# forged records (forge), the ValueChange load checks (sim_counter,
# wait_vc_settled, wait_vc_quiet, check_vc_settled, retry_model,
# freeze_under_load), tasks (agent, add_tasks) and the daemon's stats and
# protocol trace (stat_field, stat_reason, trace_sent, trace_next_msg_id).
#
# Needs also: USPC_SOURCE_DIR, USPC_LOCAL_STACK, USPC_MQTT / USPC_DB.
: "${USPC_SOURCE_DIR:?}" "${USPC_LOCAL_STACK:?}"
CTL_EID="proto::uspc-${T//_/-}"
CTL_TOPIC="usp/controller/$CTL_EID"
AGENT_PREFIX="proto::${T//_/-}-"
EID_PATTERN="${AGENT_PREFIX}%04d"
# Where simulated agents publish: their own identity level below the
# controller topic (%s = the agent's EID), as agent_identity requires.
SIM_CTL_TOPIC="$CTL_TOPIC/%s"
USPC_ARGS=(--stats-interval 2 --request-timeout-ms 5000 --task-poll-ms 300)
SIM_ARGS=(--controller-topic "$SIM_CTL_TOPIC")
SIM_STATE_DIRS=1
FROZEN_PG=() # private stacks whose PostgreSQL freeze_pg stopped

# The cleanup thaws a PostgreSQL left frozen before it stops the daemons.
thaw_frozen_pg() {
  local s
  for s in "${FROZEN_PG[@]}"; do thaw_pg "$s" 2>/dev/null || true; done
}
at_cleanup thaw_frozen_pg

# pg_pids DIR — the PostgreSQL processes (postmaster and its children) of
# the private stack in DIR.
pg_pids() {
  local pm
  pm=$(head -n 1 "$1/pg/postmaster.pid")
  echo "$pm" $(pgrep -P "$pm")
}

# freeze_pg DIR / thaw_pg DIR — stop (SIGSTOP) / continue the PostgreSQL of
# the private stack in DIR: connections stay open, nothing answers. The
# cleanup trap thaws a stack left frozen.
freeze_pg() {
  FROZEN_PG+=("$1")
  # shellcheck disable=SC2046
  kill -STOP $(pg_pids "$1")
}
thaw_pg() {
  # shellcheck disable=SC2046
  kill -CONT $(pg_pids "$1")
}

# stop_pg DIR — fast shutdown of the PostgreSQL of the private stack in DIR
# (its sessions are ended, new connections refused); start_pg DIR starts it
# again on the same port.
stop_pg() {
  local pm end=$((SECONDS + 30))
  pm=$(head -n 1 "$1/pg/postmaster.pid")
  kill -INT "$pm"
  while kill -0 "$pm" 2>/dev/null; do
    [ $SECONDS -lt $end ] || fail "PostgreSQL did not stop"
    sleep 0.1
  done
}
start_pg() { "$USPC_LOCAL_STACK" start --dir "$1" >/dev/null; }

# stop_broker DIR / start_broker DIR — stop the mosquitto of the private
# stack in DIR (SIGTERM, wait until it is gone); start it again on its port.
stop_broker() {
  local pid end=$((SECONDS + 20))
  pid=$(cat "$1/mosquitto/mosquitto.pid")
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null; do
    [ $SECONDS -lt $end ] || fail "mosquitto did not stop"
    sleep 0.1
  done
}
start_broker() { "$USPC_LOCAL_STACK" start --dir "$1" >/dev/null; }

# make_certs DIR [AGENT_EID_1 [AGENT_EID_2]] — the test PKI of
# make-test-certs.sh in DIR (controller CN: $USPC_TEST_CONTROLLER_EID, by
# default self::uspc), readable by the mosquitto user when we run as root.
make_certs() {
  "$USPC_SOURCE_DIR/tests/integration/make-test-certs.sh" "$@" >/dev/null
  if [ "$(id -u)" = 0 ]; then
    chown -R mosquitto "$1"
    chmod 755 "$1"
  fi
}

# start_broker_conf NAME WRITE_CONF — start a private mosquitto on a free
# port below the ephemeral range: WRITE_CONF PORT prints its configuration
# (to $W/NAME.conf; its stderr goes to $W/NAME.log). Sets MQ_PORT and
# PID_<NAME>; the cleanup trap stops it.
start_broker_conf() {
  local name=$1 fn=$2 port pid
  for _ in $(seq 10); do
    port=$((20000 + RANDOM % 12000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
    "$fn" "$port" >"$W/$name.conf"
    mosquitto -c "$W/$name.conf" >>"$W/$name.log" 2>&1 &
    pid=$!
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        track "$pid"
        MQ_PORT=$port
        printf -v "PID_$name" '%s' "$pid"
        return 0
      fi
      sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  fail "could not start mosquitto $name (see $W/$name.log)"
}

# production_conf PORT — deploy/mosquitto/production.conf with only its
# paths, listener and log destination adapted to this test: listener on
# 127.0.0.1:PORT, certificates from $CERTS (make_certs), the ACL from
# $W/uspc.acl (a verbatim copy of deploy/mosquitto/production.acl, made
# here), persistence and pid file in $W, log to stderr, and `user
# mosquitto` only when we run as root. Fails if a path of the production
# file was not adapted.
production_conf() {
  local user_line="# user mosquitto (not root)"
  [ "$(id -u)" = 0 ] && user_line="user mosquitto"
  cp "$USPC_SOURCE_DIR/deploy/mosquitto/production.acl" "$W/uspc.acl"
  chmod 644 "$W/uspc.acl"
  mkdir -p "$W/mosquitto-data"
  [ "$(id -u)" = 0 ] && chown mosquitto "$W/mosquitto-data"
  sed -e "s|^listener 8883\$|listener $1 127.0.0.1|" \
    -e "s|/etc/mosquitto/certs/|$CERTS/|" \
    -e "s|^acl_file /etc/mosquitto/uspc.acl\$|acl_file $W/uspc.acl|" \
    -e "s|^persistence_location /var/lib/mosquitto/\$|persistence_location $W/mosquitto-data/|" \
    -e "s|^pid_file .*|pid_file $W/mosquitto-data/mosquitto.pid|" \
    -e "s|^log_dest syslog\$|log_dest stderr|" \
    -e "s|^user mosquitto\$|$user_line|" \
    "$USPC_SOURCE_DIR/deploy/mosquitto/production.conf" >"$W/production.conf.adapted"
  if grep -Ev '^[[:space:]]*(#|$)' "$W/production.conf.adapted" | grep -Eq '/etc/|/var/|/run/|syslog|^listener 8883'; then
    fail "production.conf has a setting this test does not adapt: $(grep -Ev '^[[:space:]]*(#|$)' \
      "$W/production.conf.adapted" | grep -E '/etc/|/var/|/run/|syslog|^listener 8883' | head -n 1)"
  fi
  cat "$W/production.conf.adapted"
}

# forge NAME [usp-probe options...] — run usp-probe (e.g. with an agent's
# certificate, forging records) and wait for its PUBACKs; its output goes
# to $W/forge-NAME.out. Sets FORGE_REFUSED to the publishes the broker
# refused (PUBACK reason >= 0x80; 0 if none).
forge() {
  local name=$1; shift
  "$PROBE" "$@" >"$W/forge-$name.out" 2>"$W/forge-$name.err" ||
    fail "usp-probe ($name) failed: $(head -c 500 "$W/forge-$name.err")"
  FORGE_REFUSED=$(sed -n 's/.*"publish_refused":\([0-9]*\).*/\1/p' "$W/forge-$name.out" | tail -n 1)
  FORGE_REFUSED=${FORGE_REFUSED:-0}
}


# sim_counter NAME COUNTER — from simulator NAME's latest status line (started
# with --status-interval): notify | acked | retries | dropped ...
sim_counter() {
  grep 'usp-agent-sim: agents' "$W/sim-$1.log" | tail -n 1 | sed -n "s/.* $2 \([0-9]*\) .*/\1/p"
}

# vc_rows — ValueChange notifications stored.
vc_rows() { q "SELECT count(*) FROM notifications WHERE kind = 'value_change'"; }

# wait_vc_settled SIM N0 A0 ROWS0 — wait (up to 60 s) until every
# notification simulator SIM sent since the baseline (its notify and acked
# counters, vc_rows) is stored and answered, the counts holding still for
# two status lines (they are up to 1 s old). Sets SENT, ACKED and STORED
# (since the baseline) either way; returns 1 if they never settled.
wait_vc_settled() {
  local sim=$1 n0=$2 a0=$3 r0=$4 end=$((SECONDS + 60)) prev=""
  SENT=0 ACKED=0 STORED=0
  while [ $SECONDS -lt $end ]; do
    sleep 1
    SENT=$(($(sim_counter "$sim" notify) - n0))
    ACKED=$(($(sim_counter "$sim" acked) - a0))
    STORED=$(($(vc_rows) - r0))
    if [ "$SENT" -gt 0 ] && [ "$SENT" = "$ACKED" ] && [ "$SENT" = "$STORED" ]; then
      [ "$prev" = "$SENT" ] && return 0
      prev=$SENT
    else
      prev=""
    fi
  done
  return 1
}

# wait_vc_quiet SIM N0 A0 ROWS0 [TIMEOUT_S] — like wait_vc_settled, but
# does not wait for the stored count to reach the sent one: returns 0 once
# every notification sent since the baseline is answered and the counts
# (sent, answered, stored) held still for two status lines — a notification
# answered but never stored then shows as STORED < SENT at once instead of
# after the whole timeout (default 60 s). Sets SENT, ACKED and STORED.
wait_vc_quiet() {
  local sim=$1 n0=$2 a0=$3 r0=$4 end=$((SECONDS + ${5:-60})) prev="" cur
  SENT=0 ACKED=0 STORED=0
  while [ $SECONDS -lt $end ]; do
    sleep 1
    SENT=$(($(sim_counter "$sim" notify) - n0))
    ACKED=$(($(sim_counter "$sim" acked) - a0))
    STORED=$(($(vc_rows) - r0))
    cur="$SENT $ACKED $STORED"
    if [ "$SENT" -gt 0 ] && [ "$SENT" = "$ACKED" ]; then
      [ "$prev" = "$cur" ] && return 0
      prev=$cur
    else
      prev=""
    fi
  done
  return 1
}

# vc_dups — (agent, msg_id) pairs stored more than once.
vc_dups() { q "SELECT count(*) FROM (SELECT 1 FROM notifications GROUP BY eid, msg_id HAVING count(*) > 1) d"; }

# check_vc_settled MIN [PREFIX] — after wait_vc_settled: more than MIN
# notifications sent, every one stored exactly once and answered; else the
# test fails (PREFIX starts the message).
check_vc_settled() {
  local p=${2:-}
  [ "$SENT" -gt "$1" ] || fail "${p}only $SENT notifications sent; the load did not run"
  [ "$STORED" = "$SENT" ] || fail "${p}$STORED of $SENT notifications stored"
  [ "$ACKED" = "$SENT" ] || fail "${p}$ACKED of $SENT notifications answered"
  [ "$(vc_dups)" = 0 ] || fail "${p}a notification was stored twice"
}

# retry_model FILE MIN_WAIT_S MULTIPLIER — the simulator's default model with
# the Notify retry schedule of Controller.{i} set: the first retry after
# MIN_WAIT_S s, each next wait times MULTIPLIER/1000 (1000: a fixed interval).
retry_model() {
  sed -e 's/^\(param Device\.LocalAgent\.Controller\.{i}\.USPNotifRetryMinimumWaitInterval .* default=\)[0-9]*$/\1'"$2"'/' \
    -e 's/^\(param Device\.LocalAgent\.Controller\.{i}\.USPNotifRetryIntervalMultiplier .* default=\)[0-9]*$/\1'"$3"'/' \
    "$USPC_SOURCE_DIR/agents-sim/models/tr181-gateway.model" >"$1"
  grep -q "USPNotifRetryMinimumWaitInterval .* default=$2\$" "$1" || fail "could not set the retry interval in the model"
  grep -q "USPNotifRetryIntervalMultiplier .* default=$3\$" "$1" || fail "could not set the retry multiplier in the model"
}

# freeze_under_load PID RATE_FILE RATE FREEZE_S — a simulator started with
# --vc-rate-file RATE_FILE sends RATE ValueChanges/s for 1 s, then while
# daemon PID is frozen (SIGSTOP) for FREEZE_S s, then 2 s after it is
# thawed; then the load stops. The broker queues what the daemon misses.
freeze_under_load() {
  echo "$3" >"$2"
  sleep 1
  kill -STOP "$1"
  sleep "$4"
  kill -CONT "$1"
  sleep 2
  echo 0 >"$2"
}

agent() { printf '%s%04d' "$AGENT_PREFIX" "$1"; }

# add_tasks OP JSON FIRST LAST [EXTRA_COLS EXTRA_VALS] — one task per agent.
add_tasks() {
  local op=$1 json=$2 first=$3 last=$4
  q "INSERT INTO tasks (eid, op, request)
     SELECT format('%s%s', '$AGENT_PREFIX', lpad(i::text, 4, '0')), '$op', '$json'::jsonb
     FROM generate_series($first, $last) i; NOTIFY uspc_task_new;" >/dev/null
}

# stat_field LOGFILE FIELD — last value of FIELD=... in the daemon's stats lines.
stat_field() {
  grep ' stats: agents=' "$1" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# trace_sent LOGFILE OP EID — requests OP (get, set, ...) the daemon sent to
# EID so far, from its protocol trace (--protocol-trace true --log-level
# debug: "trace: out OP EID msg_id=ID ...").
trace_sent() { grep -c "trace: out $2 $3 msg_id=" "$1" || true; }

# trace_next_msg_id LOGFILE OP EID N0 — wait (up to 10 s) until more than N0
# (a trace_sent count) such requests were sent; print the msg_id of the last.
trace_next_msg_id() {
  local end=$((SECONDS + 10))
  until [ "$(trace_sent "$1" "$2" "$3")" -gt "$4" ]; do
    [ $SECONDS -lt $end ] || fail "no new '$2' to $3 in the protocol trace of $1"
    sleep 0.1
  done
  grep "trace: out $2 $3 msg_id=" "$1" | tail -n 1 | sed 's/.* msg_id=\([^ ]*\).*/\1/'
}

# stat_reason LOGFILE REASON — last count of REASON in the daemon's
# "stats: rejected by reason:" lines (0 if never named).
stat_reason() {
  local v
  v=$(grep ' stats: rejected by reason:' "$1" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p")
  echo "${v:-0}"
}

# Hex helpers (coreutils only): tohex < bytes, fromhex < hex text.
tohex() { od -An -tx1 -v | tr -d ' \n'; }
fromhex() { local h; h=$(tr -d ' \n'); printf '%b' "$(printf '%s' "$h" | sed 's/../\\x&/g')"; }
