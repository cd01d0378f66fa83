#!/usr/bin/env bash
# uspc-api over HTTPS (docs/api.md, --tls-cert / --tls-key): with a
# certificate and key it serves TLS only — a client that trusts the CA gets
# /healthz and, with a token, the API; plain HTTP on that port gets no
# answer; a certificate that does not match its key, or a missing file,
# stops it at start with a message naming the flag.
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-uspctl.sh
. "$(dirname "$0")/itest-uspctl.sh"
need curl openssl
API=$USPC_BIN_DIR/uspc-api
new_db "$DB_NAME"
PKI=$W/pki
"$USPC_SOURCE_DIR/tests/integration/make-test-certs.sh" "$PKI" >/dev/null

"$API" --db "$DB_URL" --listen 127.0.0.1:0 --console "" \
  --tls-cert "$PKI/broker.crt" --tls-key "$PKI/broker.key" >"$W/api.log" 2>&1 &
PID_api=$!
track "$PID_api"
wait_log "$W/api.log" 'listening on https://127\.0\.0\.1:[0-9]+' 30
PORT=$(grep -oE 'listening on https://127\.0\.0\.1:[0-9]+' "$W/api.log" | head -n 1 | sed 's/.*://')

code=$(curl -sS --cacert "$PKI/ca.crt" -o "$W/health.out" -w '%{http_code}' "https://127.0.0.1:$PORT/healthz") ||
  fail "HTTPS /healthz failed: $(cat "$W/health.out" 2>/dev/null)"
[ "$code" = 200 ] || fail "HTTPS /healthz: $code"
TOKEN=$(api_token tls-viewer viewer)
code=$(curl -sS --cacert "$PKI/ca.crt" -H "Authorization: Bearer $TOKEN" -o "$W/who.out" -w '%{http_code}' \
  "https://127.0.0.1:$PORT/api/v1/whoami") || fail "HTTPS whoami failed"
[ "$code" = 200 ] && grep -q '"name":"tls-viewer"' "$W/who.out" || fail "HTTPS whoami: $code $(cat "$W/who.out")"
log "HTTPS with the CA: /healthz 200, whoami names the token"

# No certificate check skipped by accident: a client without the CA fails.
curl -sS -o /dev/null "https://127.0.0.1:$PORT/healthz" 2>"$W/noca.err" &&
  fail "a client without the test CA accepted the certificate"
# Plain HTTP on the TLS port: no HTTP answer.
code=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz" 2>/dev/null || true)
[ "$code" != 200 ] || fail "plain HTTP was answered 200 on the TLS port"
log "without the CA: refused; plain HTTP: no answer ($code)"
alive "$PID_api" || fail "uspc-api died"
stop_pid "$PID_api" || fail "uspc-api exited with status $? on SIGTERM"

# Bad TLS settings stop it at start, with the flag named.
set +e
"$API" --db "$DB_URL" --listen 127.0.0.1:0 --tls-cert "$PKI/none.crt" --tls-key "$PKI/broker.key" >"$W/bad1.log" 2>&1
rc1=$?
"$API" --db "$DB_URL" --listen 127.0.0.1:0 --tls-cert "$PKI/broker.crt" --tls-key "$PKI/agent1.key" >"$W/bad2.log" 2>&1
rc2=$?
"$API" --db "$DB_URL" --listen 127.0.0.1:0 --tls-cert "$PKI/broker.crt" >"$W/bad3.log" 2>&1
rc3=$?
set -e
[ $rc1 -ne 0 ] && grep -q -- '--tls-cert' "$W/bad1.log" || fail "a missing certificate file: status $rc1, $(cat "$W/bad1.log")"
[ $rc2 -ne 0 ] && grep -qi 'tls\|certificate' "$W/bad2.log" || fail "a key of another certificate: status $rc2, $(cat "$W/bad2.log")"
[ $rc3 -ne 0 ] && grep -q -- '--tls-key' "$W/bad3.log" || fail "a certificate without key: status $rc3, $(cat "$W/bad3.log")"
# A failed start closes what it opened once: no other descriptor (the
# events thread's database connection, opened meanwhile) is closed under it.
grep -q 'Bad file descriptor' "$W"/bad*.log && fail "a failed start closed another descriptor: $(grep -h 'Bad file' "$W"/bad*.log)"
log "a missing file, a mismatched key, a certificate without key: refused at start"
