#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2086 # jq programs in single quotes, with values (no spaces) spliced in
# test_acs_fleet.sh — TR-069 devices in the fleet engines: a provisioning
# profile and a firmware campaign run by uspc's engines, carried out by
# uspc-acs inside the devices' CWMP sessions (docs/tr069.md, "Firmware
# campaigns" and "Provisioning profiles"). On the shared stack's
# PostgreSQL and broker:
#   - uspc (campaign and profile engines on, short polls, scope walk 2 s);
#   - uspc-acs: Digest, key-derived CPE and connection-request
#     credentials (--cr-password-key-file), --session-idle 3;
#   - three CPEs from the independent driver tests/cwmp-peer (cpe.mjs,
#     its CLI), each with a Digest connection-request listener and no
#     periodic informs, so every session after the first is one uspc-acs
#     woke with a connection request:
#       FL1  runs 2.0.0 already
#       FL2  runs 1.0.0; its Downloads fail at once with FaultCode 9010 (its
#            TransferComplete comes in the session right after the Download,
#            mostly before the engine has read the DownloadResponse)
#       FL3  runs 1.0.0; a Download makes it run the new version
#   - one USP agent (usp-agent-sim) at 1.0.0.
# Profile "acsfl" (selector model = the CPEs' ProductClass, put before any
# CPE exists) sets PeriodicInformInterval and NTPServer1, and NTPServer1's
# notification attribute to active: each CPE's "1 BOOT" Inform starts a
# run; each becomes compliant (profile_status, profile_history with its
# onboarding trigger and the three changes), the values are on the
# devices (the driver's SetParameterValues transcript, a fresh uspctl get,
# the ProvisioningCode stamp) and in the snapshot, the attribute on the
# devices (SetParameterAttributes, a fresh get_attributes).
# Campaign to 2.0.0 over the three CPEs and the USP agent: FL1 skipped
# (already_at_target), FL2 failed (transfer_failed, image class, the
# fault in detail), FL3 succeeded after its TransferComplete and a verify
# Get, the USP agent succeeded through the banks path; the devices'
# timelines, the CWMP Download the CPE got (URL, CommandKey of at most 32
# characters), the TransferComplete in notifications, the inventory's
# software versions.
# Profile "watch" over FL1 and the USP agent, one subscribe and one
# notification step: the USP agent gets the Subscription row and no
# attribute request, FL1 the attribute and no subscription.
# Profile "portmap" over FL2 and FL3, rows found by their keys
# (search expressions, evaluated by uspc-acs on the table it reads): an
# ensure_instance adds its row once (a second run finds it), an
# ensure_absent deletes the row an operator added on FL2.
# A TR-098 CPE, FL5 (InternetGatewayDevice. root, ProductClass
# acsfl-igd): a profile written with Device. paths (a value, a
# notification attribute, a row by its key) becomes compliant, the CPE
# seeing InternetGatewayDevice. names; a campaign upgrades it (Download,
# TransferComplete, the version after its boot); uspctl reads it under
# Device.; the snapshot keeps its own names.
# Needs node (tests/cwmp-peer after npm ci), jq, psql, openssl.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-campaign.sh
. "$(dirname "$0")/itest-campaign.sh"
need psql jq node openssl curl
: "${USPC_SOURCE_DIR:?}"
PEER_DIR=$USPC_SOURCE_DIR/tests/cwmp-peer
[ -d "$PEER_DIR/node_modules/fast-xml-parser" ] ||
	fail "tests/cwmp-peer has no node_modules: run npm ci there (deploy/test.sh does)"
ACS=$USPC_BIN_DIR/uspc-acs
[ -x "$ACS" ] || fail "uspc-acs is not built: no $ACS"
T0=$SECONDS

USPC_ARGS+=(--profile-scope-s 2)
PC=acsfl-gw                  # the CPEs' ProductClass, their inventory model
EPFX="ops::00D09E-$PC-"      # their endpoint ids: ops::OUI-ProductClass-Serial
TARGET=2.0.0
FW_URL="http://127.0.0.1:9/images/$PC-$TARGET.bin"
NTP=ntp.acsfl.example.net
PII=900

new_db "it_$T"
printf 'itest-acsfl-cpe-key-%s-0123456789\n' "$RANDOM" >"$W/cpe.key"
printf 'itest-acsfl-cr-key-%s-0123456789\n' "$RANDOM" >"$W/cr.key"

# ---- helpers ------------------------------------------------------------------

# derive KEYFILE USERNAME — the password docs/tr069.md derives: the first 24
# hex digits of HMAC-SHA256(key, username), the key without its newline.
derive() { printf '%s' "$2" | openssl dgst -sha256 -hmac "$(cat "$1")" -r | cut -c1-24; }

# ok DESCRIPTION — log a passed check.
ok() { log "ok: $1"; }

# sql_is DESCRIPTION SQL WANT
sql_is() {
	local got
	got=$(q "$2")
	[ "$got" = "$3" ] || fail "$1: '$2' gave '$got', wanted '$3'"
	ok "$1"
}

# ctl_expect DESCRIPTION COMMAND-JSON JQ — uspctl's result lines for the
# command (as one array, jq -s) satisfy JQ.
ctl_expect() {
	local out=$W/ctl.out
	printf '%s\n' "$2" | uctl --timeout 40 >"$out" 2>"$W/ctl.err" || true
	if ! jq -es "$3" "$out" >/dev/null 2>&1; then
		cut -c1-4000 "$out" "$W/ctl.err" >&2
		fail "$1: jq -s '$3' is not true of uspctl's lines for $2"
	fi
	ok "$1"
}

# sessions SERIAL — the CPE's session records so far (a JSON array).
sessions() { jq -cs '[.[] | select(.type == "session")]' "$W/cpe-$1.jsonl" 2>/dev/null; }

# cpe_expect DESCRIPTION SERIAL JQ — the CPE's session records (an array)
# satisfy JQ.
cpe_expect() {
	if ! sessions "$2" | jq -e "$3" >/dev/null 2>&1; then
		sessions "$2" | jq -c '.[] | {n, events, outcome, error, acsRpcs,
		  details: [.exchanges[] | {kind: .request.kind, detail: .request.detail, status: .response.status}]}' |
			cut -c1-1500 >&2
		fail "$1: jq '$3' is not true of CPE $2's sessions"
	fi
	ok "$1"
}

# wait_cpe DESCRIPTION SERIAL JQ TIMEOUT — until the CPE's sessions satisfy JQ.
wait_cpe() {
	local end=$((SECONDS + $4))
	while [ $SECONDS -lt $end ]; do
		sessions "$2" | jq -e "$3" >/dev/null 2>&1 && { ok "$1"; return 0; }
		sleep 0.3
	done
	cpe_expect "$1 (after $4 s)" "$2" "$3"
}

# start_cpe SERIAL SCRIPT-JSON [PRODUCT-CLASS] — one CPE of the driver (its CLI), serving
# connection requests; its JSON lines in $W/cpe-SERIAL.jsonl. The CPE and
# connection-request credentials are the derived ones.
#
# All CPEs post to the same URL and are woken together, so their sessions
# overlap: uspc-acs must tell their Digest answers apart (its own nonces,
# acs_digest; libmicrohttpd 0.9.75's were the same for every CPE challenged
# within one second and refused the second one's).
start_cpe() {
	local s=$1 user=00D09E-$1
	printf '%s\n' "$2" >"$W/cpe-$s.json"
	node "$PEER_DIR/cpe.mjs" --acs "$ACS_URL" --product-class "${3:-$PC}" --serial "$s" \
		--username "$user" --password "$(derive "$W/cpe.key" "$user")" \
		--cr-username "$user" --cr-password "$(derive "$W/cr.key" "$user")" \
		--script "$W/cpe-$s.json" --no-bodies --timeout 20000 --serve 600 \
		>"$W/cpe-$s.jsonl" 2>"$W/cpe-$s.log" &
	track $!
	printf -v "PID_cpe_$s" '%s' "$!"
}

# wait_compliant PROFILE COUNT WHAT — until PROFILE is compliant on COUNT
# devices (60 s at most).
wait_compliant() {
	local end=$((SECONDS + 60))
	while [ "$(q "SELECT count(*) FROM profile_agents WHERE name = '$1' AND state = 'compliant'")" != "$2" ]; do
		[ $SECONDS -lt $end ] ||
			fail "after 60 s profile $1 is not compliant on $3: $(q "SELECT eid || '=' || state ||
			  coalesce(' (' || detail || ')', '') FROM profile_agents WHERE name = '$1'" | tr '\n' ' ')"
		sleep 0.5
	done
}

# pstate SERIAL — profile acsfl's state on that CPE.
pstate() { q "SELECT state FROM profile_agents WHERE name = 'acsfl' AND eid = '$EPFX$1'"; }

profile_dump() {
	{
		q "SELECT * FROM profile_runs"
		q "SELECT name, eid, version, state, detail, attempt, retry_at FROM profile_agents ORDER BY name, eid"
		q "SELECT id, eid, name, version, triggers, outcome, detail FROM profile_history ORDER BY id"
		q "SELECT id, eid, op, state, batch_id, error_code, error_message FROM tasks ORDER BY id"
		q "SELECT eid, conn_req_url, cr_sent_at, cr_error, session_node, session_until FROM cwmp_devices"
	} >"$W/profile-dump.txt" 2>&1
}
at_cleanup profile_dump

# ---- start --------------------------------------------------------------------
start_uspc uspc
"$ACS" --db "$DB_URL" --node-id "acs-$T" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
	--cpe-password-key-file "$W/cpe.key" --cr-password-key-file "$W/cr.key" \
	--session-idle 3 --cr-min-gap 1 --cr-timeout 5 --log-level debug >"$W/acs.log" 2>&1 &
track $!
PID_acs=$!
wait_log "$W/acs.log" 'CWMP on http://127\.0\.0\.1:[0-9]+/' 30
ACS_URL=$(grep -oE 'CWMP on http://[0-9.:]+/' "$W/acs.log" | head -n 1 | sed 's/^CWMP on //')
ACS_METRICS=$(grep -oE 'metrics on [0-9.:]+' "$W/acs.log" | head -n 1 | sed 's/^metrics on //')
log "uspc-acs on $ACS_URL, metrics on $ACS_METRICS"
# acs_metric NAME — a counter of uspc-acs's /metrics (uspc_acs_NAME).
acs_metric() { curl -fsS "http://$ACS_METRICS/metrics" | awk -v k="uspc_acs_$1" '$1 == k { print $2 }'; }
start_sim main 1
wait_onboarded 1 60
USP1=$(agent 1)

# ---- the profile, before any CPE exists -------------------------------------------
out=$(printf '%s\n' '{"id":"p","op":"profile_put","name":"acsfl","selector":{"model":"'$PC'"},"priority":10,
  "allow_empty":true,"steps":[{"set":{"Device.ManagementServer.PeriodicInformInterval":'$PII',
  "Device.Time.NTPServer1":"'$NTP'"}},{"notification":{"Device.Time.NTPServer1":"active"}}]}' |
	tr -d '\n' | uctl) || fail "profile_put: $out"
jq -e '.ok and .result.profile == "acsfl" and .result.version == 1 and .result.targets == 0' <<<"$out" >/dev/null ||
	fail "profile_put: $out"
ok "profile acsfl v1 put with no target yet"

# ---- three CPEs boot ------------------------------------------------------------------
start_cpe FL1 '{"model":{"Device.DeviceInfo.SoftwareVersion":{"value":"'$TARGET'"}}}'
start_cpe FL2 '{"model":{"Device.DeviceInfo.SoftwareVersion":{"value":"1.0.0"}},
  "download":{"faultCode":9010,"faultString":"Download failure: image not found","reboot":true},"downloadDelayMs":0}'
start_cpe FL3 '{"model":{"Device.DeviceInfo.SoftwareVersion":{"value":"1.0.0"}},
  "download":{"newVersion":"'$TARGET'","reboot":true},"downloadDelayMs":300}'
for s in FL1 FL2 FL3; do
	wait_cpe "$s: the 1 BOOT session is done" $s \
		'.[0] | .outcome == "done" and ([.events[].code] == ["1 BOOT"])' 20
done
sql_is "the CPEs are in the inventory: cwmp, model = ProductClass, versions from the Inform" \
	"SELECT string_agg(serial_number || ':' || protocol || ':' || model_name || ':' || software_version, ',' ORDER BY eid)
	 FROM agents WHERE eid LIKE '$EPFX%'" \
	"FL1:cwmp:$PC:$TARGET,FL2:cwmp:$PC:1.0.0,FL3:cwmp:$PC:1.0.0"
sql_is "each 1 BOOT was also stored as Device.Boot! (RemoteReboot)" \
	"SELECT count(*) FROM notifications WHERE eid LIKE '$EPFX%' AND path = 'Device.Boot!'
	   AND payload->'event'->'params'->>'Cause' = 'RemoteReboot'" 3

# ---- the profile reaches them ---------------------------------------------------------
wait_compliant acsfl 3 "the 3 CPEs"
log "profile compliant on the 3 CPEs at $((SECONDS - T0)) s"
ctl_expect "profile_status: 3 targeted, 3 compliant, none behind" '{"id":"s","op":"profile_status","name":"acsfl"}' \
	'.[0].ok and (.[0].result | .version == 1 and .behind == 0 and
   .counts == {"targeted":3,"compliant":3,"drifted":0,"failed":0,"not_applicable":0,"contested":0,"pending":0})'
for s in FL1 FL2 FL3; do
	ctl_expect "$s: profile_history: compliant, started by its onboarding, both values set from the defaults" \
		'{"id":"h","op":"profile_history","targets":"'$EPFX$s'","name":"acsfl"}' \
		'([.[] | .result | select(.outcome == "compliant")] | length) >= 1 and
     ([.[].result.triggers[]] | index("onboarding")) != null and
     ([.[].result.changes[] | select(.action == "set" and .result == "ok") | {path, old, new}] | sort_by(.path)) ==
       [{"path":"Device.ManagementServer.PeriodicInformInterval","old":"3600","new":"'$PII'"},
        {"path":"Device.Time.NTPServer1","old":"pool.ntp.org","new":"'$NTP'"}]'
	cpe_expect "$s: the CPE got one SetParameterValues of both, with their xsi:types (unsignedInt, string)" $s \
		'[.[].exchanges[] | select(.request.kind == "SetParameterValuesResponse") | .request.detail.parameters[]
      | select(.name | test("PeriodicInformInterval|NTPServer1"))] | sort_by(.name) ==
     [{"name":"Device.ManagementServer.PeriodicInformInterval","value":"'$PII'","type":"unsignedInt"},
      {"name":"Device.Time.NTPServer1","value":"'$NTP'","type":"string"}]'
	ctl_expect "$s: profile_history: NTPServer1's notification set from off to active" \
		'{"id":"h","op":"profile_history","targets":"'$EPFX$s'","name":"acsfl"}' \
		'[.[].result.changes[] | select(.action == "set_notification") | {path, old, new, result}] ==
       [{"path":"Device.Time.NTPServer1","old":"0","new":"2","result":"ok"}]'
	cpe_expect "$s: the CPE got one SetParameterAttributes" $s \
		'[.[].exchanges[] | select(.request.kind == "SetParameterAttributesResponse")] | length == 1'
	cpe_expect "$s: every session after the first came from a connection request and ended done" $s \
		'length >= 2 and all(.outcome == "done") and (.[1:] | all([.events[].code] | index("6 CONNECTION REQUEST") != null))'
done
sql_is "no connection request failed" "SELECT count(*) FROM cwmp_devices WHERE cr_error IS NOT NULL" 0
[ "$(acs_metric auth_failures_total)" = 0 ] ||
	fail "uspc-acs counted $(acs_metric auth_failures_total) authentication failures of CPEs with the right credentials"
ok "no authentication failure"
# how often two CPEs were in session at once (information: not asserted)
overlaps=$(jq -s '[.[] | select(.type == "session") | ((.startedAt[0:19] + "Z" | fromdate) +
  (.startedAt[20:23] | tonumber) / 1000) as $t | {serial, a: $t, b: ($t + .ms / 1000)}] as $s |
  [$s[] as $x | $s[] | select(.serial > $x.serial and .a < $x.b and $x.a < .b)] | length' "$W"/cpe-FL?.jsonl)
log "sessions of two CPEs overlapping in time: $overlaps pair(s)"
STAMP="uspc:$(printf 'acsfl:1\n' | sha256sum | cut -c1-12)"
ctl_expect "the devices hold the values and the stamp (a fresh GetParameterValues)" \
	'{"id":"g","op":"get","targets":{"model":"'$PC'"},"paths":["Device.ManagementServer.PeriodicInformInterval","Device.Time.NTPServer1","Device.DeviceInfo.ProvisioningCode"]}' \
	'length == 3 and all(.ok) and
   ([.[].result.req_path_results | map(.resolved_path_results[0].result_params | to_entries[0].value)] | unique) ==
     [["'$PII'","'$NTP'","'$STAMP'"]]'
ctl_expect "the snapshot holds the values" \
	'{"id":"s","op":"snapshot","targets":{"model":"'$PC'"},"paths":["Device.ManagementServer.PeriodicInformInterval","Device.Time.NTPServer1"]}' \
	'length == 3 and all(.result["Device.ManagementServer.PeriodicInformInterval"].value == "'$PII'" and
     .result["Device.Time.NTPServer1"].value == "'$NTP'")'
ctl_expect "the devices hold the attribute (a fresh GetParameterAttributes)" \
	'{"id":"ga","op":"get_attributes","targets":{"model":"'$PC'"},"paths":"Device.Time.NTPServer1"}' \
	'length == 3 and all(.ok and .result.req_path_results[0].attributes[0].notification == 2)'
sql_is "profile_paths: the attribute has its owner beside the value's" \
	"SELECT count(*) FROM profile_paths WHERE name = 'acsfl' AND path = 'Device.Time.NTPServer1#notification'" 3
log "profile checks done at $((SECONDS - T0)) s"

# ---- the campaign ------------------------------------------------------------------------
create_campaign '"name":"acsfl-'$TARGET'","targets":["'${EPFX}FL1'","'${EPFX}FL2'","'${EPFX}FL3'","'$USP1'"],
  "firmware":{"url":"'$FW_URL'","version":"'$TARGET'","size":4096},"seed":5,
  "waves":[{"percent":100,"success_percent":50}],
  "retry":{"max_attempts":1,"backoff_s":1},
  "timeouts":{"download_s":20,"activate_s":20,"reboot_s":20,"verify_s":20}'
C=$CAMPAIGN
devq() { q "SELECT $2 FROM campaign_devices WHERE campaign = $C AND eid = '$1'"; }
[ "$(devq "${EPFX}FL1" "state || '/' || reason")" = skipped/already_at_target ] ||
	fail "FL1 (at $TARGET in the inventory) is not skipped already_at_target at creation: $(devq "${EPFX}FL1" "state || '/' || coalesce(reason, '')")"
ok "FL1, at $TARGET, skipped already_at_target at creation"
[ "$(dev_count "state <> 'skipped'")" = 3 ] || fail "not 3 devices to update at creation"
wait_settled 75
summary
log "campaign settled at $((SECONDS - T0)) s"

ctl_expect "campaign_status: finished; 2 succeeded, 1 failed (transfer_failed), 1 skipped" \
	'{"id":"s","op":"campaign_status","campaign":'$C'}' \
	'.[0].ok and (.[0].result | .state == "finished" and .settled and
     .counts.succeeded == 2 and .counts.failed == 1 and .counts.skipped == 1 and .counts.timed_out == 0 and
     .counts.in_progress == 0 and .counts.pending == 0 and .failures == {"transfer_failed":1} and
     .thresholds.image.failed == 1 and (.top_faults[0].detail | test("9010")))'
ctl_expect "campaign_devices: each device's state, reason, class and detail" \
	'{"id":"d","op":"campaign_devices","campaign":'$C'}' \
	'length == 4 and (map({(.agent): (.result | [.state, .reason, .fail_class])}) | add) == {
     "'${EPFX}FL1'": ["skipped","already_at_target",null],
     "'${EPFX}FL2'": ["failed","transfer_failed","image"],
     "'${EPFX}FL3'": ["succeeded",null,null],
     "'$USP1'": ["succeeded",null,null]} and
   (.[] | select(.agent == "'${EPFX}FL2'") | .result.detail | test("FaultCode=9010.*image not found")) and
   (.[] | select(.agent == "'${EPFX}FL3'") | .result | .bank == "Device.DeviceInfo.FirmwareImage.1." and .from_version == "1.0.0" and .attempt == 1)'
ctl_expect "FL3's timeline: inspect, ready, activate (Download), wait for TransferComplete, verify, succeeded" \
	'{"id":"d","op":"campaign_devices","campaign":'$C',"state":"succeeded"}' \
	'[.[] | select(.agent == "'${EPFX}FL3'") | .result.timeline[]] as $t |
   ([$t[] | .state + "/" + .step] == ["downloading/inspect","downloaded/ready","activating/activate",
      "rebooting/wait_boot","verifying/verify","succeeded/"]) and
   ($t[1].note | test("TR-069 device running 1.0.0")) and
   ($t[3].note | test("waiting for the device.s TransferComplete")) and
   ($t[4].note | test("TransferComplete FaultCode=0")) and
   ($t[5].note | test("running '$TARGET'"))'
ctl_expect "FL2's timeline ends at its failed TransferComplete, no verify" \
	'{"id":"d","op":"campaign_devices","campaign":'$C',"state":"failed"}' \
	'length == 1 and ([.[0].result.timeline[] | .state + "/" + .step] | .[0:3] ==
     ["downloading/inspect","downloaded/ready","activating/activate"] and .[-1] == "failed/" and
     index("verifying/verify") == null) and (.[0].result.timeline[-1].note | test("TransferComplete FaultCode=9010"))'
ctl_expect "the USP agent went the banks path (download, check, activate, verify)" \
	'{"id":"d","op":"campaign_devices","campaign":'$C',"state":"succeeded"}' \
	'[.[] | select(.agent == "'$USP1'") | .result.timeline[].step] as $s |
   ($s | index("download")) != null and ($s | index("check")) != null and ($s | index("verify")) != null'

# TR-069's notification attributes have no USP meaning: the daemon fails them
ctl_expect "set_attributes on the USP agent: failed 7001, pointing at subscribe" \
	'{"id":"spa","op":"set_attributes","targets":"'$USP1'","attributes":[{"path":"Device.DeviceInfo.SoftwareVersion","notification":2}]}' \
	'length == 1 and .[0].ok == false and .[0].error.code == "usp_error" and
   .[0].error.usp_err_code == 7001 and (.[0].error.message | test("subscription"))'

# what the CPEs saw
key_of() { devq "$1" "'c$C' || 'd' || id || 'a1a'"; }
KEY3=$(key_of "${EPFX}FL3")
KEY2=$(key_of "${EPFX}FL2")
[ ${#KEY3} -le 32 ] || fail "CommandKey $KEY3 is longer than TR-069's 32 characters"
cpe_expect "FL3: one CWMP Download: firmware file type, the campaign's URL and size, CommandKey $KEY3" FL3 \
	'[.[].exchanges[] | select(.request.kind == "DownloadResponse") | .request.detail] |
   length == 1 and (.[0] | .FileType == "1 Firmware Upgrade Image" and .URL == "'$FW_URL'" and
     .FileSize == "4096" and .CommandKey == "'$KEY3'")'
cpe_expect "FL3: it booted the image: 1 BOOT + 7 TRANSFER COMPLETE + M Download, TransferComplete (FaultCode 0) answered" FL3 \
	'[.[] | select(any(.events[]; .code == "M Download"))] | length == 1 and (.[0] | .outcome == "done" and
     ([.events[].code] | sort) == ["1 BOOT","7 TRANSFER COMPLETE","M Download"] and
     ([.exchanges[] | select(.request.kind == "TransferComplete")] | length == 1 and
       .[0].request.detail == {"commandKey":"'$KEY3'","faultCode":0} and .[0].response.method == "TransferCompleteResponse"))'
cpe_expect "FL3: the verify GetParameterValues came after the TransferComplete" FL3 \
	'(map(any(.events[]; .code == "M Download")) | index(true)) as $i |
   [.[$i:][] | .exchanges[] | select(.request.kind == "GetParameterValuesResponse") | .request.detail.names] |
   index([["Device.DeviceInfo.SoftwareVersion"]]) != null'
cpe_expect "FL2: one Download, no boot, its TransferComplete carried FaultCode 9010" FL2 \
	'([.[].exchanges[] | select(.request.kind == "DownloadResponse")] | length == 1) and
   ([.[] | select(any(.events[]; .code == "M Download")) | [.events[].code] | sort] == [["7 TRANSFER COMPLETE","M Download"]]) and
   ([.[].exchanges[] | select(.request.kind == "TransferComplete") | .request.detail] == [{"commandKey":"'$KEY2'","faultCode":9010}])'
cpe_expect "FL1: no Download (skipped)" FL1 '[.[].exchanges[] | select(.request.kind == "DownloadResponse")] == []'
sql_is "TransferCompletes stored under the campaign's CommandKeys" \
	"SELECT string_agg((payload->>'command_key') || '=' || (payload->>'fault_code'), ',' ORDER BY eid)
	 FROM notifications WHERE eid LIKE '$EPFX%' AND path = 'TransferComplete'" "$KEY2=9010,$KEY3=0"
sql_is "the inventory: FL3 and the USP agent run $TARGET, FL2 still 1.0.0" \
	"SELECT string_agg(eid || '=' || software_version, ',' ORDER BY eid) FROM agents
	 WHERE eid IN ('${EPFX}FL2', '${EPFX}FL3', '$USP1')" \
	"${EPFX}FL2=1.0.0,${EPFX}FL3=$TARGET,$USP1=$TARGET"
sql_is "the campaign's tasks on the CPEs: nothing left queued or sent, none failed" \
	"SELECT count(*) FROM tasks t JOIN agents a USING (eid)
	 WHERE t.batch_id = 'campaign:$C' AND a.protocol = 'cwmp' AND t.state NOT IN ('done')" 0
[ "$(acs_metric auth_failures_total)" = 0 ] ||
	fail "uspc-acs counted $(acs_metric auth_failures_total) authentication failures during the campaign"
sql_is "FL3's boot into the image is stored as Device.Boot! with FirmwareUpdated=true (and no other)" \
	"SELECT string_agg(eid, ',') FROM notifications WHERE eid LIKE '$EPFX%' AND path = 'Device.Boot!'
	   AND payload->'event'->'params'->>'FirmwareUpdated' = 'true'" "${EPFX}FL3"
# That boot started a profile run on FL3 (beside the campaign's verify): the
# values survived the upgrade, so it is compliant again without a Set.
end=$((SECONDS + 30))
until [ "$(q "SELECT count(*) FROM profile_history WHERE eid = '${EPFX}FL3' AND name = 'acsfl'")" -ge 2 ] &&
	[ "$(pstate FL3)" = compliant ]; do
	[ $SECONDS -lt $end ] || fail "after 30 s no second profile verdict on FL3 after its boot: $(pstate FL3)"
	sleep 0.5
done
ctl_expect "FL3: its boot into $TARGET re-ran the profile: compliant, trigger onboarding, nothing to set" \
	'{"id":"h","op":"profile_history","targets":"'${EPFX}FL3'","name":"acsfl"}' \
	'length == 2 and (.[0].result | .outcome == "compliant" and (.triggers | index("onboarding")) != null and
     ([.changes[]? | select(.action == "set")] == []))'
rep=$(fw_tasks_repeated)
[ -z "$rep" ] || fail "firmware commands sent twice: $rep"
ok "no firmware command sent twice"

# ---- one profile for both protocols: subscribe for USP, notification for TR-069 ----------
WATCH_SUB='Device.LocalAgent.Subscription.[ID=="acsfl-watch"].'
out=$(printf '%s\n' '{"id":"p","op":"profile_put","name":"watch","selector":{"eids":["'$USP1'","'${EPFX}FL1'"]},
  "priority":20,"steps":[{"subscribe":{"id":"acsfl-watch","notif_type":"ValueChange",
  "reference_list":"Device.DeviceInfo.SoftwareVersion"}},
  {"notification":{"Device.DeviceInfo.SoftwareVersion":"passive"}}]}' | tr -d '\n' | uctl) ||
	fail "profile_put watch: $out"
wait_compliant watch 2 "FL1 and the USP agent"
ok "profile watch compliant on FL1 and the USP agent"
ctl_expect "watch on the USP agent: the Subscription row added, no attribute" \
	'{"id":"h","op":"profile_history","targets":"'$USP1'","name":"watch"}' \
	'[.[].result.changes[] | {path, action, result}] ==
     [{"path":"'"${WATCH_SUB//\"/\\\"}"'","action":"add","result":"ok"}]'
ctl_expect "the USP agent holds the subscription" \
	'{"id":"g","op":"get","targets":"'$USP1'","paths":"'"${WATCH_SUB//\"/\\\"}"'ReferenceList"}' \
	'.[0].ok and .[0].result.req_path_results[0].resolved_path_results[0].result_params.ReferenceList == "Device.DeviceInfo.SoftwareVersion"'
ctl_expect "watch on FL1: the attribute set to passive, no subscription" \
	'{"id":"h","op":"profile_history","targets":"'${EPFX}FL1'","name":"watch"}' \
	'[.[].result.changes[] | {path, action, old, new, result}] ==
     [{"path":"Device.DeviceInfo.SoftwareVersion","action":"set_notification","old":"0","new":"1","result":"ok"}]'
ctl_expect "FL1 holds the attribute" \
	'{"id":"ga","op":"get_attributes","targets":"'${EPFX}FL1'","paths":"Device.DeviceInfo.SoftwareVersion"}' \
	'.[0].ok and .[0].result.req_path_results[0].attributes[0].notification == 1'
cpe_expect "FL1 was never asked for a subscription row" FL1 \
	'[.[].exchanges[] | select(.request.kind == "AddObjectResponse")] == []'
# ---- rows by their keys on TR-069 devices ----------------------------------------------------
ctl_expect "an operator adds a telnet port mapping on FL2" \
	'{"id":"a","op":"add","targets":"'${EPFX}FL2'","path":"Device.NAT.PortMapping.","params":{"Description":"telnet","ExternalPort":23,"Enable":true}}' \
	'.[0].ok and (.[0].result.created_obj_results[0].oper_status.oper_success.instantiated_path | test("^Device.NAT.PortMapping.[0-9]+.$"))'
out=$(printf '%s\n' '{"id":"p","op":"profile_put","name":"portmap","selector":{"eids":["'${EPFX}FL2'","'${EPFX}FL3'"]},
  "priority":30,"steps":[{"ensure_instance":{"table":"Device.NAT.PortMapping.","keys":{"Description":"uspc-web"},
  "params":{"ExternalPort":8080,"Enable":true}}},
  {"ensure_absent":{"table":"Device.NAT.PortMapping.","match":{"Description":"telnet"}}}]}' | tr -d '\n' | uctl) ||
	fail "profile_put portmap: $out"
wait_compliant portmap 2 "FL2 and FL3"
ok "profile portmap compliant on FL2 and FL3"
PM_WEB='Device.NAT.PortMapping.[Description==\"uspc-web\"].'
PM_TELNET='Device.NAT.PortMapping.[Description==\"telnet\"].'
ctl_expect "portmap on FL2: the row added, the telnet row deleted" \
	'{"id":"h","op":"profile_history","targets":"'${EPFX}FL2'","name":"portmap"}' \
	'[.[].result.changes[] | {action, result}] | sort_by(.action) == [{"action":"add","result":"ok"},{"action":"delete","result":"ok"}]'
ctl_expect "portmap on FL3: the row added, nothing to delete" \
	'{"id":"h","op":"profile_history","targets":"'${EPFX}FL3'","name":"portmap"}' \
	'[.[].result.changes[] | {path, action, result}] == [{"path":"'"$PM_WEB"'","action":"add","result":"ok"}]'
ctl_expect "the devices hold the row, found by its key (a get with a search expression)" \
	'{"id":"g","op":"get","targets":["'${EPFX}FL2'","'${EPFX}FL3'"],"paths":["'"${PM_WEB}"'ExternalPort","'"${PM_TELNET}"'"]}' \
	'length == 2 and all(.ok and (.result.req_path_results[0].resolved_path_results | length == 1 and
     .[0].result_params.ExternalPort == "8080") and .result.req_path_results[1].resolved_path_results == [])'
ctl_expect "profile_reconcile: a second run finds the row and changes nothing" \
	'{"id":"r","op":"profile_reconcile","name":"portmap"}' '.[0].ok'
end=$((SECONDS + 30))
until [ "$(q "SELECT count(*) FROM profile_history WHERE name = 'portmap' AND outcome = 'compliant'")" -ge 4 ]; do
	[ $SECONDS -lt $end ] || fail "after 30 s no second portmap verdict on both CPEs"
	sleep 0.5
done
sql_is "the second runs: compliant without a change" \
	"SELECT count(*) FROM (SELECT DISTINCT ON (eid) eid, entry FROM profile_history
	   WHERE name = 'portmap' ORDER BY eid, id DESC) h WHERE jsonb_array_length(h.entry -> 'changes') = 0" 2
cpe_expect "FL3 got one AddObject of the table" FL3 \
	'[.[].exchanges[] | select(.request.kind == "AddObjectResponse")] | length == 1'

# ---- a TR-098 CPE ---------------------------------------------------------------------------
PC5=acsfl-igd
E5="ops::00D09E-$PC5-FL5"
IGD=InternetGatewayDevice.
start_cpe FL5 '{"root":"'$IGD'","model":{"'$IGD'DeviceInfo.SoftwareVersion":{"value":"1.0.0"}},
  "download":{"newVersion":"'$TARGET'","reboot":true},"downloadDelayMs":300}' "$PC5"
wait_cpe "FL5 (TR-098): the 1 BOOT session is done" FL5 '.[0].outcome == "done"' 20
sql_is "FL5 in the inventory, its version from an InternetGatewayDevice. Inform" \
	"SELECT protocol || ':' || software_version FROM agents WHERE eid = '$E5'" "cwmp:1.0.0"
out=$(printf '%s\n' '{"id":"p","op":"profile_put","name":"igd","selector":{"eids":["'$E5'"]},"priority":40,
  "steps":[{"set":{"Device.ManagementServer.PeriodicInformInterval":'$PII'}},
  {"notification":{"Device.Time.NTPServer1":"active"}},
  {"ensure_instance":{"table":"Device.NAT.PortMapping.","keys":{"Description":"uspc-web"},"params":{"ExternalPort":8080}}}]}' |
	tr -d '\n' | uctl) || fail "profile_put igd: $out"
wait_compliant igd 1 FL5
ok "profile igd (Device. paths) compliant on the TR-098 CPE"
ctl_expect "FL5: profile_history names the paths under Device." \
	'{"id":"h","op":"profile_history","targets":"'$E5'","name":"igd"}' \
	'[.[].result.changes[] | {path, action, result}] | sort_by(.action) ==
     [{"path":"Device.NAT.PortMapping.[Description==\"uspc-web\"].","action":"add","result":"ok"},
      {"path":"Device.ManagementServer.PeriodicInformInterval","action":"set","result":"ok"},
      {"path":"Device.Time.NTPServer1","action":"set_notification","result":"ok"}]'
cpe_expect "FL5 saw only InternetGatewayDevice. names (GetParameterValues, SetParameterValues, AddObject)" FL5 \
	'[.[].exchanges[] | .request | select(.kind == "SetParameterValuesResponse") | .detail.parameters[].name] as $spv |
   [.[].exchanges[] | .request | select(.kind == "GetParameterValuesResponse") | .detail.names[]] as $gpv |
   ($spv | length) >= 2 and ($gpv | length) >= 1 and all($spv[] , $gpv[]; startswith("'$IGD'")) and
   ($spv | index("'$IGD'ManagementServer.PeriodicInformInterval")) != null'
ctl_expect "uspctl reads FL5 under Device. (its values, its attribute)" \
	'{"id":"g","op":"get","targets":"'$E5'","paths":["Device.ManagementServer.PeriodicInformInterval","Device.NAT.PortMapping.[Description==\"uspc-web\"].ExternalPort"]}' \
	'.[0].ok and (.[0].result.req_path_results | .[0].resolved_path_results[0] == {"resolved_path":"Device.ManagementServer.","result_params":{"PeriodicInformInterval":"'$PII'"}} and
     (.[1].resolved_path_results[0] | (.resolved_path | test("^Device.NAT.PortMapping.[0-9]+.$")) and .result_params.ExternalPort == "8080"))'
ctl_expect "the snapshot keeps the device's own names" \
	'{"id":"s","op":"snapshot","targets":"'$E5'","paths":"'$IGD'ManagementServer.PeriodicInformInterval"}' \
	'.[0].result["'$IGD'ManagementServer.PeriodicInformInterval"].value == "'$PII'"'
create_campaign '"name":"acsfl-igd-'$TARGET'","targets":["'$E5'"],
  "firmware":{"url":"'$FW_URL'","version":"'$TARGET'","size":4096},"seed":6,
  "waves":[{"percent":100,"success_percent":50}],"retry":{"max_attempts":1,"backoff_s":1},
  "timeouts":{"download_s":20,"activate_s":20,"reboot_s":20,"verify_s":20}'
wait_settled 60
summary
ctl_expect "campaign on the TR-098 CPE: succeeded (inspect and verify read Device.DeviceInfo.SoftwareVersion)" \
	'{"id":"d","op":"campaign_devices","campaign":'$CAMPAIGN'}' \
	'length == 1 and .[0].result.state == "succeeded" and
   ([.[0].result.timeline[].step] | index("verify")) != null'
sql_is "FL5 runs $TARGET" "SELECT software_version FROM agents WHERE eid = '$E5'" "$TARGET"

sql_is "no task of the profiles failed on the CPEs" \
	"SELECT count(*) FROM tasks t JOIN agents a USING (eid)
	 WHERE t.batch_id LIKE 'profile%' AND a.protocol = 'cwmp' AND t.state <> 'done'" 0

stop_pid "$PID_acs" || fail "uspc-acs exited with status $? on SIGTERM"
log "PASS in $((SECONDS - T0)) s"
