#!/usr/bin/env bash
# usp-agent-sim: bad input gets what TR-369 asks for — dropped (garbage,
# wrong to_id, unknown controller, oversized, undecodable Msg) or answered
# with the right Error / Disconnect — and never kills the agent.
TAG=bad
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-sim.sh
. "$(dirname "$0")/itest-sim.sh"

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
len() { printf '%02x' "${#1}"; }

sim_start 1 --max-record 4096
GET='{"type":"get","param_paths":["Device.DeviceInfo.ModelName"]}'

probe 1 --send-hex deadbeef00ff --expect-none 2 >/dev/null || fail "garbage record was answered"
echo "ok - garbage bytes dropped"
probe 1 --to-id "os::00D09E-someone-else" --no-answer --expect-none 2 "$GET" >/dev/null || fail "record for another to_id was answered"
echo "ok - wrong to_id dropped (R-E2E.1)"
probe 1 --id "self::stranger-$$" --no-answer --expect-none 2 "$GET" >/dev/null || fail "unknown controller was answered"
echo "ok - unknown controller dropped"
big=$(head -c 6000 /dev/zero | tr '\0' 'A')
probe 1 --no-answer --expect-none 2 "{\"type\":\"get\",\"param_paths\":[\"Device.$big\"]}" >/dev/null || fail "oversized record was answered"
echo "ok - record over --max-record dropped"
# a valid Record whose Msg payload cannot be decoded: dropped (no msg_id to answer)
a=$(eid 1)
rec="0a03312e33"12$(len "$a")$(hex "$a")1a$(len "$CTL_EID")$(hex "$CTL_EID")"3a0412" 
rec="${rec}02ffff"
probe 1 --send-hex "$rec" --expect-none 2 >/dev/null || fail "undecodable Msg was answered"
echo "ok - undecodable Msg dropped"

r=$(probe 1 '{"type":"empty_request"}')
check '.type=="error" and .err_code==7004' "$r" "Request selecting no message: Error 7004 (R-ENC.5)"
r=$(probe 1 '{"type":"notify","subscription_id":"x","event":{"obj_path":"Device.","event_name":"Boot!"}}')
check '.type=="error" and .err_code==7001' "$r" "Notify sent to an agent: Error 7001"
r=$(probe 1 '{"type":"register","reg_paths":[{"path":"Device.X."}]}')
check '.type=="error" and .err_code==7001' "$r" "Register sent to an agent: Error 7001"
r=$(probe 1 --session-context --listen 2)
check 'select(.record=="disconnect")|.reason_code==7106' "$r" "session_context record: Disconnect 7106"

r=$(probe 1 "$GET")
check '.req_path_results[0].resolved_path_results[0].result_params.ModelName=="SIM-GW-1000"' "$r" "agent still answers after the bad input"
sim_stop
echo "PASS"
