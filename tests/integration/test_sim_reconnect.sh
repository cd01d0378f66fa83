#!/usr/bin/env bash
# usp-agent-sim: --reconnect-delay S (an agent that loses its broker
# connection waits S seconds before it reconnects; without it, the usual
# 1-2 s back-off), and the NotifyResp latency of the status line
# (notify_resp_p50_ms / notify_resp_p99_ms per status interval, and the
# since-start line at exit).
TAG=rcn
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-sim.sh
. "$(dirname "$0")/itest-sim.sh"
need mosquitto_pub

# kick_and_time: take agent 1's MQTT session over (same client ID: the
# broker disconnects the agent), print the seconds until its new
# MQTTConnectRecord arrives.
kick_and_time() {
	"$PROBE" --agent "$(eid 1)" --id "$CTL_EID" --topic "$CTL_TOPIC" --wait-connect --timeout 20 \
		>"$W/kick.out" 2>"$W/kick.err" &
	local pid=$!
	track "$pid"
	sleep 0.5
	local t0=$EPOCHREALTIME
	mosquitto_pub -L "$USPC_MQTT/usp/kick-$TAG-$$" -V mqttv5 -i "$(eid 1)" -n -q 1
	wait "$pid" || fail "no MQTTConnectRecord after the kick: $(cat "$W/kick.err")"
	local t1=$EPOCHREALTIME
	echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}'
}

# 1. --reconnect-delay 3: back about 3 s after the connection dropped
sim_start 1 --reconnect-delay 3 --status-interval 1
dt=$(kick_and_time)
awk -v d="$dt" 'BEGIN { exit !(d >= 3.0 && d < 6.0) }' ||
	fail "reconnected after $dt s with --reconnect-delay 3 (want 3..6)"
echo "ok - --reconnect-delay 3: reconnected after $dt s"
sim_stop

# 2. without it: the usual 1-2 s back-off
sim_start 1
dt=$(kick_and_time)
awk -v d="$dt" 'BEGIN { exit !(d < 2.9) }' || fail "reconnected after $dt s without --reconnect-delay (want < 2.9)"
echo "ok - default: reconnected after $dt s"
sim_stop

# 3. bad values are usage errors
for bad in -1 601 x; do
	rc=0
	"$SIM_BIN" --reconnect-delay "$bad" --check-model >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 2 ] || fail "--reconnect-delay $bad: exit $rc, want 2"
done
echo "ok - --reconnect-delay outside 0..600 is refused"

# 4. NotifyResp latency: notifications with send_resp (NotifRetry=true),
# answered at once by a listener
: >"$W/sim-main.log"
sim_start 1 --status-interval 1
probe 1 '{"type":"add","create_objs":[{"obj_path":"Device.LocalAgent.Subscription.","param_settings":[{"param":"ID","value":"rt"},{"param":"Enable","value":"true"},{"param":"NotifType","value":"ValueChange"},{"param":"ReferenceList","value":"Device.Time.NTPServer2"},{"param":"NotifRetry","value":"true"}]}]}' >/dev/null
listen_bg n1 1 --expect-notify 5 --timeout 15
for i in 1 2 3 4 5; do
	probe 1 "{\"type\":\"set\",\"update_objs\":[{\"obj_path\":\"Device.Time.\",\"param_settings\":[{\"param\":\"NTPServer2\",\"value\":\"ntp$i.example.net\"}]}]}" >/dev/null
done
wait_bg n1
sleep 2.5 # two status lines
grep -q 'notify_resp_p50_ms [1-9][0-9]* notify_resp_p99_ms [1-9]' "$W/sim-main.log" ||
	fail "no status line with the NotifyResp latency: $(grep 'usp-agent-sim: agents' "$W/sim-main.log" | tail -3)"
last=$(grep 'usp-agent-sim: agents' "$W/sim-main.log" | tail -n 1)
grep -q 'notify_resp_p50_ms 0 notify_resp_p99_ms 0 ' <<<"$last" ||
	fail "a status line without NotifyResps should report 0: $last"
echo "ok - the status line reports the NotifyResp latency of its interval"

# 5. a NotifyResp sent 2 s late is measured as such (from the first send)
listen_bg n2 1 --expect-notify 1 --timeout 15 --no-notify-resp
probe 1 '{"type":"set","update_objs":[{"obj_path":"Device.Time.","param_settings":[{"param":"NTPServer2","value":"late.example.net"}]}]}' >/dev/null
wait_bg n2
id=$(jq -r 'select(.type=="notify")|.msg_id' "$W/n2.out" | head -n 1)
[ -n "$id" ] || fail "no Notify to answer late"
sleep 2
probe 1 "{\"type\":\"notify_resp\",\"msg_id\":\"$id\",\"subscription_id\":\"rt\"}" >/dev/null
sleep 1.5
sim_stop
line=$(grep 'usp-agent-sim: since start:' "$W/sim-main.log" | tail -n 1)
p99=$(sed -n 's/.* notify_resp_p99_ms \([0-9]*\).*/\1/p' <<<"$line")
grep -q 'notify_resp_n 6 notify_resp_p50_ms [1-9]' <<<"$line" && [ "${p99:-0}" -ge 1900 ] && [ "$p99" -le 4000 ] ||
	fail "since-start line should count 6 NotifyResps, p99 about 2000 ms (the late one): $line"
echo "ok - at exit: the latency of every NotifyResp since start ($line)"

echo "PASS: $CHECKS checks"
