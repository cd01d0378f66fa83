#!/usr/bin/env bash
# test_uspctl_tokens.sh — the HTTP API's bearer tokens from the operator's
# side (token_create, token_list, token_revoke) on a real PostgreSQL:
#   - token_create shows the token once ("uspc_" + 43 base64url
#     characters, its first 12 the row's prefix); token_list and the
#     api_tokens table never hold it (the table holds its SHA-256);
#   - one live token per name (token_exists), a revoked name can be given
#     again; revoke by name or token_id, twice is unknown_token;
#   - an expired token stays listed and holds its name until revoked;
#   - bad fields get bad_field and create nothing; "id" is optional;
#   - token_list: every token, live and revoked, newest first.
# No daemon is needed: tokens are rows uspctl writes and the API reads
# (store_token_check is tested in test_store_tokens_db).
# shellcheck disable=SC2119 # uctl takes its own flags
# shellcheck source=tests/integration/itest-lib.sh
. "$(dirname "$0")/itest-lib.sh"
# shellcheck source=tests/integration/itest-uspctl.sh
. "$(dirname "$0")/itest-uspctl.sh"

new_db "$DB_NAME"

# run NAME — uspctl on $W/NAME.jsonl; RC is its exit status.
run() {
  RC=0
  uctl <"$W/$1.jsonl" >"$W/$1.out" 2>"$W/$1.err" || RC=$?
}
# the api_tokens table, every column, as text
table() { q "SELECT t::text FROM api_tokens t ORDER BY id"; }

# ---- create, then list: the token is shown once ---------------------------
cat >"$W/create.jsonl" <<'EOF'
{"id":"c1","op":"token_create","name":"console","role":"operator"}
{"op":"token_create","name":"ci.deploy-2","role":"admin","expires":86400}
{"id":"v","op":"token_create","name":"grafana_ro","role":"viewer"}
EOF
run create
expect_status 0 $RC "create three tokens"
check_jsonl "three rows, each with its token once" \
  'length == 3 and all(.ok and (.result.token | test("^uspc_[A-Za-z0-9_-]{43}$")) and
     .result.prefix == .result.token[0:12] and .result.revoked_at == null and
     .result.last_used_at == null and (.result.created_by | startswith("uspctl:")) and
     (has("agent") | not) and (.result | has("hash") | not))' "$W/create.out"
check_jsonl "ids: given, and null when not" \
  '.[0].id == "c1" and .[1].id == null and .[2].id == "v"' "$W/create.out"
check_jsonl "roles and expiry" \
  '.[0].result.role == "operator" and .[0].result.expires_at == null and
   .[1].result.role == "admin" and .[1].result.expires_at != null and
   .[2].result.role == "viewer"' "$W/create.out"
check_jsonl "three different tokens" '[.[].result.token] | unique | length == 3' "$W/create.out"
mapfile -t TOKENS < <(jq -r '.result.token' "$W/create.out")
ID_CONSOLE=$(jq -r 'select(.id == "c1") | .result.token_id' "$W/create.out")

echo '{"id":"l","op":"token_list"}' >"$W/list.jsonl"
run list
expect_status 0 $RC "token_list"
check_jsonl "token_list: every token, newest first, no secret" \
  'length == 3 and ([.[].result.token_id] == ([.[].result.token_id] | sort | reverse)) and
   all(.id == "l" and (.result | has("token") | not) and (.result | has("hash") | not)) and
   ([.[].result.name] == ["grafana_ro", "ci.deploy-2", "console"])' "$W/list.out"
table >"$W/table.txt"
[ "$(wc -l <"$W/table.txt")" = 3 ] || fail "api_tokens: $(cat "$W/table.txt")"
for tok in "${TOKENS[@]}"; do
  # nothing past the 12-character prefix is stored or listed anywhere
  secret=${tok:12}
  ! grep -qF -- "$secret" "$W/table.txt" "$W/list.out" "$W/list.err" "$W/create.err" ||
    fail "a token's text is in the table or a listing"
  [ "$(q "SELECT count(*) FROM api_tokens WHERE hash = sha256('$tok'::bytea)")" = 1 ] ||
    fail "api_tokens does not hold the SHA-256 of $tok"
done
log "ok: the table holds SHA-256 and prefix only"

# ---- one live token per name; revoke; the name is free again ---------------
cat >"$W/names.jsonl" <<EOF
{"id":"dup","op":"token_create","name":"console","role":"admin"}
{"id":"r1","op":"token_revoke","name":"console"}
{"id":"r2","op":"token_revoke","name":"console"}
{"id":"again","op":"token_create","name":"console","role":"admin"}
{"id":"r3","op":"token_revoke","token_id":$ID_CONSOLE}
{"id":"r4","op":"token_revoke","token_id":999999}
{"id":"r5","op":"token_revoke","name":"nobody"}
EOF
run names
expect_status 1 $RC "duplicates and revokes of nothing live fail"
check_jsonl "a live name: token_exists, nothing created" \
  '.[] | select(.id == "dup") | .line == 1 and .error.code == "token_exists" and
     (.error.message | test("console"))' "$W/names.out"
check_jsonl "revoke by name: the row with revoked_at" \
  '.[] | select(.id == "r1") | .ok and .result.name == "console" and .result.revoked_at != null and
     .result.token_id == '"$ID_CONSOLE"' and (.result | has("token") | not)' "$W/names.out"
check_jsonl "revoke again, by name or id, and of unknown ones: unknown_token" \
  '[.[] | select(.id == "r2" or .id == "r3" or .id == "r4" or .id == "r5") | .error.code] ==
     ["unknown_token", "unknown_token", "unknown_token", "unknown_token"]' "$W/names.out"
check_jsonl "a revoked name may be given again" \
  '.[] | select(.id == "again") | .ok and .result.role == "admin" and .result.token_id > '"$ID_CONSOLE" "$W/names.out"
[ "$(q "SELECT count(*) FROM api_tokens WHERE name = 'console'")" = 2 ] || fail "two console rows expected"
[ "$(q "SELECT count(*) FROM api_tokens WHERE name = 'console' AND revoked_at IS NULL")" = 1 ] ||
  fail "one live console token expected"

# ---- an expired token is listed and holds its name ------------------------
echo '{"id":"brief","op":"token_create","name":"brief","role":"viewer","expires":1}' >"$W/brief.jsonl"
run brief
expect_status 0 $RC "a token that expires in 1 s"
sleep 2
cat >"$W/expired.jsonl" <<'EOF'
{"id":"l","op":"token_list"}
{"id":"taken","op":"token_create","name":"brief","role":"viewer"}
{"id":"rev","op":"token_revoke","name":"brief"}
{"id":"new","op":"token_create","name":"brief","role":"viewer"}
EOF
run expired
expect_status 1 $RC "an expired token's name is taken"
check_jsonl "listed, expired, not revoked" \
  '.[] | select(.id == "l" and .result.name == "brief") | .result.expires_at != null and .result.revoked_at == null' \
  "$W/expired.out"
[ "$(q "SELECT count(*) FROM api_tokens WHERE name = 'brief' AND expires_at < now()")" = 1 ] ||
  fail "the brief token has not expired"
check_jsonl "its name is taken until it is revoked (the message says it expired)" \
  '(.[] | select(.id == "taken") | .error.code == "token_exists" and (.error.message | test("expired"))) and
   (.[] | select(.id == "rev") | .ok and .result.revoked_at != null) and
   (.[] | select(.id == "new") | .ok and .result.expires_at == null)' "$W/expired.out"

# ---- bad fields: nothing is created ---------------------------------------
before=$(q "SELECT count(*) FROM api_tokens")
cat >"$W/bad.jsonl" <<'EOF'
{"id":"b1","op":"token_create","name":"has space","role":"admin"}
{"id":"b2","op":"token_create","name":"x","role":"root"}
{"id":"b3","op":"token_create","name":"x","role":"admin","expires":0}
{"id":"b4","op":"token_create","name":"x","role":"admin","secret":"mine"}
{"id":"b5","op":"token_create","role":"admin"}
{"id":"b6","op":"token_create","name":"x"}
{"id":"b7","op":"token_revoke"}
{"id":"b8","op":"token_revoke","token_id":1,"name":"console"}
{"id":"b9","op":"token_list","targets":{"all":true}}
{"id":"b10","op":"token_create","name":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","role":"admin"}
{"id":"b11","op":"token_create","name":"x","role":"admin","expires":"1d"}
EOF
run bad
expect_status 1 $RC "bad fields"
check_jsonl "each bad line: bad_field, with its line number" \
  'length == 11 and all(.ok == false and .error.code == "bad_field" and .line > 0)' "$W/bad.out"
[ "$(q "SELECT count(*) FROM api_tokens")" = "$before" ] || fail "a bad line created a token"
grep -q "11 commands, 11 results: 0 ok, 11 failed" "$W/bad.err" || fail "summary: $(cat "$W/bad.err")"
log PASS
