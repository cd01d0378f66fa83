# sim-test-lib.sh — shared helpers for the usp-agent-sim integration tests
# (tests/integration/test_sim_*.sh). Source it after setting TAG (a short
# word unique to the test, so tests sharing one broker never see each
# other's traffic). Needs USPC_BIN_DIR and USPC_MQTT (ctest sets them).
set -euo pipefail

: "${USPC_BIN_DIR:?USPC_BIN_DIR must point at the bin directory of the build}"
: "${USPC_MQTT:?USPC_MQTT must name the broker (run under the stack fixture)}"
: "${TAG:?set TAG before sourcing sim-test-lib.sh}"
command -v jq >/dev/null || { echo "FAIL: jq is required" >&2; exit 1; }

# shellcheck source=tests/integration/sanitizer-reports.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tests/integration/sanitizer-reports.sh"
WORK=${USPC_TEST_WORK_DIR:-$(mktemp -d)}
mkdir -p "$WORK"
SIM=$USPC_BIN_DIR/usp-agent-sim
PROBE=$USPC_BIN_DIR/usp-probe
EID_PATTERN="os::00D09E-${TAG}%04d"
CTRL_ID="self::ctl-${TAG}-$$"
CTRL_TOPIC="usp/controller/ctl-${TAG}-$$"
SIM_PID=""
BG_PIDS=()
CHECKS=0

eid() { printf "os::00D09E-%s%04d" "$TAG" "$1"; }

fail() {
	echo "FAIL: $*" >&2
	if [ -f "$WORK/sim.log" ]; then
		echo "--- last lines of $WORK/sim.log" >&2
		tail -20 "$WORK/sim.log" >&2
	fi
	exit 1
}

cleanup() {
	local rc=$?
	for p in "${BG_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -n "$SIM_PID" ]; then
		kill -TERM "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
	# Sanitizer builds: a report from the simulator or a probe fails the test.
	if sanitizer_reports "$WORK"; then
		echo "FAIL: sanitizer report in the files above" >&2
		[ $rc -ne 0 ] || rc=1
	fi
	exit $rc
}
trap cleanup EXIT

# sim_launch [usp-agent-sim options...]: start the simulator in the background.
sim_launch() {
	"$SIM" --eid-pattern "$EID_PATTERN" --controller-id "$CTRL_ID" \
		--controller-topic "$CTRL_TOPIC" --status-interval 0 --host-churn 0 "$@" \
		>>"$WORK/sim.log" 2>&1 &
	SIM_PID=$!
}

# sim_start [usp-agent-sim options...]: start the simulator, wait until agent 1 answers.
sim_start() {
	sim_launch "$@"
	sim_wait_up 1
}

# sim_wait_up N: wait until agent N answers GetSupportedProtocol.
sim_wait_up() {
	for _ in $(seq 1 40); do
		kill -0 "$SIM_PID" 2>/dev/null || fail "usp-agent-sim exited early"
		if probe "$1" --timeout 1 '{"type":"get_supported_protocol"}' >/dev/null 2>&1; then
			return 0
		fi
	done
	fail "agent $1 never answered"
}

# sim_stop: SIGTERM and check the simulator exits cleanly (status 0).
sim_stop() {
	kill -TERM "$SIM_PID"
	local rc=0
	wait "$SIM_PID" || rc=$?
	SIM_PID=""
	[ "$rc" -eq 0 ] || fail "usp-agent-sim exited with status $rc after SIGTERM"
}

# probe N [usp-probe options] [requests...]: talk to agent N as the test
# controller. Responses come back on a topic of their own, so notifications
# (sent to the controller topic) reach only the listeners below.
probe() {
	local n=$1
	shift
	"$PROBE" --agent "$(eid "$n")" --id "$CTRL_ID" --topic "$CTRL_TOPIC/req" "$@"
}

# listen_bg NAME N [args...]: a probe on the controller topic in the
# background (notifications, connect records), output in $WORK/NAME.out.
listen_bg() {
	local name=$1 n=$2
	shift 2
	"$PROBE" --agent "$(eid "$n")" --id "$CTRL_ID" --topic "$CTRL_TOPIC" "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" &
	BG_PIDS+=($!)
	eval "BG_$name=$!"
	sleep 0.5 # let it subscribe before the test acts
}

# wait_bg NAME: wait for a background probe; fail if it failed.
wait_bg() {
	local name=$1 pid
	eval "pid=\$BG_$name"
	wait "$pid" || fail "background probe $name failed: $(cat "$WORK/$name.err")"
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
