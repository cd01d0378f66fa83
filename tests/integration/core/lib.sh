# lib.sh — helpers for the uspc daemon's integration tests (sourced).
# Each test gets: its own database on the shared PostgreSQL (or its own
# private stack), its own controller endpoint id and topic, its own agent
# endpoint ids, a work dir for logs, and a trap that stops everything it
# started (by pid) and drops its database.
#
# Needs: USPC_BIN_DIR, USPC_SOURCE_DIR, USPC_TEST_WORK_DIR, USPC_LOCAL_STACK,
# and USPC_MQTT / USPC_DB (exported by with-stack.sh).
set -euo pipefail

: "${USPC_BIN_DIR:?}" "${USPC_SOURCE_DIR:?}" "${USPC_TEST_WORK_DIR:?}" "${USPC_LOCAL_STACK:?}"
W=$USPC_TEST_WORK_DIR
# shellcheck source=tests/integration/sanitizer-reports.sh
. "$(dirname "${BASH_SOURCE[0]}")/../sanitizer-reports.sh"
mkdir -p "$W"
T=$(basename "$0" .sh)             # test name, used in ids
T=${T#test_}
CTL_EID="proto::uspc-${T//_/-}"
CTL_TOPIC="usp/controller/$CTL_EID"
AGENT_PREFIX="proto::${T//_/-}-"
PIDS=()
DBS=()
MQTT_SESSIONS=()                   # "url client_id" of every daemon started
PRIVATE_STACKS=()
FROZEN_PG=()                       # private stacks whose PostgreSQL freeze_pg stopped
SIM_BIN=$USPC_BIN_DIR/usp-agent-sim
USPC=$USPC_BIN_DIR/uspc
# Where simulated agents publish: their own identity level below the
# controller topic (%s = the agent's EID), as agent_identity requires.
SIM_CTL_TOPIC="$CTL_TOPIC/%s"

log() { echo "[$(date +%H:%M:%S)] $T: $*" >&2; }
fail() {
  log "FAIL: $*"
  for f in "$W"/*.log; do
    [ -f "$f" ] || continue
    echo "----- tail of $f" >&2
    tail -n 25 "$f" >&2
  done
  exit 1
}

cleanup() {
  local rc=$?
  for s in "${FROZEN_PG[@]}"; do thaw_pg "$s" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    # shellcheck disable=SC2046
    kill -CONT "$p" $(pgrep -P "$p" 2>/dev/null) 2>/dev/null || true   # thaw frozen simulators
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  # The daemons keep durable MQTT sessions (mqtt_session_expiry); end them so
  # a later test on the same broker finds no stale session or queued
  # messages: a clean-start connect with the same client id discards it.
  for sess in "${MQTT_SESSIONS[@]}"; do
    timeout 5 mosquitto_sub -L "${sess% *}/uspc-test-end-session" -V mqttv5 -i "${sess#* }" -E \
      >/dev/null 2>&1 || true
  done
  for d in "${DBS[@]}"; do
    psql -XAtq "$USPC_DB" -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
  for s in "${PRIVATE_STACKS[@]}"; do "$USPC_LOCAL_STACK" stop --dir "$s" >/dev/null 2>&1 || true; done
  # Sanitizer builds: a report from any program we ran fails the test.
  if sanitizer_reports "$W"; then
    log "FAIL: sanitizer report in the files above"
    [ $rc -ne 0 ] || rc=1
  fi
  exit $rc
}
trap cleanup EXIT

# new_db NAME [BASE_URL] — create a database, set DB_URL to it.
new_db() {
  local name=$1 base=${2:-$USPC_DB}
  psql -XAtq "$base" -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null
  psql -XAtq "$base" -c "CREATE DATABASE \"$name\"" >/dev/null
  [ "$base" = "$USPC_DB" ] && DBS+=("$name")
  DB_URL="${base%/*}/$name"
}

# private_stack DIR — start a private mosquitto + PostgreSQL, source its env.
private_stack() {
  local dir=$1
  PRIVATE_STACKS+=("$dir")
  "$USPC_LOCAL_STACK" start --dir "$dir" >/dev/null
  # shellcheck disable=SC1091
  . "$dir/env"
}

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
        PIDS+=("$pid")
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
  "$USPC_BIN_DIR/usp-probe" "$@" >"$W/forge-$name.out" 2>"$W/forge-$name.err" ||
    fail "usp-probe ($name) failed: $(head -c 500 "$W/forge-$name.err")"
  FORGE_REFUSED=$(sed -n 's/.*"publish_refused":\([0-9]*\).*/\1/p' "$W/forge-$name.out" | tail -n 1)
  FORGE_REFUSED=${FORGE_REFUSED:-0}
}

q() { psql -XAtq "$DB_URL" -c "$1"; }

# wait_sql SQL EXPECTED TIMEOUT_S — poll until the query prints EXPECTED.
wait_sql() {
  local sql=$1 want=$2 t=$3 got="" end=$((SECONDS + $3))
  while [ $SECONDS -lt $end ]; do
    got=$(q "$sql" 2>/dev/null || true)
    [ "$got" = "$want" ] && return 0
    sleep 0.3
  done
  fail "after ${t}s: '$sql' gave '$got', wanted '$want'"
}

# wait_log FILE REGEX TIMEOUT_S
wait_log() {
  local end=$((SECONDS + $3))
  while [ $SECONDS -lt $end ]; do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  fail "after $3s: no line matching '$2' in $1"
}

# spawn_uspc NAME [flags...] — start a daemon for this test's endpoint id
# and return at once; sets PID_<NAME>. Logs to $W/NAME.log.
spawn_uspc() {
  local name=$1; shift
  local node="$T-$name" url=$USPC_MQTT a prev=""
  for a in "$@"; do
    case $prev in --node-id) node=$a ;; --mqtt) url=$a ;; esac
    prev=$a
  done
  case " ${MQTT_SESSIONS[*]:-} " in *" uspc-$node "*) ;; *) MQTT_SESSIONS+=("$url uspc-$node") ;; esac
  "$USPC" --db "$DB_URL" --endpoint-id "$CTL_EID" --node-id "$T-$name" \
    --stats-interval 2 --request-timeout-ms 5000 --task-poll-ms 300 "$@" \
    >>"$W/$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  printf -v "PID_$name" '%s' "$pid"
}

# start_uspc NAME [flags...] — spawn_uspc, then wait until it is connected.
start_uspc() {
  spawn_uspc "$@"
  wait_log "$W/$1.log" "MQTT connected" 20
}

# alive PID — the process runs (an exited child not yet waited for is a
# zombie, which kill -0 still finds).
alive() {
  local s
  s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $s != Z* ]]
}

# wait_exit PID TIMEOUT_S — wait up to TIMEOUT_S for child PID to exit; sets
# EXIT_RC to its exit status and returns 0, or returns 1 if it still runs.
wait_exit() {
  local end=$((SECONDS + $2))
  while alive "$1"; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.1
  done
  EXIT_RC=0
  wait "$1" || EXIT_RC=$?
}

# stop_pid PID — SIGTERM and wait; returns its exit status.
stop_pid() {
  local rc=0
  kill -TERM "$1"
  wait "$1" || rc=$?
  return $rc
}

# start_sim NAME N [flags...] — N agents "${AGENT_PREFIX}NNNN"; sets PID_<NAME>.
start_sim() {
  local name=$1 n=$2; shift 2
  mkdir -p "$W/sim-$name"
  "$SIM_BIN" --agents "$n" --controller-id "$CTL_EID" --controller-topic "$SIM_CTL_TOPIC" \
    --eid-pattern "${AGENT_PREFIX}%04d" --state-dir "$W/sim-$name" "$@" \
    >>"$W/sim-$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  printf -v "PID_sim_$name" '%s' "$pid"
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

# freeze_sim PID / thaw_sim PID — stop / continue a simulator and its worker
# processes (its agents then neither send nor answer; their connections stay).
freeze_sim() {
  # shellcheck disable=SC2046
  kill -STOP $(pgrep -P "$1") "$1"
}
thaw_sim() {
  # shellcheck disable=SC2046
  kill -CONT "$1" $(pgrep -P "$1")
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
