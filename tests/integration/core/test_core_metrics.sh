#!/usr/bin/env bash
# The daemon's /metrics and /healthz (docs/uspc.md, "Metrics and health"):
#   - scrapes taken while uspctl fans a Get out to every agent and the
#     agents send ValueChange notifications all pass the strict format
#     checker (tests/support/check-metrics.py), and no counter goes down;
#   - once things are quiet the numbers agree with the stats line and the
#     database (tasks done, agents online, notifications, rejections);
#   - /healthz is 200 "ready" while the broker and the database are up,
#     503 naming mqtt after the broker stops, 200 again once it is back;
#   - bad requests: POST 405 with Allow, /nope 404, a GET with a body 413,
#     HEAD has no body; 20 idle connections (more than the limit of 16) are
#     cut after 5 s and a scrape then succeeds; a client sending its headers
#     a byte every 0.3 s (slowloris) is cut before it finishes;
#   - SIGTERM: /healthz is 503 "draining" during the drain, then the port
#     closes;
#   - metrics_listen "" opens no port; a port in use stops the start with
#     exit status 2 and a message naming the address.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-core.sh
. "$(dirname "$0")/../itest-core.sh"
need curl python3 ss
CHECK=$USPC_SOURCE_DIR/tests/support/check-metrics.py

AGENTS=10
private_stack "$W/stack" # the broker is stopped below
new_db "core_metrics"
rate_file=$W/vc-rate
echo 0 >"$rate_file"
start_uspc d1 --mqtt-reconnect-min-ms 200 --mqtt-reconnect-max-ms 1000 --drain-timeout-ms 6000
BASE=$(metrics_base d1)
ADDR=${BASE#http://}
[[ $ADDR =~ ^127\.0\.0\.1:[0-9]+$ ]] && [ "${ADDR#*:}" != 0 ] || fail "metrics address '$ADDR'"
log "metrics on $BASE"

# metric FILE NAME — the value of the sample NAME (no labels) in FILE.
metric() { awk -v n="$2" '$1 == n { print $2 }' "$1"; }
# rejected_sum FILE — the sum of uspc_rejected_records_total over reasons.
rejected_sum() { awk '$1 ~ /^uspc_rejected_records_total\{/ { s += $2 } END { print s + 0 }' "$1"; }
# scrape FILE — GET /metrics into FILE; fails unless 200 and the checker passes.
scrape() {
  local code
  code=$(curl -sS -o "$1" -w '%{http_code}' --max-time 5 "$BASE/metrics") || fail "scrape: curl failed"
  [ "$code" = 200 ] || fail "scrape: HTTP $code"
  python3 "$CHECK" --prefix uspc_ "$1" >/dev/null 2>"$1.err" || fail "scrape $1 fails the checker: $(head -5 "$1.err")"
}
# health — "CODE BODY" of GET /healthz.
health() { curl -sS --max-time 5 -w ' %{http_code}' "$BASE/healthz" 2>/dev/null | tr -d '\n' || echo "no answer"; }
# wait_health CODE TIMEOUT_S — until /healthz answers CODE.
wait_health() {
  local end=$((SECONDS + $2)) h=""
  while [ $SECONDS -lt $end ]; do
    h=$(health)
    [ "${h##* }" = "$1" ] && { HEALTH=$h; return 0; }
    sleep 0.2
  done
  fail "after $2 s /healthz is '$h', wanted $1"
}

# Ready before any agent: the writer connects at start, not at its first
# write (an idle daemon is not "database down").
wait_health 200 10
[ "$HEALTH" = "ready 200" ] || fail "/healthz of an idle daemon: '$HEALTH'"

start_sim s1 $AGENTS --status-interval 1 --host-churn 0 --vc-rate 0 --vc-rate-file "$rate_file"
wait_sql "SELECT count(*) FROM agent_subscriptions WHERE sub_id = 'uspc-swversion'" $AGENTS 60
wait_health 200 10
[ "$HEALTH" = "ready 200" ] || fail "/healthz when ready: '$HEALTH'"
sleep 1.5 # the simulator's status line (the baseline below) counts the Boot!s

# ---- scrapes under load: a fan-out of Gets and ValueChanges
mkdir -p "$W/scrapes"
(
  i=0
  while [ ! -e "$W/scrapes/stop" ]; do
    i=$((i + 1))
    curl -sS -o "$W/scrapes/$(printf %04d $i)" --max-time 5 "$BASE/metrics" 2>/dev/null || true
    sleep 0.2
  done
) &
track $!
echo '{"id":"g","op":"get","targets":{"all":true},"paths":["Device.DeviceInfo.UpTime"]}' >"$W/get.jsonl"
n0=$(sim_counter s1 notify) a0=$(sim_counter s1 acked) rows0=$(vc_rows)
echo 30 >"$rate_file"
for round in 1 2; do
  "$USPCTL" --db "$DB_URL" --no-progress --timeout 60 <"$W/get.jsonl" >"$W/get$round.out" 2>"$W/get$round.err" ||
    fail "uspctl fan-out $round: $(cat "$W/get$round.err")"
  [ "$(grep -c '"ok":true' "$W/get$round.out")" = $AGENTS ] || fail "fan-out $round: not $AGENTS ok lines"
done
sleep 1
echo 0 >"$rate_file"
wait_vc_settled s1 "$n0" "$a0" "$rows0" || fail "notifications did not settle: sent $SENT, stored $STORED, answered $ACKED"
[ "$SENT" -gt 10 ] || fail "only $SENT notifications sent"
touch "$W/scrapes/stop"
sleep 0.5
n=0 prev=""
for f in "$W"/scrapes/0*; do
  [ -s "$f" ] || continue
  n=$((n + 1))
  python3 "$CHECK" --prefix uspc_ "$f" >/dev/null 2>"$W/check.err" || fail "scrape $f fails the checker: $(head -5 "$W/check.err")"
  if [ -n "$prev" ]; then
    # no counter goes down from one scrape to the next
    down=$(awk 'FNR == NR { if ($1 ~ /_total(\{|$)/) v[$1] = $2; next }
                $1 ~ /_total(\{|$)/ && ($1 in v) && $2 + 0 < v[$1] + 0 { print $1 " " v[$1] " -> " $2 }' "$prev" "$f")
    [ -z "$down" ] || fail "a counter went down between $prev and $f: $down"
  fi
  prev=$f
done
[ "$n" -ge 10 ] || fail "only $n scrapes during the load"
log "$n scrapes during the fan-out and $SENT notifications: all valid"

# ---- the numbers agree with the stats line and the database (quiet now)
wait_log "$W/d1.log" ' stats: agents=' 10
sleep 2.5 # a stats line taken while quiet
scrape "$W/m1"
sl=$W/d1.log
done_db=$(q "SELECT count(*) FROM tasks WHERE state = 'done'")
[ "$done_db" = $((AGENTS * 2)) ] || fail "tasks done in the database: $done_db"
[ "$(metric "$W/m1" uspc_tasks_done_total)" = "$done_db" ] || fail "uspc_tasks_done_total $(metric "$W/m1" uspc_tasks_done_total), database $done_db"
[ "$(stat_field "$sl" tasks_done)" = "$done_db" ] || fail "stats line tasks_done $(stat_field "$sl" tasks_done)"
online_db=$(q "SELECT count(*) FROM agents WHERE online")
[ "$(metric "$W/m1" uspc_agents_online)" = "$online_db" ] || fail "uspc_agents_online $(metric "$W/m1" uspc_agents_online), database $online_db"
[ "$online_db" = $AGENTS ] || fail "$online_db agents online"
for pair in agents:uspc_agents online:uspc_agents_online notifies:uspc_notifications_total \
  notify_retries:uspc_notification_retries_total tasks_failed:uspc_tasks_failed_total \
  timeouts:uspc_request_timeouts_total pending:uspc_pending_requests; do
  a=$(stat_field "$sl" "${pair%%:*}") b=$(metric "$W/m1" "${pair#*:}")
  [ -n "$a" ] && [ "$a" = "$b" ] || fail "stats line ${pair%%:*}=$a, /metrics ${pair#*:} $b"
done
[ "$(rejected_sum "$W/m1")" = "$(stat_field "$sl" rejected)" ] || fail "rejected: /metrics $(rejected_sum "$W/m1"), stats line $(stat_field "$sl" rejected)"
vc_db=$(vc_rows)
[ "$(metric "$W/m1" uspc_notifications_total)" -ge "$vc_db" ] || fail "uspc_notifications_total below the $vc_db ValueChanges stored"
[ "$(metric "$W/m1" uspc_mqtt_connected)" = 1 ] && [ "$(metric "$W/m1" uspc_db_connected)" = 1 ] ||
  fail "connection gauges: mqtt $(metric "$W/m1" uspc_mqtt_connected) db $(metric "$W/m1" uspc_db_connected)"
[ "$(metric "$W/m1" uspc_draining)" = 0 ] || fail "draining before a stop"
grep -q '^uspc_build_info{version="[0-9][^"]*"} 1$' "$W/m1" || fail "no build_info"
st=$(metric "$W/m1" uspc_start_time_seconds)
awk -v s="$st" -v now="$(date +%s)" 'BEGIN { exit !(s > now - 600 && s <= now) }' || fail "start time $st"
scrapes=$(metric "$W/m1" uspc_metrics_scrapes_total)
[ "$scrapes" -gt "$n" ] || fail "uspc_metrics_scrapes_total $scrapes after $n+ scrapes"
log "tasks done $done_db, agents online $online_db, notifications $(metric "$W/m1" uspc_notifications_total): /metrics, stats line and database agree"

# ---- request limits
hdr=$(curl -sS -D - -o "$W/m2" --max-time 5 "$BASE/metrics")
grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8' <<<"$hdr" || fail "Content-Type: $hdr"
code=$(curl -sS -o /dev/null -w '%{http_code}' -D "$W/post.hdr" -X POST --data x "$BASE/metrics")
[ "$code" = 405 ] || fail "POST: HTTP $code"
grep -qi '^Allow: GET, HEAD' "$W/post.hdr" || fail "405 without Allow: $(cat "$W/post.hdr")"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE "$BASE/healthz")
[ "$code" = 405 ] || fail "DELETE: HTTP $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/nope")
[ "$code" = 404 ] || fail "/nope: HTTP $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X GET --data x "$BASE/metrics")
[ "$code" = 413 ] || fail "GET with a body: HTTP $code"
out=$(curl -sS -I -w '%{http_code} %{size_download}' --max-time 5 "$BASE/metrics" | tail -n 1)
[ "$out" = "200 0" ] || fail "HEAD /metrics: '$out'"

# 20 idle connections, more than the limit: cut after 5 s, then a scrape works
python3 - "$ADDR" 20 >"$W/idle.out" 2>&1 <<'EOF' &
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
socks = [socket.create_connection((host, int(port)), timeout=15) for _ in range(int(sys.argv[2]))]
t0 = time.monotonic()
closed = []
for s in socks:
    try:
        data = s.recv(100)   # the server closes: b"" (or a reset)
    except ConnectionResetError:
        data = b""
    except socket.timeout:
        data = None
    closed.append((data == b"", round(time.monotonic() - t0, 1)))
print("closed %d of %d, after %s s" % (sum(c for c, _ in closed), len(closed), sorted(set(t for _, t in closed))))
sys.exit(0 if all(c for c, _ in closed) else 1)
EOF
idle_pid=$!
track $idle_pid
sleep 1
t0=$SECONDS ok=0
while [ $((SECONDS - t0)) -lt 15 ]; do
  if curl -sS -o "$W/m3" --max-time 2 "$BASE/metrics" 2>/dev/null && [ -s "$W/m3" ]; then ok=1; break; fi
  sleep 0.5
done
[ $ok = 1 ] || fail "no successful scrape within 15 s of 20 idle connections"
took=$((SECONDS - t0 + 1))
python3 "$CHECK" --prefix uspc_ "$W/m3" >/dev/null || fail "scrape after the idle connections fails the checker"
# the 16 served are cut after 5 s; the 4 past the limit waited in the
# listen queue until then, and are cut 5 s later
wait "$idle_pid" || fail "idle connections not all cut: $(cat "$W/idle.out")"
log "20 idle connections: $(cat "$W/idle.out"); a scrape succeeded about $took s after they opened"

# slowloris: the request line and headers one byte every 0.3 s (about 20 s
# for the whole request); the daemon cuts it after 5 s
python3 - "$ADDR" >"$W/slow.out" 2>&1 <<'EOF' || fail "slowloris not cut: $(cat "$W/slow.out")"
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 30 + b"\r\n\r\n"
s = socket.create_connection((host, int(port)), timeout=10)
t0 = time.monotonic()
sent = 0
try:
    for b in req:
        s.sendall(bytes([b]))
        sent += 1
        time.sleep(0.3)
    s.settimeout(0.5)
    data = s.recv(100)
except (BrokenPipeError, ConnectionResetError, socket.timeout):
    data = b""
cut = time.monotonic() - t0
print("sent %d of %d bytes, cut after %.1f s, answer %r" % (sent, len(req), cut, data[:12]))
sys.exit(0 if sent < len(req) and not data.startswith(b"HTTP/1.1 200") and cut < 9 else 1)
EOF
log "slowloris: $(cat "$W/slow.out")"
scrape "$W/m4"

# ---- /healthz follows the broker
stop_broker "$W/stack"
wait_health 503 20
grep -q 'mqtt down' <<<"$HEALTH" || fail "/healthz with the broker down: '$HEALTH'"
scrape "$W/m5"
[ "$(metric "$W/m5" uspc_mqtt_connected)" = 0 ] || fail "uspc_mqtt_connected with the broker down"
log "broker stopped: /healthz '$HEALTH'"
start_broker "$W/stack"
wait_health 200 40
scrape "$W/m6"
[ "$(metric "$W/m6" uspc_mqtt_connected)" = 1 ] || fail "uspc_mqtt_connected after the broker returned"
log "broker back: /healthz '$HEALTH'"

# ---- SIGTERM: 503 while draining, then the port closes. A request to a
# frozen agent keeps the drain going (--drain-timeout-ms 6000).
thaw_s1() { thaw_sim "$PID_sim_s1"; }
at_cleanup thaw_s1
# an agent the daemon holds ready after the broker's return (one whose
# reconnect it did not see may stay offline until its next record)
ready_sql="SELECT eid FROM agents WHERE online AND onboarded_at >= online_since ORDER BY eid LIMIT 1"
wait_sql "SELECT count(*) FROM ($ready_sql) r" 1 20
target=$(q "$ready_sql")
freeze_sim "$PID_sim_s1"
q "INSERT INTO tasks (eid, op, request) VALUES ('$target', 'get',
  '{\"param_paths\":[\"Device.DeviceInfo.UpTime\"]}'); NOTIFY uspc_task_new" >/dev/null
wait_sql "SELECT count(*) FROM tasks WHERE state = 'sent'" 1 20
kill -TERM "$PID_d1"
wait_health 503 5
grep -q 'draining' <<<"$HEALTH" || fail "/healthz while draining: '$HEALTH'"
log "draining: /healthz '$HEALTH'"
wait_exit "$PID_d1" 30 || fail "d1 did not stop"
[ "$EXIT_RC" = 0 ] || fail "d1 exit status $EXIT_RC after SIGTERM"
thaw_s1
kill_pid "$PID_sim_s1"
curl -sS --max-time 2 -o /dev/null "$BASE/healthz" 2>/dev/null && fail "the metrics port still answers after the stop"

# ---- metrics off; a port in use (a database of their own)
new_db "core_metrics_2"
start_uspc d2 --metrics-listen ""
grep -q 'metrics off' "$W/d2.log" || fail "d2 did not say metrics are off"
grep -q 'metrics on http' "$W/d2.log" && fail "d2 opened a metrics port"
listeners=$(ss -Hltnp 2>/dev/null | grep -c "pid=$PID_d2," || true)
[ "$listeners" = 0 ] || fail "d2 (metrics off) listens: $(ss -Hltnp | grep "pid=$PID_d2,")"
stop_pid "$PID_d2" || fail "d2 exit status $?"
start_uspc d3
ADDR3=$(metrics_base d3)
ADDR3=${ADDR3#http://}
spawn_uspc d4 --metrics-listen "$ADDR3"
wait_exit "$PID_d4" 30 || fail "d4 started on a metrics port in use"
[ "$EXIT_RC" = 2 ] || fail "d4 exit status $EXIT_RC for a port in use, wanted 2"
grep -q "metrics_listen $ADDR3: cannot listen: Address already in use" "$W/d4.log" ||
  fail "d4's message: $(tail -n 2 "$W/d4.log")"
stop_pid "$PID_d3" || fail "d3 exit status $?"
log "metrics off: no port; a port in use: exit 2, $(grep -o 'metrics_listen [^(]*' "$W/d4.log" | head -n 1)"
log "ok"
