# shellcheck shell=bash disable=SC2034 # (settings read by itest-lib.sh and the tests)
# itest-sim.sh — helpers of usp-agent-sim's integration tests
# (test_sim_*.sh), sourced after itest-lib.sh. Set TAG first: a short word
# unique to the test, in its agents' endpoint IDs and its controller topic,
# so tests sharing one broker never see each other's traffic.
#
# One simulator at a time, named main (start_sim main: PID_sim_main,
# $W/sim-main.log), driven over MQTT by usp-probe playing the controller:
#   sim_launch N [flags]  start it; sim_start N [flags] also waits until
#                         agent 1 answers; sim_wait_up N; sim_stop (SIGTERM,
#                         status 0 required)
#   eid N                 agent N's endpoint ID
#   probe N [opts] [req]  a request to agent N (the answer on stdout)
#   listen_bg NAME N ...  a probe on the controller topic in the background
#                         (probe_bg; wait for it with wait_bg NAME)
#   check FILTER JSON WHAT  the jq filter must yield true ("ok N - WHAT")
#
# Needs also: USPC_MQTT (the shared broker) and jq.
: "${USPC_MQTT:?USPC_MQTT must name the broker (run under the stack fixture)}"
: "${TAG:?set TAG before sourcing itest-sim.sh}"
need jq
EID_PATTERN="os::00D09E-${TAG}%04d"
CTL_EID="self::ctl-${TAG}-$$"
CTL_TOPIC="usp/controller/ctl-${TAG}-$$"
SIM_ARGS=(--controller-topic "$CTL_TOPIC" --status-interval 0 --host-churn 0)
PID_sim_main=""
CHECKS=0

eid() { printf "os::00D09E-%s%04d" "$TAG" "$1"; }

# sim_launch N [usp-agent-sim options...]: start N agents in the background.
sim_launch() { start_sim main "$@"; }

# sim_start N [usp-agent-sim options...]: sim_launch, wait until agent 1 answers.
sim_start() {
	sim_launch "$@"
	sim_wait_up 1
}

# sim_wait_up N: wait until agent N answers GetSupportedProtocol.
sim_wait_up() {
	for _ in $(seq 1 40); do
		alive "$PID_sim_main" || fail "usp-agent-sim exited early"
		if probe "$1" --timeout 1 '{"type":"get_supported_protocol"}' >/dev/null 2>&1; then
			return 0
		fi
	done
	fail "agent $1 never answered"
}

# sim_stop: SIGTERM and check the simulator exits cleanly (status 0).
sim_stop() {
	local rc=0
	stop_pid "$PID_sim_main" || rc=$?
	PID_sim_main=""
	[ "$rc" -eq 0 ] || fail "usp-agent-sim exited with status $rc after SIGTERM"
}

# probe N [usp-probe options] [requests...]: talk to agent N as the test
# controller. Responses come back on a topic of their own, so notifications
# (sent to the controller topic) reach only the listeners below.
probe() {
	local n=$1
	shift
	"$PROBE" --agent "$(eid "$n")" --id "$CTL_EID" --topic "$CTL_TOPIC/req" "$@"
}

# listen_bg NAME N [args...]: a probe on the controller topic in the
# background (notifications, connect records), output in $W/NAME.out.
listen_bg() {
	local name=$1 n=$2
	shift 2
	probe_bg "$name" --agent "$(eid "$n")" --id "$CTL_EID" --topic "$CTL_TOPIC" "$@"
	sleep 0.5 # let it subscribe before the test acts
}

# check 'jq filter' JSON 'what': the filter must yield true.
check() {
	CHECKS=$((CHECKS + 1))
	if ! printf '%s\n' "$2" | jq -e "$1" >/dev/null 2>&1; then
		echo "--- got: $2" >&2
		fail "$3 (jq: $1)"
	fi
	echo "ok $CHECKS - $3"
}
