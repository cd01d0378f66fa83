#!/usr/bin/env bash
# test_acs.sh — uspc-acs (the TR-069 ACS) end to end: the shared PostgreSQL,
# two uspc-acs processes on one database, and simulated CPEs from the
# independent driver in tests/cwmp-peer (acs-scenarios.mjs, a co-process
# taking one JSON command per line). uspctl queues the tasks and reads the
# results; psql reads what uspc-acs stored.
#   acs-a  --auth digest, key-derived CPE and connection-request
#          credentials, --session-idle 3, --max-body 65536
#   acs-b  the same database, another --node-id, --auth basic,
#          --max-sessions 1
# Scenarios, in order (each asserts the stored state and the transcript):
#   1 inventory    Informs in cwmp-1-0..1-4 (answers in the CPE's
#                  namespace), ops::/os:: endpoint ids, agents row,
#                  cwmp_devices, events in notifications, snapshot
#   2 auth         Digest; wrong password; Basic (acs-b); credentials of
#                  one device under another's DeviceId: 401, nothing stored
#   3 ops          get (full, partial, *), set (xsi:type from the
#                  Inform, from a GetParameterValues, from the stored
#                  types), add with params, delete, get_instances
#                  (GetParameterNames),
#                  set_attributes/get_attributes and a 4 VALUE CHANGE,
#                  Reboot, Download (ok and 9010), FactoryReset, with
#                  their operation_results
#   4 faults       a CPE Fault ends the task with its code; a CPE that
#                  refuses partial paths is read through GetParameterNames
#   5 conn. req.   a waiting uspctl get is run by a connection request;
#                  wrong listener credentials leave cr_error; a CPE with a
#                  UDPConnectionRequestAddress is woken by UDP (Annex G),
#                  a wrong password's datagrams are ignored
#   6 session      cookies, no cookies, chunked, empty-POST variants;
#                  drops mid-session (set 'unknown', get re-queued, lease
#                  released); the idle timeout
#   7 two nodes    503 + Retry-After from acs-b while acs-a has the
#                  device's session; accepted after it ended
#   8 duplicates   an Inform re-sent with RetryCount 1: events stored once
#   9 overload     --max-sessions 1: 503 + Retry-After
#  10 bad input    refused without a crash or a row changed
#  11 TLS          --tls-cert/--tls-key: an Inform over HTTPS; no CA, no plain HTTP
# Both processes must then stop on SIGTERM with status 0, with no ERROR
# line (and, in sanitizer builds, no report) in their logs.
# Needs node (tests/cwmp-peer after npm ci), jq, curl, psql, openssl, gzip.
# shellcheck disable=SC2154 # PID_x, URL_x, METRICS_x are set by start_acs
# shellcheck disable=SC2016 # jq programs in single quotes
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
need psql jq node curl openssl gzip
: "${USPC_DB:?}" "${USPC_SOURCE_DIR:?}"
PEER_DIR=$USPC_SOURCE_DIR/tests/cwmp-peer
[ -d "$PEER_DIR/node_modules/fast-xml-parser" ] ||
	fail "tests/cwmp-peer has no node_modules: run npm ci there (deploy/test.sh does)"
ACS=$USPC_BIN_DIR/uspc-acs
[ -x "$ACS" ] || fail "uspc-acs is not built: no $ACS"
T0=$SECONDS

new_db it_acs
printf 'itest-cpe-key-%s-0123456789\n' "$RANDOM" >"$W/cpe.key"
printf 'itest-cr-key-%s-0123456789\n' "$RANDOM" >"$W/cr.key"

# ---- helpers ----------------------------------------------------------------

uctl() { "$USPCTL" --db "$DB_URL" --no-progress -q "$@"; }

# start_acs NAME [flags...] — uspc-acs on a free port; sets URL_NAME,
# METRICS_NAME, PID_NAME. Logs to $W/acs-NAME.log.
start_acs() {
	local name=$1 pid log=$W/acs-$1.log
	shift
	"$ACS" --db "$DB_URL" --node-id "acs-$name" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
		--cpe-password-key-file "$W/cpe.key" --retry-after 1 --session-idle 3 \
		--log-level debug "$@" >"$log" 2>&1 &
	pid=$!
	track "$pid"
	wait_log "$log" 'CWMP on http://127\.0\.0\.1:[0-9]+/, metrics on 127\.0\.0\.1:[0-9]+' 30
	printf -v "PID_$name" '%s' "$pid"
	printf -v "URL_$name" '%s' "$(grep -oE 'CWMP on http://[0-9.:]+/' "$log" | head -n 1 | sed 's/^CWMP on //')"
	printf -v "METRICS_$name" '%s' "$(grep -oE 'metrics on [0-9.:]+' "$log" | head -n 1 | sed 's/^metrics on //')"
}

# metric NAME COUNTER — a counter of uspc-acs NAME's /metrics.
metric() {
	local m=METRICS_$1
	curl -fsS "http://${!m}/metrics" | awk -v k="uspc_acs_$2" '$1 == k { print $2 }'
}

# peer JSON — one command to the CPE driver; its answer in R (and appended
# to $W/peer.jsonl). Fails when the driver answers ok:false.
R=""
peer() {
	local line
	line=$(jq -c . <<<"$1") || fail "cwmp peer: not JSON: $1"
	printf '%s\n' "$line" >&"${PEER[1]}"
	IFS= read -r -t 90 R <&"${PEER[0]}" || fail "cwmp peer: no answer to $1"
	printf '%s\n' "$R" >>"$W/peer.jsonl"
	jq -e '.ok' <<<"$R" >/dev/null || fail "cwmp peer: $1: $(jq -r .error <<<"$R")"
}

# expect DESCRIPTION JQ — the last answer of the driver satisfies JQ.
expect() {
	if ! jq -e "$2" <<<"$R" >/dev/null 2>&1; then
		jq -c 'del(.. | .body?, .headers?)' <<<"$R" | cut -c1-4000 >&2
		fail "$1: jq '$2' is not true of the driver's answer"
	fi
	log "ok: $1"
}

# sql_is DESCRIPTION SQL WANT
sql_is() {
	local got
	got=$(q "$2")
	[ "$got" = "$3" ] || fail "$1: '$2' gave '$got', wanted '$3'"
	log "ok: $1"
}

# ctl_expect DESCRIPTION COMMAND-JSON JQ — uspctl's result lines (as one
# array, jq -s) satisfy JQ.
ctl_expect() {
	local out=$W/ctl.out
	printf '%s\n' "$2" | uctl >"$out" 2>"$W/ctl.err" || true
	if ! jq -es "$3" "$out" >/dev/null 2>&1; then
		cut -c1-3000 "$out" "$W/ctl.err" >&2
		fail "$1: jq -s '$3' is not true of uspctl's lines for $2"
	fi
	log "ok: $1"
}

# queue COMMAND-JSON — uspctl --no-wait; prints the task id.
queue() {
	local out
	out=$(printf '%s\n' "$1" | uctl --no-wait) || fail "uspctl --no-wait $1: $out"
	jq -er '.task' <<<"$out" || fail "no task id from uspctl for $1: $out"
}

# task_is DESCRIPTION ID JQ — task_status of task ID (its result object)
# satisfies JQ; waits up to 10 s while the task is queued or sent (results
# go through the store writer).
task_is() {
	local t st end=$((SECONDS + 10))
	while :; do
		t=$(printf '{"id":"ts","op":"task_status","tasks":[%s]}\n' "$2" | uctl | jq -c '.result' || true)
		jq -e "$3" <<<"$t" >/dev/null 2>&1 && break
		st=$(jq -r '.state' <<<"$t" 2>/dev/null || true)
		if [ $SECONDS -ge $end ] || { [ "$st" != queued ] && [ "$st" != sent ]; }; then
			cut -c1-3000 <<<"$t" >&2
			fail "$1: task $2: jq '$3' is not true"
		fi
		sleep 0.2
	done
	log "ok: $1"
}

# cookie_of — the session cookie the ACS set in the last driver answer.
cookie_of() { jq -r '[.session.exchanges[].setCookie | select(.)][0] | split(";")[0]' <<<"$R"; }

# post URL BODY-FILE [curl args...] — status code of a raw POST.
post() {
	local url=$1 body=$2
	shift 2
	curl -sS -o "$W/post.body" -D "$W/post.headers" -w '%{http_code}' -H 'Content-Type: text/xml' \
		--data-binary @"$body" "$@" "$url"
}

EID_PFX=ops::00D09E-cwmp-peer-

# ---- start -------------------------------------------------------------------
start_acs a --cr-password-key-file "$W/cr.key" --cr-min-gap 1 --max-body 65536 --session-max 60
start_acs b --auth basic --max-sessions 1
log "acs-a on $URL_a (metrics $METRICS_a), acs-b on $URL_b (metrics $METRICS_b)"
coproc PEER { exec node "$PEER_DIR/acs-scenarios.mjs" --acs "$URL_a" --key-file "$W/cpe.key" \
	--cr-key-file "$W/cr.key" 2>>"$W/peer.log"; }
# shellcheck disable=SC2153 # PEER_PID is set by coproc
track "$PEER_PID"

# ---- 1. Inform → inventory ------------------------------------------------------
log "--- 1. inventory"
for i in 0 1 2 3 4; do
	peer '{"cmd":"new","name":"inv'$i'","opts":{"namespace":"cwmp-1-'$i'","deviceId":{"serial":"INV'$i'"},
    "events":["0 BOOTSTRAP","1 BOOT"],
    "model":{"Device.DeviceInfo.SoftwareVersion":{"value":"2.3.'$i'"},
             "Device.ManagementServer.PeriodicInformInterval":{"value":"123'$i'","type":"unsignedInt","writable":true}}}}'
	crurl=$(jq -r .crUrl <<<"$R")
	peer '{"cmd":"session","name":"inv'$i'"}'
	expect "cwmp-1-$i: the session is done (InformResponse in the CPE's namespace, cwmp:ID echoed, 204)" \
		'.session.outcome == "done" and .session.warnings == [] and
     ([.session.exchanges[] | select(.response.method == "InformResponse")] | length) == 1'
	expect "cwmp-1-$i: the ACS answered in urn:dslforum-org:cwmp-1-$i" \
		'[.session.exchanges[].response.body | select(. != "" and . != null)] | all(contains("urn:dslforum-org:cwmp-1-'$i'"))'
	sql_is "cwmp-1-$i: cwmp_devices has the version, interval and connection-request URL" \
		"SELECT cwmp_version, periodic_inform_interval, conn_req_url FROM cwmp_devices WHERE eid = '${EID_PFX}INV$i'" \
		"1.$i|123$i|$crurl"
done
expect "Digest: the first Inform is challenged (401, Digest), the second accepted" \
	'.session.exchanges[0].response.status == 401 and
   (.session.exchanges[0].response.headers["www-authenticate"] | test("^Digest .*qop=\"auth\""))
   and .session.exchanges[1].response.status == 200'
ctl_expect "show_agent: ops:: endpoint id, DeviceInfo, software version, online" \
	'{"id":"s","op":"show_agent","targets":"'${EID_PFX}INV2'"}' \
	'length == 1 and .[0].ok and (.[0].result | .oui == "00D09E" and .product_class == "cwmp-peer" and
     .serial_number == "INV2" and .manufacturer == "uspc-test" and .software_version == "2.3.2" and
     .hardware_version == "hw-1" and .online == true and .onboarded_at != null)'
ctl_expect "list_agents: the five CPEs" '{"id":"l","op":"list_agents","targets":{"eid":"ops::00D09E-cwmp-peer-INV*"}}' \
	'length == 5 and all(.ok and .result.online)'
sql_is "agents rows of CPEs are protocol 'cwmp'" \
	"SELECT count(*) FROM agents WHERE eid LIKE '${EID_PFX}INV%' AND protocol = 'cwmp'" 5
ctl_expect "notifications: each Inform's events, once each" \
	'{"id":"n","op":"notifications","targets":"'${EID_PFX}INV0'"}' \
	'[.[].result | select(.payload.cwmp_event)] | length == 2 and ([.[].path] | sort) == ["0 BOOTSTRAP","1 BOOT"] and
   all(.kind == "event" and .payload.retry_count == 0)'
ctl_expect "snapshot: the Inform's parameters" \
	'{"id":"s","op":"snapshot","targets":"'${EID_PFX}INV1'","paths":"Device.DeviceInfo."}' \
	'.[0].result["Device.DeviceInfo.SoftwareVersion"].value == "2.3.1"'
peer '{"cmd":"new","name":"nopc","opts":{"deviceId":{"serial":"NOPC1","productClass":""}}}'
peer '{"cmd":"session","name":"nopc"}'
expect "a CPE without ProductClass: session done" '.session.outcome == "done"'
ctl_expect "without ProductClass the endpoint id is os::OUI-Serial" \
	'{"id":"s","op":"show_agent","targets":"os::00D09E-NOPC1"}' \
	'.[0].ok and .[0].result.serial_number == "NOPC1" and .[0].result.online'
log "scenario 1 done at $((SECONDS - T0)) s"

# ---- 2. authentication -----------------------------------------------------------
log "--- 2. auth"
before=$(q "SELECT last_inform_at FROM cwmp_devices WHERE eid = '${EID_PFX}INV0'")
peer '{"cmd":"new","name":"badpw","opts":{"deviceId":{"serial":"INV0"},"password":"not-the-password"}}'
peer '{"cmd":"session","name":"badpw"}'
expect "wrong password: 401 twice, the session fails" \
	'.session.outcome == "auth-failed" and ([.session.exchanges[].response.status] | unique) == [401]'
sql_is "wrong password: the device's row is untouched" \
	"SELECT last_inform_at FROM cwmp_devices WHERE eid = '${EID_PFX}INV0'" "$before"
peer '{"cmd":"new","name":"badnew","opts":{"deviceId":{"serial":"AUTHX"},"password":"not-the-password"}}'
peer '{"cmd":"session","name":"badnew"}'
expect "wrong password of an unknown device: refused" '.session.outcome == "auth-failed"'
sql_is "wrong password: no agents row for the device" \
	"SELECT count(*) FROM agents WHERE eid LIKE '%AUTHX%'" 0
# No device can speak for another: INV1's own (good) credentials, sent
# with another DeviceId.
inv1_user=00D09E-INV1
inv1_pass=$(printf '%s' "$inv1_user" | openssl dgst -sha256 -hmac "$(cat "$W/cpe.key")" -r | cut -c1-24)
notif_before=$(q "SELECT count(*) FROM notifications")
devs_before=$(q "SELECT string_agg(eid || last_inform_at, ',' ORDER BY eid) FROM cwmp_devices")
for victim in VICTIM INV2; do
	peer '{"cmd":"new","name":"spoof-'$victim'","opts":{"deviceId":{"serial":"'$victim'"},
    "username":"'"$inv1_user"'","password":"'"$inv1_pass"'"}}'
	peer '{"cmd":"session","name":"spoof-'$victim'"}'
	expect "INV1's credentials with DeviceId $victim: refused (401)" \
		'.session.outcome == "auth-failed" and .session.exchanges[-1].response.status == 401'
done
peer '{"cmd":"new","name":"spoof-b","opts":{"acsUrl":"'"$URL_b"'","deviceId":{"serial":"VICTIM"},
  "username":"'"$inv1_user"'","password":"'"$inv1_pass"'"}}'
peer '{"cmd":"session","name":"spoof-b"}'
expect "the same over Basic (acs-b): refused" \
	'.session.outcome == "auth-failed" and .session.exchanges[-1].response.status == 401'
sql_is "spoofed Informs: no agents row for the victim" "SELECT count(*) FROM agents WHERE eid LIKE '%VICTIM%'" 0
sql_is "spoofed Informs: no notification stored" "SELECT count(*) FROM notifications" "$notif_before"
sql_is "spoofed Informs: no cwmp_devices row changed" \
	"SELECT string_agg(eid || last_inform_at, ',' ORDER BY eid) FROM cwmp_devices" "$devs_before"
[ "$(metric a auth_failures_total)" -ge 4 ] || fail "acs-a counted $(metric a auth_failures_total) auth failures, wanted >= 4"
peer '{"cmd":"new","name":"basic","opts":{"acsUrl":"'"$URL_b"'","deviceId":{"serial":"BASIC1"}}}'
peer '{"cmd":"session","name":"basic"}'
expect "Basic (acs-b): challenged with Basic, then accepted" \
	'.session.outcome == "done" and (.session.exchanges[0].response.headers["www-authenticate"] | test("^Basic ")) and
   (.session.exchanges[1].request.headers.Authorization | test("^Basic "))'
sql_is "Basic: the device is in the inventory" "SELECT online FROM agents WHERE eid = '${EID_PFX}BASIC1'" t
peer '{"cmd":"new","name":"basicbad","opts":{"acsUrl":"'"$URL_b"'","deviceId":{"serial":"BASIC2"},"password":"nope"}}'
peer '{"cmd":"session","name":"basicbad"}'
expect "Basic with a wrong password: refused" '.session.outcome == "auth-failed"'
sql_is "Basic with a wrong password: nothing stored" "SELECT count(*) FROM agents WHERE eid LIKE '%BASIC2'" 0
log "scenario 2 done at $((SECONDS - T0)) s"

# ---- 3. each uspctl op against a CPE ------------------------------------------------
log "--- 3. ops"
E=${EID_PFX}OPS1
# No connection-request listener: this CPE runs the sessions the test asks for.
peer '{"cmd":"new","name":"ops","opts":{"deviceId":{"serial":"OPS1"},"connReq":false,"namespace":"cwmp-1-2",
  "rebootDelayMs":1000,"downloadDelayMs":1000,"download":{"newVersion":"2.0.0"},
  "model":{"Device.WiFi.SSID.2.Enable":{"value":"false","type":"boolean","writable":true},
           "Device.WiFi.SSID.2.SSID":{"value":"guest","type":"string","writable":true}}}}'
peer '{"cmd":"session","name":"ops"}'
expect "ops: first session" '.session.outcome == "done" and .session.acsRpcs == []'

# A set whose types are partly unknown: SSID.1.Enable and .SSID are not in
# the Inform, PeriodicInformInterval is (unsignedInt).
t_set1=$(queue '{"id":"set1","op":"set","targets":"'$E'","params":{"Device.WiFi.SSID.1.Enable":false,"Device.WiFi.SSID.1.SSID":"office","Device.ManagementServer.PeriodicInformInterval":600}}')
peer '{"cmd":"session","name":"ops"}'
expect "set: types not known are read first (GetParameterValues), then SetParameterValues" \
	'.session.outcome == "done" and .session.acsRpcs == ["GetParameterValues","SetParameterValues"]'
expect "set: the CPE accepted every xsi:type (it faults 9006 on a wrong one) and got the task id as ParameterKey" \
	'[.session.exchanges[] | select(.request.kind == "SetParameterValuesResponse")] | length == 1 and
   (.[0].request.detail.parameterKey == "'"$t_set1"'")'
expect "set: boolean and unsignedInt values carry xsd:boolean / xsd:unsignedInt" \
	'[.session.exchanges[].response | select(.method == "SetParameterValues") | .body][0] |
   test("<Name>Device.WiFi.SSID.1.Enable</Name>\\s*<Value xsi:type=\"xsd:boolean\">false</Value>") and
   test("<Name>Device.ManagementServer.PeriodicInformInterval</Name>\\s*<Value xsi:type=\"xsd:unsignedInt\">600</Value>")'
task_is "set: task done with a set_resp" "$t_set1" \
	'.state == "done" and .result.type == "set_resp" and
   (.result.updated_obj_results | map(.requested_path) | sort) == ["Device.ManagementServer.","Device.WiFi.SSID.1."]'
sql_is "set: the types learned are stored per model (instance numbers as {i})" \
	"SELECT type FROM cwmp_param_types WHERE model_key = '00D09E-cwmp-peer' AND path = 'Device.WiFi.SSID.{i}.Enable'" \
	boolean

# Gets (full and partial names, a * pattern) and a set whose type is now known.
t_get1=$(queue '{"id":"get1","op":"get","targets":"'$E'","paths":["Device.DeviceInfo.SoftwareVersion","Device.WiFi."]}')
t_get2=$(queue '{"id":"get2","op":"get","targets":"'$E'","paths":"Device.WiFi.SSID.*.SSID"}')
# (a value with XML's special characters and non-ASCII text, read back)
t_set2=$(queue '{"id":"set2","op":"set","targets":"'$E'","params":{"Device.WiFi.SSID.2.Enable":true,"Device.WiFi.SSID.2.SSID":"g&<\"u'"'"'>st café ☕"}}')
t_gi=$(queue '{"id":"gi","op":"get_instances","targets":"'$E'","paths":"Device.WiFi.SSID."}')
t_get3=$(queue '{"id":"get3","op":"get","targets":"'$E'","paths":"Device.WiFi.SSID.2.SSID"}')
# 40 paths: two GetParameterValues (32 names at most per RPC)
t_get4=$(queue '{"id":"get4","op":"get","targets":"'$E'","paths":'"$(jq -cn '[range(40) | "Device.DeviceInfo.HardwareVersion"]')"'}')
peer '{"cmd":"session","name":"ops"}'
expect "get, get, set (type known: no read first), get_instances (GetParameterNames), get, get" \
	'.session.outcome == "done" and .session.acsRpcs ==
   ["GetParameterValues","GetParameterValues","SetParameterValues","GetParameterNames","GetParameterValues","GetParameterValues","GetParameterValues"] and
   ([.session.exchanges[] | select(.request.kind == "GetParameterNamesResponse") | .request.detail | {path, nextLevel}] ==
     [{"path":"Device.WiFi.SSID.","nextLevel":false}])'
expect "get: the names asked as given (full, partial), the pattern as its partial path" \
	'[.session.exchanges[] | select(.request.kind == "GetParameterValuesResponse") | .request.detail.names][0:2] ==
   [["Device.DeviceInfo.SoftwareVersion","Device.WiFi."],["Device.WiFi.SSID."]]'
task_is "get (full + partial): the values, the set's included" "$t_get1" \
	'.state == "done" and .result.type == "get_resp" and
   .result.req_path_results[0].resolved_path_results[0].result_params.SoftwareVersion == "1.0.0" and
   (.result.req_path_results[1] | .requested_path == "Device.WiFi." and
     ([.resolved_path_results[] | select(.resolved_path == "Device.WiFi.SSID.1.") | .result_params][0] |
      .SSID == "office" and .Enable == "false"))'
task_is "get (Device.WiFi.SSID.*.SSID): both instances, only SSID" "$t_get2" \
	'.state == "done" and (.result.req_path_results[0].resolved_path_results |
     map({(.resolved_path): .result_params}) | add) ==
   {"Device.WiFi.SSID.1.":{"SSID":"office"},"Device.WiFi.SSID.2.":{"SSID":"guest"}}'
task_is "set with a known type: done" "$t_set2" \
	'.state == "done" and .result.updated_obj_results[0].oper_status.oper_success.updated_inst_results[0].updated_params.Enable == "true"'
task_is "a value with <, &, quotes and UTF-8 reaches the CPE and reads back unchanged" "$t_get3" \
	'.state == "done" and .result.req_path_results[0].resolved_path_results[0].result_params.SSID == "g&<\"u'"'"'>st café ☕"'
task_is "get of 40 paths in two RPCs: 40 results" "$t_get4" \
	'.state == "done" and (.result.req_path_results | length) == 40 and
   all(.result.req_path_results[]; .resolved_path_results[0].result_params.HardwareVersion == "hw-1")'
task_is "get_instances: the two SSID instances" "$t_gi" \
	'.state == "done" and .result.type == "get_instances_resp" and
   [.result.req_path_results[0].curr_insts[].instantiated_obj_path] == ["Device.WiFi.SSID.1.","Device.WiFi.SSID.2."]'
ctl_expect "snapshot: values a get read" '{"id":"s","op":"snapshot","targets":"'$E'","paths":"Device.WiFi.SSID.1."}' \
	'.[0].result["Device.WiFi.SSID.1.SSID"].value == "office"'

# add with params, then delete the instance.
t_add=$(queue '{"id":"add","op":"add","targets":"'$E'","path":"Device.NAT.PortMapping.","params":{"ExternalPort":8080,"Enable":true,"Description":"web"}}')
t_del=$(queue '{"id":"del","op":"delete","targets":"'$E'","paths":["Device.NAT.PortMapping.1."]}')
t_del2=$(queue '{"id":"del2","op":"delete","targets":"'$E'","paths":["Device.NAT.PortMapping.7."]}')
peer '{"cmd":"session","name":"ops"}'
expect "add (AddObject, types of the new instance, SetParameterValues), then delete" \
	'.session.outcome == "done" and
   .session.acsRpcs == ["AddObject","GetParameterValues","SetParameterValues","DeleteObject","DeleteObject"]'
expect "add: the instance's parameters set with their types" \
	'[.session.exchanges[].response | select(.method == "SetParameterValues") | .body][0] |
   test("<Name>Device.NAT.PortMapping.1.ExternalPort</Name>\\s*<Value xsi:type=\"xsd:unsignedInt\">8080</Value>") and
   test("<Name>Device.NAT.PortMapping.1.Enable</Name>\\s*<Value xsi:type=\"xsd:boolean\">true</Value>")'
task_is "add: done, instantiated_path Device.NAT.PortMapping.1." "$t_add" \
	'.state == "done" and .result.created_obj_results[0].oper_status.oper_success.instantiated_path == "Device.NAT.PortMapping.1."'
task_is "delete: done" "$t_del" \
	'.state == "done" and .result.deleted_obj_results[0].oper_status.oper_success.affected_paths == ["Device.NAT.PortMapping.1."]'
task_is "delete of an instance the CPE does not have: failed with its 9005" "$t_del2" \
	'.state == "failed" and .error_code == 9005 and (.error_message | test("DeleteObject"))'

# Notification attributes: active notification on an SSID, read back, then
# a change on the CPE comes in at once as a 4 VALUE CHANGE Inform.
t_spa=$(queue '{"id":"spa","op":"set_attributes","targets":"'$E'","attributes":[{"path":"Device.WiFi.SSID.1.SSID","notification":2}]}')
t_gpa=$(queue '{"id":"gpa","op":"get_attributes","targets":"'$E'","paths":"Device.WiFi.SSID.1.SSID"}')
peer '{"cmd":"session","name":"ops"}'
expect "set_attributes, get_attributes: SetParameterAttributes, GetParameterAttributes" \
	'.session.outcome == "done" and .session.acsRpcs == ["SetParameterAttributes","GetParameterAttributes"]'
task_is "set_attributes: done" "$t_spa" \
	'.state == "done" and .result.type == "set_attributes_resp" and .result.attributes[0].notification == 2'
task_is "get_attributes: the CPE reports active notification" "$t_gpa" \
	'.state == "done" and .result.req_path_results[0].attributes[0].path == "Device.WiFi.SSID.1.SSID" and
   .result.req_path_results[0].attributes[0].notification == 2'
peer '{"cmd":"change","name":"ops","path":"Device.WiFi.SSID.1.SSID","value":"changed-on-cpe"}'
wait_sql "SELECT params->>'SSID' FROM snapshot_objects WHERE eid = '$E' AND obj = 'Device.WiFi.SSID.1.'" changed-on-cpe 10
sql_is "the change came as a 4 VALUE CHANGE event" \
	"SELECT count(*) > 0 FROM notifications WHERE eid = '$E' AND path = '4 VALUE CHANGE'" t
log "ok: active notification: the CPE's change reached the snapshot"
peer '{"cmd":"idle","name":"ops"}'

# Reboot: done on RebootResponse; complete on the "M Reboot" Inform.
t_boot=$(queue '{"id":"boot","op":"operate","targets":"'$E'","command":"Device.Reboot()","command_key":"itest-reboot"}')
peer '{"cmd":"session","name":"ops"}'
expect "Reboot sent with the CommandKey" \
	'.session.acsRpcs == ["Reboot"] and
   ([.session.exchanges[] | select(.request.kind == "RebootResponse")][0].request.detail.commandKey == "itest-reboot")'
sql_is "Reboot: operation_results 'requested' before the CPE rebooted" \
	"SELECT state FROM operation_results WHERE eid = '$E' AND command_key = 'itest-reboot' AND command_name = 'Reboot()'" requested
task_is "Reboot: task done on RebootResponse" "$t_boot" \
	'.state == "done" and .result.operation_results[0].command_key == "itest-reboot"'
peer '{"cmd":"idle","name":"ops"}'
expect "Reboot: the CPE came back with 1 BOOT + M Reboot" \
	'.sessions | length == 1 and .[0].outcome == "done" and
   ([.[0].events[] | .code + "=" + .commandKey] | sort) == ["1 BOOT=","M Reboot=itest-reboot"]'
ctl_expect "Reboot: operation_results complete" '{"id":"o","op":"operation_results","targets":"'$E'","command_key":"itest-reboot"}' \
	'length == 1 and .[0].result.state == "complete" and .[0].result.obj_path == "Device." and .[0].result.command_name == "Reboot()"'

# Download, good then failing (9010).
t_dl=$(queue '{"id":"dl","op":"operate","targets":"'$E'","command":"Device.DeviceInfo.FirmwareImage.1.Download()","command_key":"itest-dl","args":{"URL":"http://127.0.0.1:9/fw.bin","FileSize":1234}}')
peer '{"cmd":"session","name":"ops"}'
expect "Download: sent with FileType, URL, FileSize, CommandKey" \
	'.session.acsRpcs == ["Download"] and
   ([.session.exchanges[] | select(.request.kind == "DownloadResponse")][0].request.detail |
    .FileType == "1 Firmware Upgrade Image" and .URL == "http://127.0.0.1:9/fw.bin" and .FileSize == "1234" and .CommandKey == "itest-dl")'
sql_is "Download (Status 1): operation_results 'requested'" \
	"SELECT state FROM operation_results WHERE eid = '$E' AND command_key = 'itest-dl'" requested
task_is "Download: task done" "$t_dl" \
	'.state == "done" and (.result.operation_results[0] | .command_key == "itest-dl" and .executed_command == "Device.DeviceInfo.FirmwareImage.1.Download()")'
peer '{"cmd":"idle","name":"ops"}'
expect "Download: the CPE reported TransferComplete, answered" \
	'.sessions | length == 1 and .[0].outcome == "done" and
   ([.[0].exchanges[] | select(.request.kind == "TransferComplete")][0].response.method == "TransferCompleteResponse")'
ctl_expect "Download: operation_results complete" '{"id":"o","op":"operation_results","targets":"'$E'","command_key":"itest-dl"}' \
	'[.[].result | select(.command_name == "Download()")] | length == 1 and .[0].state == "complete" and .[0].err_code == null and
   .[0].obj_path == "Device.DeviceInfo.FirmwareImage.1."'
ctl_expect "Download: TransferComplete stored as a notification" \
	'{"id":"n","op":"notifications","targets":"'$E'","path":"TransferComplete"}' \
	'length == 1 and .[0].result.payload.command_key == "itest-dl" and .[0].result.payload.fault_code == 0'
ctl_expect "Download: the new SoftwareVersion from the next Inform" '{"id":"s","op":"show_agent","targets":"'$E'"}' \
	'.[0].result.software_version == "2.0.0"'
peer '{"cmd":"set","name":"ops","opts":{"download":{"faultCode":9010,"faultString":"Download failure: no such file"}}}'
t_dl2=$(queue '{"id":"dl2","op":"operate","targets":"'$E'","command":"Device.DeviceInfo.FirmwareImage.1.Download()","command_key":"itest-dl-bad","args":{"URL":"http://127.0.0.1:9/none.bin"}}')
peer '{"cmd":"session","name":"ops"}'
task_is "Download (to fail): task done on DownloadResponse" "$t_dl2" '.state == "done"'
peer '{"cmd":"idle","name":"ops"}'
ctl_expect "Download failing with 9010: operation_results failed with the fault" \
	'{"id":"o","op":"operation_results","targets":"'$E'","command_key":"itest-dl-bad"}' \
	'[.[].result | select(.command_name == "Download()")] | length == 1 and .[0].state == "failed" and .[0].err_code == 9010 and
   (.[0].err_msg | test("no such file"))'

# FactoryReset: complete on the 0 BOOTSTRAP Inform.
t_fr=$(queue '{"id":"fr","op":"operate","targets":"'$E'","command":"Device.FactoryReset()"}')
peer '{"cmd":"session","name":"ops"}'
expect "FactoryReset sent" '.session.acsRpcs == ["FactoryReset"]'
sql_is "FactoryReset: operation_results 'requested'" \
	"SELECT state FROM operation_results WHERE eid = '$E' AND command_name = 'FactoryReset()'" requested
task_is "FactoryReset: task done" "$t_fr" '.state == "done" and .result.type == "operate_resp"'
peer '{"cmd":"idle","name":"ops"}'
expect "FactoryReset: the CPE came back with 0 BOOTSTRAP" \
	'.sessions | length == 1 and .[0].outcome == "done" and ([.[0].events[].code] | index("0 BOOTSTRAP")) != null'
sql_is "FactoryReset: operation_results complete" \
	"SELECT state FROM operation_results WHERE eid = '$E' AND command_name = 'FactoryReset()'" complete
ctl_expect "task_list: OPS1's tasks, all finished" '{"id":"tl","op":"task_list","targets":"'$E'"}' \
	'length == 16 and ([.[].result | select(.state == "failed") | .op] | sort) == ["delete"] and
   ([.[].result.state] | unique | sort) == ["done","failed"]'
log "scenario 3 done at $((SECONDS - T0)) s"

# ---- 4. CPE faults ---------------------------------------------------------------------
log "--- 4. faults"
E=${EID_PFX}FLT1
peer '{"cmd":"new","name":"flt","opts":{"deviceId":{"serial":"FLT1"},"connReq":false,"namespace":"cwmp-1-3"}}'
peer '{"cmd":"session","name":"flt"}'
t_fget=$(queue '{"id":"fg","op":"get","targets":"'$E'","paths":"Device.DeviceInfo.UpTime"}')
t_fset=$(queue '{"id":"fs","op":"set","targets":"'$E'","params":{"Device.DeviceInfo.SoftwareVersion":"9"}}')
peer '{"cmd":"session","name":"flt","set":{"faults":{"GetParameterValues":{"code":9005,"string":"Invalid parameter name (injected)"}}}}'
expect "faults: both RPCs answered with a Fault, the session goes on to 204" \
	'.session.outcome == "done" and .session.acsRpcs == ["GetParameterValues","SetParameterValues"] and
   ([.session.exchanges[] | select(.request.kind == "Fault") | .request.detail.faultCode] == [9005, 9003])'
task_is "GetParameterValues Fault 9005: task failed with 9005, the message names it" "$t_fget" \
	'.state == "failed" and .error_code == 9005 and (.error_message | test("9005")) and (.error_message | test("injected"))'
task_is "SetParameterValues Fault 9003/9008 on a read-only parameter: failed with 9008 naming it" "$t_fset" \
	'.state == "failed" and .error_code == 9008 and (.error_message | test("Device.DeviceInfo.SoftwareVersion"))'
# (set merges into the CPE's options: a null fault is none)
peer '{"cmd":"set","name":"flt","opts":{"faults":{"GetParameterValues":null}}}'
# a CPE that answers only full names: the partial path is listed with
# GetParameterNames, its parameters read by name
peer '{"cmd":"set","name":"flt","opts":{"quirks":{"noPartialPaths":true}}}'
t_fpart=$(queue '{"id":"fp","op":"get","targets":"'$E'","paths":["Device.WiFi.SSID.","Device.DeviceInfo.SoftwareVersion"]}')
peer '{"cmd":"session","name":"flt"}'
expect "partial path refused (9005): GetParameterNames of it, then GetParameterValues of the names" \
	'.session.outcome == "done" and
   .session.acsRpcs == ["GetParameterValues","GetParameterNames","GetParameterValues"] and
   ([.session.exchanges[] | select(.request.kind == "Fault") | .request.detail.faultCode] == [9005]) and
   ([.session.exchanges[] | select(.request.kind == "GetParameterNamesResponse") | .request.detail.path] == ["Device.WiFi.SSID."])'
task_is "the get answered as from a partial path: the SSID's parameters (Stats too) and the version" "$t_fpart" \
	'.state == "done" and .result.type == "get_resp" and
   ([.result.req_path_results[0].resolved_path_results[].resolved_path] | sort) == ["Device.WiFi.SSID.1.","Device.WiFi.SSID.1.Stats."] and
   (.result.req_path_results[0].resolved_path_results[0].result_params | has("SSID") and has("Enable")) and
   (.result.req_path_results[1].resolved_path_results[0].result_params | has("SoftwareVersion"))'
peer '{"cmd":"set","name":"flt","opts":{"quirks":{"noPartialPaths":false}}}'

# ---- 5. connection requests ---------------------------------------------------------------
log "--- 5. connection requests"
E=${EID_PFX}CR1
peer '{"cmd":"new","name":"cr","opts":{"deviceId":{"serial":"CR1"}}}'
peer '{"cmd":"session","name":"cr"}'
expect "connection requests: boot session" '.session.outcome == "done"'
# uspctl waits: only a connection request can get the task run.
t1=$SECONDS
printf '%s\n' '{"id":"crget","op":"get","targets":"'$E'","paths":"Device.DeviceInfo.SoftwareVersion"}' |
	uctl --timeout 30 >"$W/crget.out" 2>"$W/crget.err" || fail "uspctl get via a connection request: $(cat "$W/crget.out" "$W/crget.err")"
jq -e '.ok and .result.req_path_results[0].resolved_path_results[0].result_params.SoftwareVersion == "1.0.0"' "$W/crget.out" >/dev/null ||
	fail "connection request: uspctl printed $(cat "$W/crget.out")"
log "ok: a waiting uspctl get answered in $((SECONDS - t1)) s through a connection request"
[ $((SECONDS - t1)) -le 10 ] || fail "the connection request took $((SECONDS - t1)) s (wanted at most 10)"
peer '{"cmd":"wait","name":"cr","count":2}'
expect "connection request: the CPE's session carried 6 CONNECTION REQUEST and ran the get" \
	'.sessions | length == 1 and .[0].outcome == "done" and ([.[0].events[].code] == ["6 CONNECTION REQUEST"]) and
   .[0].acsRpcs == ["GetParameterValues"]'
peer '{"cmd":"crlog","name":"cr"}'
expect "connection request: Digest-authenticated GET" \
	'[.cr[] | select(.status == 200)] | length == 1 and .[0].auth == "ok" and .[0].result == "session" and .[0].method == "GET"'
sql_is "connection request: cr_sent_at set, no cr_error" \
	"SELECT cr_sent_at IS NOT NULL, cr_error IS NULL FROM cwmp_devices WHERE eid = '$E'" "t|t"
E=${EID_PFX}CR2
peer '{"cmd":"new","name":"crbad","opts":{"deviceId":{"serial":"CR2"},"crCreds":"wrong"}}'
peer '{"cmd":"session","name":"crbad"}'
t_crbad=$(queue '{"id":"crbad","op":"get","targets":"'$E'","paths":"Device.DeviceInfo.SoftwareVersion"}')
wait_sql "SELECT cr_error IS NOT NULL FROM cwmp_devices WHERE eid = '$E'" t 15
sql_is "wrong connection-request credentials: cr_error says 401" \
	"SELECT cr_error ~ '401' FROM cwmp_devices WHERE eid = '$E'" t
peer '{"cmd":"crlog","name":"crbad"}'
expect "wrong connection-request credentials: the listener refused them, no session" \
	'(.cr | length) >= 1 and all(.cr[]; .status == 401) and any(.cr[]; .auth == "wrong response (password)")'
task_is "wrong connection-request credentials: the task stays queued" "$t_crbad" '.state == "queued"'
printf '{"id":"c","op":"cancel","tasks":[%s]}\n' "$t_crbad" | uctl >/dev/null || fail "cancel of task $t_crbad"
# a CPE behind NAT: no reachable URL, a UDPConnectionRequestAddress (TR-069
# Annex G): woken by a signed UDP datagram
E=${EID_PFX}CRU1
peer '{"cmd":"new","name":"cru","opts":{"deviceId":{"serial":"CRU1"},"connReq":{"http":false},"udpConnReq":true}}'
peer '{"cmd":"session","name":"cru"}'
sql_is "UDP: the Inform's UDPConnectionRequestAddress stored, no URL" \
	"SELECT udp_cr_address ~ '^127\.0\.0\.1:[0-9]+$', coalesce(conn_req_url, '') = '' FROM cwmp_devices WHERE eid = '$E'" "t|t"
t1=$SECONDS
printf '%s\n' '{"id":"cruget","op":"get","targets":"'$E'","paths":"Device.DeviceInfo.SoftwareVersion"}' |
	uctl --timeout 30 >"$W/cruget.out" 2>"$W/cruget.err" || fail "uspctl get via a UDP connection request: $(cat "$W/cruget.out" "$W/cruget.err")"
jq -e '.ok' "$W/cruget.out" >/dev/null || fail "UDP connection request: uspctl printed $(cat "$W/cruget.out")"
log "ok: a waiting uspctl get answered in $((SECONDS - t1)) s through a UDP connection request"
peer '{"cmd":"wait","name":"cru","count":2}'
expect "UDP: the session carried 6 CONNECTION REQUEST" \
	'.sessions | length == 1 and ([.[0].events[].code] == ["6 CONNECTION REQUEST"])'
peer '{"cmd":"crlog","name":"cru"}'
expect "UDP: three datagrams of one signed message: one acted on, the copies ignored (same id)" \
	'[.cr[] | select(.transport == "udp")] | length == 3 and .[0].result == "session" and
   ([.[1:][] | .reason] == ["repeated id","repeated id"])'
E=${EID_PFX}CRU2
peer '{"cmd":"new","name":"crubad","opts":{"deviceId":{"serial":"CRU2"},"connReq":{"http":false},"udpConnReq":true,"crCreds":"wrong"}}'
peer '{"cmd":"session","name":"crubad"}'
t_crubad=$(queue '{"id":"crubad","op":"get","targets":"'$E'","paths":"Device.DeviceInfo.SoftwareVersion"}')
wait_sql "SELECT cr_sent_at IS NOT NULL FROM cwmp_devices WHERE eid = '$E'" t 15
sleep 0.5
peer '{"cmd":"crlog","name":"crubad"}'
expect "UDP with the wrong password: every datagram ignored (bad signature), no session" \
	'(.cr | length) == 3 and all(.cr[]; .result == "ignored" and .reason == "bad signature")'
task_is "UDP with the wrong password: the task stays queued" "$t_crubad" '.state == "queued"'
printf '{"id":"c","op":"cancel","tasks":[%s]}\n' "$t_crubad" | uctl >/dev/null || fail "cancel of task $t_crubad"

# ---- 6. session rules -------------------------------------------------------------------------
log "--- 6. session rules"
E=${EID_PFX}RULES1
peer '{"cmd":"new","name":"rules","opts":{"deviceId":{"serial":"RULES1"},"connReq":false}}'
peer '{"cmd":"session","name":"rules"}'
# each: quirks, then what the transcript must show
while IFS='|' read -r what quirks check; do
	t=$(queue '{"id":"r","op":"get","targets":"'$E'","paths":"Device.DeviceInfo.HardwareVersion"}')
	peer '{"cmd":"session","name":"rules","set":{"quirks":'"$quirks"'}}'
	expect "$what: the session ran the get" '.session.outcome == "done" and .session.acsRpcs == ["GetParameterValues"]'
	expect "$what: transcript" "$check"
	task_is "$what: task done" "$t" '.state == "done" and .result.req_path_results[0].resolved_path_results[0].result_params.HardwareVersion == "hw-1"'
done <<'EOF'
cookie, a new connection per request|{"newConnectionPerRequest":true}|.session.connections >= 3 and ([.session.exchanges[2:][] | .cookie] | all)
no cookies, keep-alive|{"newConnectionPerRequest":false,"noCookies":true}|.session.connections == 1 and ([.session.exchanges[] | .cookie] | any | not)
chunked bodies, chunked empty POST|{"noCookies":false,"chunked":true,"emptyPostVariant":"chunked-empty"}|[.session.exchanges[] | .request.headers["Transfer-Encoding"]] | all(. == "chunked")
empty POST as CRLF|{"chunked":false,"emptyPostVariant":"whitespace"}|[.session.exchanges[] | select(.request.kind == "empty") | .request.body] == ["\r\n"]
EOF
log "scenario 6a done at $((SECONDS - T0)) s"

# Drops mid-session: DROP1 with a set in flight, DROP2 with a get in flight
# (a set queued behind it), INV3 idle after its InformResponse. All three
# sessions end after --session-idle (3 s).
peer '{"cmd":"new","name":"drop1","opts":{"deviceId":{"serial":"DROP1"},"connReq":false}}'
peer '{"cmd":"session","name":"drop1"}'
peer '{"cmd":"new","name":"drop2","opts":{"deviceId":{"serial":"DROP2"},"connReq":false}}'
peer '{"cmd":"session","name":"drop2"}'
t_d1set=$(queue '{"id":"d1","op":"set","targets":"'${EID_PFX}DROP1'","params":{"Device.ManagementServer.PeriodicInformInterval":900}}')
t_d2get=$(queue '{"id":"d2","op":"get","targets":"'${EID_PFX}DROP2'","paths":"Device.DeviceInfo.SoftwareVersion"}')
t_d2set=$(queue '{"id":"d2s","op":"set","targets":"'${EID_PFX}DROP2'","params":{"Device.ManagementServer.PeriodicInformInterval":700}}')
# exchanges: Inform (401), Inform (200), empty POST answered with the RPC: drop
peer '{"cmd":"session","name":"drop1","set":{"dropMidSession":3}}'
expect "DROP1 dropped its connection with SetParameterValues in flight" \
	'.session.outcome == "dropped" and (.session.exchanges[-1].response.body | test(":SetParameterValues[ />]"))'
peer '{"cmd":"session","name":"drop2","set":{"dropMidSession":3}}'
expect "DROP2 dropped its connection with GetParameterValues in flight" \
	'.session.outcome == "dropped" and (.session.exchanges[-1].response.body | test(":GetParameterValues[ />]"))'
peer '{"cmd":"session","name":"inv3","set":{"dropMidSession":2}}'
expect "INV3 went quiet after its InformResponse" \
	'.session.outcome == "dropped" and (.session.exchanges[-1].response.body | test(":InformResponse[ />]"))'
idle_cookie=$(cookie_of)
t_drop=$SECONDS
sql_is "while the dropped sessions last: the tasks are 'sent'" \
	"SELECT string_agg(state::text, ',' ORDER BY id) FROM tasks WHERE id IN ($t_d1set, $t_d2get, $t_d2set)" "sent,sent,sent"
sql_is "while the dropped sessions last: their leases are held by acs-a" \
	"SELECT string_agg(session_node, ',' ORDER BY eid) FROM cwmp_devices WHERE eid IN ('${EID_PFX}DROP1', '${EID_PFX}DROP2', '${EID_PFX}INV3')" \
	"acs-a,acs-a,acs-a"
wait_sql "SELECT state FROM tasks WHERE id = $t_d1set" unknown 15
log "ok: sessions ended $((SECONDS - t_drop)) s after the drops (--session-idle 3)"
task_is "the set in flight ends 'unknown', not sent again" "$t_d1set" \
	'.state == "unknown" and (.error_message | test("outcome unknown")) and (.error_message | test("not sent again"))'
task_is "the get in flight goes back to the queue" "$t_d2get" '.state == "queued" and .attempts == 0'
task_is "the set never sent goes back to the queue" "$t_d2set" '.state == "queued"'
# (the three sessions went idle up to a second apart: each is reaped in its turn)
wait_sql "SELECT count(*) FROM cwmp_devices WHERE eid IN ('${EID_PFX}DROP1', '${EID_PFX}DROP2', '${EID_PFX}INV3') AND session_until IS NULL" 3 10
log "ok: the idle sessions' leases are released"
[ "$(metric a sessions_timed_out_total)" -ge 3 ] || fail "acs-a counted $(metric a sessions_timed_out_total) timed-out sessions, wanted >= 3"
printf '' >"$W/empty"
# (an empty POST with the cookie of a session that ended: 400; without any
# cookie or credentials it is challenged, as libcurl's Digest probe is)
code=$(post "$URL_a" "$W/empty" -H "Cookie: $idle_cookie")
[ "$code" = 400 ] || fail "the cookie of a timed-out session: HTTP $code, wanted 400"
log "ok: the cookie of a timed-out session no longer names a session ($code)"
peer '{"cmd":"session","name":"drop1","set":{"dropMidSession":0}}'
expect "DROP1 opens a new session; the unknown set is not sent again" '.session.outcome == "done" and .session.acsRpcs == []'
peer '{"cmd":"session","name":"drop2","set":{"dropMidSession":0}}'
expect "DROP2 opens a new session: the re-queued get, then the set" \
	'.session.outcome == "done" and .session.acsRpcs == ["GetParameterValues","SetParameterValues"]'
task_is "the re-queued get: done" "$t_d2get" '.state == "done" and .attempts == 1'
task_is "the set behind it: done" "$t_d2set" '.state == "done" and .result.type == "set_resp"'
peer '{"cmd":"session","name":"inv3","set":{"dropMidSession":0}}'
expect "INV3 opens a new session" '.session.outcome == "done"'
log "scenario 6 done at $((SECONDS - T0)) s"

# ---- 7. two uspc-acs processes, one device -------------------------------------------------
log "--- 7. two nodes"
E=${EID_PFX}TN1
peer '{"cmd":"new","name":"tn-a","opts":{"deviceId":{"serial":"TN1"},"connReq":false,"events":["2 PERIODIC"]}}'
peer '{"cmd":"new","name":"tn-b","opts":{"deviceId":{"serial":"TN1"},"connReq":false,"acsUrl":"'"$URL_b"'"}}'
peer '{"cmd":"session","name":"tn-a","set":{"dropMidSession":2}}'
expect "TN1 holds a session on acs-a" '.session.outcome == "dropped"'
hold=$(cookie_of)
sql_is "TN1's lease is acs-a's" "SELECT session_node FROM cwmp_devices WHERE eid = '$E'" acs-a
notif_before=$(q "SELECT count(*) FROM notifications WHERE eid = '$E'")
peer '{"cmd":"session","name":"tn-b"}'
expect "acs-b: 503 with Retry-After (1 to 2 s) for a device in session on acs-a" \
	'.session.outcome == "http-status" and .session.exchanges[-1].response.status == 503 and
   (.session.exchanges[-1].retryAfter | tonumber) as $r | $r >= 1 and $r <= 2'
sql_is "acs-b's refusal stored nothing" "SELECT count(*) FROM notifications WHERE eid = '$E'" "$notif_before"
sql_is "acs-b's refusal left acs-a's lease" "SELECT session_node FROM cwmp_devices WHERE eid = '$E'" acs-a
[ "$(metric b lease_rejections_total)" = 1 ] || fail "acs-b counted $(metric b lease_rejections_total) lease rejections, wanted 1"
code=$(post "$URL_a" "$W/empty" -H "Cookie: $hold")
[ "$code" = 204 ] || fail "TN1's empty POST to acs-a: HTTP $code, wanted 204"
sql_is "after acs-a's 204 the lease is released" "SELECT session_until IS NULL FROM cwmp_devices WHERE eid = '$E'" t
peer '{"cmd":"session","name":"tn-b"}'
expect "acs-b now accepts TN1 (its events re-sent with RetryCount 1)" '.session.outcome == "done" and .session.retryCount == 1'
sql_is "acs-b stored the events it accepted" \
	"SELECT count(*) FROM notifications WHERE eid = '$E' AND path = '1 BOOT'" 1
log "scenario 7 done at $((SECONDS - T0)) s"

# ---- 8. an Inform re-sent: events stored once --------------------------------------------------
log "--- 8. duplicates"
E=${EID_PFX}DUP1
cwmp_events="SELECT count(*) FROM notifications WHERE eid = '$E' AND payload ? 'cwmp_event'"
dups=$(metric a informs_duplicate_total)
peer '{"cmd":"new","name":"dup","opts":{"deviceId":{"serial":"DUP1"},"connReq":false,"events":["1 BOOT","4 VALUE CHANGE"]}}'
peer '{"cmd":"session","name":"dup","set":{"dropMidSession":2}}'
expect "DUP1's first Inform was answered, then the CPE lost the answer" \
	'.session.outcome == "dropped" and (.session.exchanges[-1].response.body | test(":InformResponse[ />]"))'
sql_is "the first Inform's events are stored" "$cwmp_events" 2
peer '{"cmd":"session","name":"dup","set":{"dropMidSession":0}}'
expect "the CPE re-sends the same events with RetryCount 1" \
	'.session.outcome == "done" and .session.retryCount == 1 and
   ([.session.events[].code] == ["1 BOOT","4 VALUE CHANGE"]) and
   ([.session.exchanges[] | select(.request.kind == "Inform")][-1].request.body | test("<RetryCount>1</RetryCount>"))'
sql_is "the re-sent events are not stored again" "$cwmp_events" 2
[ "$(metric a informs_duplicate_total)" = $((dups + 1)) ] || fail "informs_duplicate_total is $(metric a informs_duplicate_total), wanted $((dups + 1))"
peer '{"cmd":"session","name":"dup","events":["2 PERIODIC"]}'
expect "a new event" '.session.outcome == "done" and .session.retryCount == 0'
sql_is "a new Inform's event is stored" "$cwmp_events" 3
log "scenario 8 done at $((SECONDS - T0)) s"

# ---- 9. --max-sessions 1 ------------------------------------------------------------------------
log "--- 9. overload"
peer '{"cmd":"new","name":"ov1","opts":{"deviceId":{"serial":"OV1"},"connReq":false,"acsUrl":"'"$URL_b"'"}}'
peer '{"cmd":"new","name":"ov2","opts":{"deviceId":{"serial":"OV2"},"connReq":false,"acsUrl":"'"$URL_b"'"}}'
peer '{"cmd":"session","name":"ov2"}'
expect "OV2's first boot is stored" '.session.outcome == "done"'
ov2_boots="SELECT count(*) FROM notifications WHERE eid = '${EID_PFX}OV2' AND path = '1 BOOT'"
sql_is "OV2's first boot is stored" "$ov2_boots" 1
peer '{"cmd":"session","name":"ov1","set":{"dropMidSession":2}}'
expect "OV1 holds acs-b's only session" '.session.outcome == "dropped"'
hold=$(cookie_of)
# OV2 boots again: its Inform is refused.
peer '{"cmd":"session","name":"ov2","events":["1 BOOT"]}'
expect "a second session: 503 with Retry-After, connection closed" \
	'.session.outcome == "http-status" and .session.exchanges[-1].response.status == 503 and
   (.session.exchanges[-1].retryAfter | tonumber) >= 1 and .session.exchanges[-1].response.headers.connection == "close"'
[ "$(metric b overload_rejections_total)" = 1 ] || fail "acs-b counted $(metric b overload_rejections_total) overload rejections, wanted 1"
sql_is "the refused Inform stored nothing" "$ov2_boots" 1
code=$(post "$URL_b" "$W/empty" -H "Cookie: $hold")
[ "$code" = 204 ] || fail "OV1's empty POST to acs-b: HTTP $code, wanted 204"
peer '{"cmd":"session","name":"ov2"}'
expect "with OV1's session over, OV2 gets in, re-sending its boot with RetryCount 1" \
	'.session.outcome == "done" and .session.retryCount == 1 and [.session.events[].code] == ["1 BOOT"]'
# The second boot was never stored (refused with 503), but its events equal
# the last stored Inform's and RetryCount is 1: uspc_cwmp_inform takes it
# for a re-send of the first boot.
sql_is "a boot refused with 503 and retried (RetryCount 1) is stored: its events only equal an older, completed Inform's" "$ov2_boots" 2
log "scenario 9 done at $((SECONDS - T0)) s"

# ---- 10. bad input ---------------------------------------------------------------------------------
log "--- 10. bad input"
state_sql="SELECT (SELECT count(*) FROM agents) || '/' || (SELECT count(*) FROM notifications) || '/' ||
  (SELECT count(*) FROM tasks) || '/' || (SELECT string_agg(eid || coalesce(session_node, '-') || last_inform_at, ',' ORDER BY eid) FROM cwmp_devices)"
state_before=$(q "$state_sql")
bad_before=$(metric a bad_requests_total)
envelope() { # envelope BODY-XML [PREAMBLE]
	printf '<?xml version="1.0" encoding="UTF-8"?>\n%s<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">bad-1</cwmp:ID></soap-env:Header><soap-env:Body>%s</soap-env:Body></soap-env:Envelope>' "${2:-}" "$1"
}
inform() { # inform SERIAL-XML
	printf '<cwmp:Inform><DeviceId><Manufacturer>uspc-test</Manufacturer><OUI>00D09E</OUI><ProductClass>cwmp-peer</ProductClass>%s</DeviceId><Event soap-enc:arrayType="cwmp:EventStruct[1]"><EventStruct><EventCode>1 BOOT</EventCode><CommandKey></CommandKey></EventStruct></Event><MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2026-01-01T00:00:00Z</CurrentTime><RetryCount>0</RetryCount><ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[0]"></ParameterList></cwmp:Inform>' "$1"
}
envelope '<cwmp:Inform><DeviceId><OUI>00D09E' >"$W/bad-malformed.xml"
envelope "$(inform '<SerialNumber>&lol9;</SerialNumber>')" '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>' >"$W/bad-laughs.xml"
envelope "$(inform '<SerialNumber>&xxe;</SerialNumber>')" '<!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' >"$W/bad-xxe.xml"
envelope "$(inform "<SerialNumber>BIG1</SerialNumber><!-- $(head -c 70000 /dev/zero | tr '\0' x) -->")" >"$W/bad-big.xml"
envelope "$(inform '<SerialNumber>GZ1</SerialNumber>')" | gzip -c >"$W/bad-gzip.xml.gz"
head -c 10000000 /dev/zero | gzip -c >"$W/bad-bomb.gz"
printf 'not gzip at all' >"$W/bad-notgzip.gz"
envelope '<cwmp:GetRPCMethods></cwmp:GetRPCMethods>' >"$W/bad-first.xml"
envelope "$(inform '<SerialNumber></SerialNumber>')" >"$W/bad-noserial.xml"
envelope "$(inform '<SerialNumber>NOAUTH1</SerialNumber>')" >"$W/noauth.xml"
while IFS='|' read -r what want file args; do
	# shellcheck disable=SC2086 # args: curl flags, split on purpose
	code=$(post "$URL_a" "$W/$file" $args) || fail "$what: curl failed"
	[[ ,$want, == *",$code,"* ]] || fail "$what: HTTP $code, wanted $want"
	! grep -q 'root:' "$W/post.body" || fail "$what: the answer carries /etc/passwd"
	log "ok: $what: $code"
done <<'EOF'
malformed XML|400|bad-malformed.xml|
billion laughs (DOCTYPE with nested entities)|400|bad-laughs.xml|
XXE (SYSTEM entity)|400|bad-xxe.xml|
a body over --max-body|413|bad-big.xml|
a gzip Inform without credentials: inflated, then challenged|401|bad-gzip.xml.gz|-H Content-Encoding:gzip
a gzip bomb (9 KB inflating to 10 MB)|413|bad-bomb.gz|-H Content-Encoding:gzip
a gzip body that does not inflate|400|bad-notgzip.gz|-H Content-Encoding:gzip
Content-Encoding br|415|bad-gzip.xml.gz|-H Content-Encoding:br
a session that does not begin with an Inform|400|bad-first.xml|
an Inform without SerialNumber|400|bad-noserial.xml|
an empty POST outside a session (challenged)|401|empty|
a garbage cookie on an empty POST (no session named: challenged)|401|empty|-H Cookie:uspc-acs-session=../../x;uspc-acs-session=zz
an unknown session id on an empty POST|400|empty|-H Cookie:uspc-acs-session=0123456789abcdef0123456789abcdef
a garbage cookie does not skip authentication|401|noauth.xml|-H Cookie:uspc-acs-session=0123456789abcdef0123456789abcdef
EOF
code=$(curl -sS -o /dev/null -D "$W/get.headers" -w '%{http_code}' "$URL_a")
[ "$code" = 405 ] || fail "GET: HTTP $code, wanted 405"
grep -qi '^allow: POST' "$W/get.headers" || fail "GET: 405 without Allow: POST"
log "ok: GET: 405 with Allow: POST"
alive "$PID_a" || fail "acs-a died on bad input"
curl -fsS "http://$METRICS_a/healthz" >/dev/null || fail "acs-a's /healthz does not answer after the bad input"
sql_is "bad input changed no row" "$state_sql" "$state_before"
[ "$(metric a bad_requests_total)" -ge $((bad_before + 8)) ] ||
	fail "bad_requests_total went from $bad_before to $(metric a bad_requests_total), wanted 8 more at least"
peer '{"cmd":"session","name":"inv4"}'
expect "after the bad input a good Inform is served" '.session.outcome == "done"'
# A CPE on libcurl with CURLAUTH_DIGEST alone (curl --digest) sends its
# first POST as an empty probe without credentials, expecting a 401.
envelope "$(inform '<SerialNumber>INV4</SerialNumber>')" >"$W/inv4.xml"
inv4_pass=$(printf '%s' 00D09E-INV4 | openssl dgst -sha256 -hmac "$(cat "$W/cpe.key")" -r | cut -c1-24)
code=$(post "$URL_a" "$W/inv4.xml" --anyauth -u "00D09E-INV4:$inv4_pass" -c "$W/inv4.jar")
[ "$code" = 200 ] || fail "curl --anyauth Inform: HTTP $code, wanted 200"
code=$(post "$URL_a" "$W/empty" -b "$W/inv4.jar")
[ "$code" = 204 ] || fail "curl --anyauth session's empty POST: HTTP $code, wanted 204"
log "ok: a libcurl-style CPE (Basic|Digest: the body sent, then challenged) gets its session"
# A CPE that compresses its bodies (Content-Encoding gzip, as some do).
gzip -c "$W/inv4.xml" >"$W/inv4.xml.gz"
code=$(post "$URL_a" "$W/inv4.xml.gz" --anyauth -u "00D09E-INV4:$inv4_pass" -H 'Content-Encoding: gzip' -c "$W/inv4.jar")
[ "$code" = 200 ] && grep -q 'InformResponse' "$W/post.body" ||
	fail "a gzip Inform with credentials: HTTP $code, wanted 200 and InformResponse"
code=$(post "$URL_a" "$W/empty" -b "$W/inv4.jar")
[ "$code" = 204 ] || fail "the gzip session's empty POST: HTTP $code, wanted 204"
log "ok: a CPE sending gzip bodies gets its session"
digest_probe() {
	local code
	code=$(post "$URL_a" "$W/inv4.xml" --digest -u "00D09E-INV4:$inv4_pass" -c "$W/inv4.jar") && [ "$code" = 200 ] &&
		code=$(post "$URL_a" "$W/empty" -b "$W/inv4.jar") && [ "$code" = 204 ]
}
digest_probe || fail "a libcurl CPE with Digest alone (an empty, unauthenticated first POST) is not challenged"
log "ok: a libcurl CPE with Digest alone (an empty, unauthenticated first POST) is challenged, then gets its session"
log "scenario 10 done at $((SECONDS - T0)) s"

# ---- 11. TLS ----------------------------------------------------------------------------------------
log "--- 11. TLS"
"$USPC_SOURCE_DIR/tests/integration/make-test-certs.sh" "$W/pki" >/dev/null
"$ACS" --db "$DB_URL" --node-id acs-t --listen 127.0.0.1:0 --metrics-listen "" --auth basic \
	--cpe-password-key-file "$W/cpe.key" --tls-cert "$W/pki/broker.crt" --tls-key "$W/pki/broker.key" \
	>"$W/acs-t.log" 2>&1 &
PID_t=$!
track "$PID_t"
wait_log "$W/acs-t.log" 'CWMP on https://127\.0\.0\.1:[0-9]+/' 30
URL_t=$(grep -oE 'CWMP on https://[0-9.:]+/' "$W/acs-t.log" | head -n 1 | sed 's/^CWMP on //')
envelope "$(inform '<SerialNumber>TLS1</SerialNumber>')" >"$W/tls1.xml"
tls1_pass=$(printf '%s' 00D09E-TLS1 | openssl dgst -sha256 -hmac "$(cat "$W/cpe.key")" -r | cut -c1-24)
code=$(post "$URL_t" "$W/tls1.xml" --cacert "$W/pki/ca.crt" -u "00D09E-TLS1:$tls1_pass" -c "$W/tls1.jar")
[ "$code" = 200 ] && grep -q 'InformResponse' "$W/post.body" ||
	fail "an Inform over HTTPS with Basic: HTTP $code, wanted 200 and InformResponse"
code=$(post "$URL_t" "$W/empty" --cacert "$W/pki/ca.crt" -b "$W/tls1.jar")
[ "$code" = 204 ] || fail "the HTTPS session's empty POST: HTTP $code, wanted 204"
sql_is "the HTTPS CPE is in the inventory" "SELECT count(*) FROM cwmp_devices WHERE eid = '${EID_PFX}TLS1'" 1
! curl -sS -o /dev/null "$URL_t" -X POST --data-binary @"$W/tls1.xml" 2>/dev/null ||
	fail "a client without the test CA accepted uspc-acs's certificate"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary @"$W/tls1.xml" \
	"http://${URL_t#https://}" 2>/dev/null || true)
[ "$code" != 200 ] || fail "plain HTTP to the HTTPS listener was answered 200"
stop_pid "$PID_t" || fail "acs-t exited with status $? on SIGTERM"
log "ok: HTTPS: an Inform and its session with the CA trusted; refused without it; no plain HTTP"

peer '{"cmd":"quit"}'
stop_pid "$PID_a" || fail "acs-a exited with status $? on SIGTERM"
stop_pid "$PID_b" || fail "acs-b exited with status $? on SIGTERM"
! grep -H ' ERROR ' "$W"/acs-*.log || fail "uspc-acs logged errors (above)"
log "PASS in $((SECONDS - T0)) s"
