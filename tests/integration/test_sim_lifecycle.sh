#!/usr/bin/env bash
# usp-agent-sim: how agents leave. A clean stop (SIGTERM) sends a
# DisconnectRecord from every agent before DISCONNECT (R-MTP.7); a dropped
# connection (churn, a killed worker) makes the broker publish the agent's
# MQTT Will, a DisconnectRecord "connection lost", unless --no-will; and
# workers never outlive the supervisor (SIGKILL of the supervisor → the
# workers stop cleanly within seconds); a reboot sends its DisconnectRecord
# once, not again on the new connection.
TAG=lfc
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-sim.sh
. "$(dirname "$0")/itest-sim.sh"

# disconnect records seen by listener NAME, as a JSON array
discs() { jq -sc '[.[]|select(.record=="disconnect")]' "$W/$1.out"; }

# 1. clean stop: one DisconnectRecord per agent, reason text, no reason code
listen_bg stop 1 --listen 8 --timeout 20
sim_start 3
sim_wait_up 3
sim_stop
wait_bg stop
check "length==3 and (map(.from_id)|sort)==[\"$(eid 1)\",\"$(eid 2)\",\"$(eid 3)\"] and all(.reason==\"shutdown\" and .reason_code==0)" \
	"$(discs stop)" "SIGTERM: every agent sends a DisconnectRecord before leaving"

# 2. a network drop (churn): the broker publishes the Will
listen_bg will 1 --listen 6 --timeout 20
sim_launch 1 --churn-fraction 1 --churn-interval 0.3 --churn-offline 60 --status-interval 1
wait_bg will
check "length==1 and .[0].from_id==\"$(eid 1)\" and .[0].reason==\"connection lost\" and .[0].reason_code==0" \
	"$(discs will)" "a dropped connection delivers the Will (DisconnectRecord 'connection lost')"
sim_stop

# 3. --no-will: the same drop is silent
listen_bg nowill 1 --listen 6 --timeout 20
: >"$W/sim-main.log"
sim_launch 1 --churn-fraction 1 --churn-interval 0.3 --churn-offline 60 --status-interval 1 --no-will
wait_bg nowill
grep -q "disc [1-9]" "$W/sim-main.log" || fail "the churned agent never dropped its connection"
check "length==0" "$(discs nowill)" "--no-will: no DisconnectRecord when the connection drops"
sim_stop

# 4. a worker killed with SIGKILL: its connections drop, the Wills arrive
listen_bg killw 1 --listen 5 --timeout 20
sim_start 2 --workers 1
sim_wait_up 2
worker=$(pgrep -P "$PID_sim_main")
kill -KILL "$worker"
wait_bg killw
check "length==2 and all(.reason==\"connection lost\")" "$(discs killw)" "SIGKILL of a worker: every agent's Will is published"
rc=0; wait "$PID_sim_main" || rc=$?; PID_sim_main=""
[ "$rc" -eq 1 ] || fail "supervisor exit status $rc after losing a worker (want 1)"
echo "ok - the supervisor notices the dead worker and exits 1"

# 5. SIGKILL of the supervisor: the workers stop (cleanly) within seconds
listen_bg orphan 1 --listen 6 --timeout 20
sim_start 4 --workers 2
sim_wait_up 4
mapfile -t workers < <(pgrep -P "$PID_sim_main")
[ "${#workers[@]}" -eq 2 ] || fail "expected 2 workers, found ${#workers[@]}"
kill -KILL "$PID_sim_main"
wait "$PID_sim_main" 2>/dev/null || true
PID_sim_main=""
left=2
for _ in $(seq 1 50); do
	left=0
	for w in "${workers[@]}"; do alive "$w" && left=$((left + 1)); done
	[ "$left" -eq 0 ] && break
	sleep 0.1
done
if [ "$left" -ne 0 ]; then
	for w in "${workers[@]}"; do kill -KILL "$w" 2>/dev/null || true; done
	fail "$left worker(s) still running 5 s after the supervisor was killed"
fi
echo "ok - workers exit within 5 s of the supervisor's SIGKILL"
wait_bg orphan
check "length==4 and all(.reason==\"shutdown\")" "$(discs orphan)" "orphaned workers stop cleanly (DisconnectRecord from every agent)"

# 6. a reboot: one DisconnectRecord, before the new connection's records.
# Its PUBLISH is still unacknowledged when the agent disconnects; a fresh
# connection (clean start) must not send it again, or a controller sees the
# agent leave again just after it came back.
listen_bg reboot 1 --listen 5 --timeout 20
sim_start 1 --reboot-time 0.5
r=$(probe 1 '{"type":"operate","command":"Device.Reboot()","command_key":"rb-6","send_resp":true}')
check '.operation_results[0].req_output_args!=null' "$r" "Reboot() accepted"
wait_bg reboot
recs=$(jq -sc '[.[] | select(.record == "disconnect" or .record == "mqtt_connect") | .record]' "$W/reboot.out")
check '. == ["mqtt_connect","disconnect","mqtt_connect"]' "$recs" \
	"a reboot: one DisconnectRecord between the connections, not sent again after reconnecting"
sim_stop

echo "PASS: $CHECKS checks"
