#!/usr/bin/env bash
# usp-agent-sim: several worker processes, connect pacing, every agent
# answering, churn (flapping agents reconnect), hosts joining and leaving,
# and clear refusals of counts or options that cannot work.
TAG=wrk
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-sim.sh
. "$(dirname "$0")/itest-sim.sh"

# refusals
rc=0; "$SIM_BIN" --agents 20000 --workers 1 >"$W/fit.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q "do not fit" "$W/fit.out" || fail "20000 agents in one worker not refused clearly ($rc): $(cat "$W/fit.out")"
echo "ok - a count that cannot fit is refused with a clear message"
rc=0; "$SIM_BIN" --broker "tcp://nowhere" >"$W/url.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q "expected mqtt://" "$W/url.out" || fail "bad broker URL not refused"
echo "ok - bad --broker refused"
rc=0; "$SIM_BIN" --model /nonexistent.model >"$W/model.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q "/nonexistent.model" "$W/model.out" || fail "missing model not refused"
echo "ok - missing model file refused"

# 60 agents in 3 workers, paced at 60 connects/s: every one answers
N=60
start=$(date +%s.%N)
sim_start $N --workers 3 --connect-rate 60 --status-interval 1
sim_wait_up $N
up=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.3f", b - a}')
check "$up >= 0.6" "true" "connect pacing: $N agents took ${up}s at 60/s"
[ "$(pgrep -c -P "$PID_sim_main")" -eq 3 ] || fail "expected 3 worker processes"
echo "ok - 3 worker processes"
r=$("$PROBE" --id "$CTL_EID" --topic "$CTL_TOPIC/fan" --fanout-pattern "$EID_PATTERN" --fanout-count $N --timeout 20 '{"type":"get","param_paths":["Device.DeviceInfo."]}')
check ".fanout.answered==$N and .fanout.errors==0" "$r" "all $N agents answer a Get"
for _ in 1 2 3 4 5 6; do grep -q "online $N " "$W/sim-main.log" && break; sleep 0.5; done
grep -q "online $N " "$W/sim-main.log" || fail "status line never showed online $N"
echo "ok - status line reports the agents online"
sim_stop

# churn: every agent flaps (drop ~1 s, back after ~1 s); hosts come and go
listen_bg churn 1 --listen 8 --timeout 20
sim_start 2 --churn-fraction 1 --churn-interval 1 --churn-offline 1
probe 1 '{"type":"add","create_objs":[{"obj_path":"Device.LocalAgent.Subscription.","param_settings":[{"param":"ID","value":"hosts"},{"param":"Enable","value":"true"},{"param":"NotifType","value":"ObjectCreation"},{"param":"ReferenceList","value":"Device.Hosts.Host."}]}]}' >/dev/null || true
wait_bg churn
out=$(jq -sc '[.[]|select(.record=="mqtt_connect" and .from_id=="'"$(eid 1)"'")]' "$W/churn.out")
check 'length>=2' "$out" "a flapping agent reconnects and re-sends its MQTTConnect record"
out=$(jq -sc '[.[]|select(.type=="notify" and .event.event_name=="Boot!" and .from_id=="'"$(eid 1)"'")]' "$W/churn.out")
check 'length<=1' "$out" "a network flap is not a reboot (no extra Boot!)"
sim_stop

listen_bg hosts 1 --expect-notify 3 --timeout 15
sim_start 1 --state-dir "$W" --host-churn 0.3
probe 1 '{"type":"add","create_objs":[{"obj_path":"Device.LocalAgent.Subscription.","param_settings":[{"param":"ID","value":"hosts"},{"param":"Enable","value":"true"},{"param":"NotifType","value":"ObjectCreation"},{"param":"ReferenceList","value":"Device.Hosts.Host."}]},{"obj_path":"Device.LocalAgent.Subscription.","param_settings":[{"param":"ID","value":"hosts-gone"},{"param":"Enable","value":"true"},{"param":"NotifType","value":"ObjectDeletion"},{"param":"ReferenceList","value":"Device.Hosts.Host."}]}]}' >/dev/null
wait_bg hosts
out=$(jq -sc '[.[]|select(.type=="notify" and (.obj_creation or .obj_deletion))]' "$W/hosts.out")
check 'length>=1 and all((.obj_creation.obj_path // .obj_deletion.obj_path)|test("^Device.Hosts.Host.[0-9]+.$"))' "$out" "hosts join and leave (ObjectCreation/ObjectDeletion)"
sim_stop
echo "PASS: $CHECKS checks"
