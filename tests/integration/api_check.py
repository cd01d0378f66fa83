#!/usr/bin/python3
"""api_check.py — uspc-api against docs/api.md, as a real HTTP client
(http.client and raw sockets from Python's standard library; Debian's
python3-jsonschema for the OpenAPI document). tests/integration/test_api.sh
starts the stack, the daemon, the agents and four uspc-api processes and
runs this with:

  API_PORT, API_SLOW_PORT (--timeout 2 --max-per-ip 3), API_LIMITED_PORT
      (--max-connections 3 --max-per-ip 10 --max-events-clients 1): uspc-api
      on 127.0.0.1
  API_TERM_PORT, API_TERM_PID: one more (--db-connections 1), stopped
      here with SIGTERM
  API_TOKEN_VIEWER, _OPERATOR, _ADMIN: tokens from uspctl token_create;
      API_TOKEN_DOOMED (a viewer's, name API_DOOMED_NAME) is revoked here
      with uspctl token_revoke
  API_AGENTS: the online agents' Endpoint IDs (space-separated);
      API_OFFLINE_AGENT: one in the inventory that never connects;
      API_ROGUE: a sender with a rejected record
  API_DB_URL, API_USPCTL: the test's database and uspctl (psql is on PATH)
  API_DOCS: docs/api.md (its route table is the list of routes checked)
  API_CHECK_METRICS: tests/support/check-metrics.py
  API_DAEMON_METRICS: http://ADDRESS of the uspc daemon's /metrics
  API_WORK_DIR: where scrapes are kept

The checks, in order. Each prints "ok: ..." or "FAIL: ..." and stops at
its first failure; the next one runs all the same (so one run shows every
way the server is off) and the exit status is 1 if any failed.
  contract   docs/api.md's route table and the OpenAPI document name the
             same operations
  auth       401 (WWW-Authenticate) without a token or with a bad one; for
             every route of the table, a token one role too low gets 403
             (no token: 401) and nothing changes in the database; a viewer's
             Set is 403 and inserts no task, an operator's runs; an operator
             cannot put a profile or create a token, an admin can
  tokens     a token revoked with uspctl is refused on the very next
             request; tokens created, listed and revoked through the API; an
             expired token is refused; token_exists, unknown_token
  bad input  malformed JSON, unknown field, wrong type, bad targets, 2 MiB
             bodies (with Content-Length and chunked), a non-JSON
             Content-Type, an unknown query parameter, an unknown route, a
             wrong method (Allow), a bad %-escape: each its 4xx JSON error,
             and the database unchanged
  routes     every route of the table answers as documented at least once:
             fleet, versions, agents (selectors), agent, snapshot,
             notifications, rejections; tags added, listed, removed; task
             submission (wait 0: 202 and queued lines; wait 10: 200 and the
             agent's answers), GET /tasks/{id}?wait=, task lists and their
             filters; cancel (an offline agent's task stays queued: 200
             canceled, the same again; a done one 409 not_cancelable); wait
             1 for an offline agent (expired with the wait; with expires
             3600 a timeout line, the task kept queued); a waiting request for
             1,001 agents (400); an operate with its operation result;
             campaigns (plan, create, list, status, devices, pause, resume,
             abort, retry_failed and their 409s); profiles (put, status,
             list, plan, reconcile, history, profile-paths, delete); whoami,
             /healthz, /metrics, the OpenAPI document, the console's files
  events     GET /api/v1/events: a finished task arrives as `event: task`,
             on one agent's stream (?agent=) the object GET /tasks/{id}
             shows, on every agent's its brief form; ?agent= gets only that
             agent's events; a campaign's change and a notification arrive
  paging     agents 3 at a time following "next" as "after" while agents
             are inserted before and after the cursor: every agent of the
             start once, none twice; tasks with "before" likewise
  limits     12 KiB of headers are served, 24 and 40 KiB (over 16 KiB) get a
             4xx JSON error; a slowloris client is cut within 5 s (--timeout 2) while
             another is served; past --max-per-ip a connection gets 503, idle
             ones are cut after --timeout; the connection past --max-connections gets
             503 with Retry-After, and is served once an idle one closes;
             the event stream past --max-events-clients is 503
             too_many_clients; every database connection busy for 5 s:
             503 unavailable; SIGTERM closes event streams, answers a
             waiting request within 10 s, exits and closes the port
  metrics    uspc-api's /metrics passes the strict checker, counts exactly
             this script's GET /api/v1/agents 200s, no route label holds an
             Endpoint ID, has every family docs/api.md lists (type, labels),
             and its fleet gauge of online agents reaches the
             database's count within 20 s; the daemon's /metrics, scraped
             during a fan-out to every agent, passes the checker
  openapi    every response received above (method, route, status, body)
             is one the OpenAPI document gives for the operation, its body
             valid against the schema given for it; every operation and
             path of the document was exercised, each with a 2xx answer
"""
import copy
import datetime
import http.client
import json
import os
import queue
import re
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import jsonschema

E = os.environ
PORT = int(E["API_PORT"])
SLOW_PORT = int(E["API_SLOW_PORT"])
LIMITED_PORT = int(E["API_LIMITED_PORT"])
TERM_PORT = int(E["API_TERM_PORT"])
TERM_PID = int(E["API_TERM_PID"])
VIEWER = E["API_TOKEN_VIEWER"]
OPERATOR = E["API_TOKEN_OPERATOR"]
ADMIN = E["API_TOKEN_ADMIN"]
DOOMED = E["API_TOKEN_DOOMED"]
DOOMED_NAME = E["API_DOOMED_NAME"]
AGENTS = E["API_AGENTS"].split()
OFFLINE = E["API_OFFLINE_AGENT"]
ROGUE = E["API_ROGUE"]
DB_URL = E["API_DB_URL"]
USPCTL = E["API_USPCTL"]
DOCS = E["API_DOCS"]
CHECK_METRICS = E["API_CHECK_METRICS"]
DAEMON_METRICS = E["API_DAEMON_METRICS"]
WORK = E.get("API_WORK_DIR", "/tmp")
A1, A2, A3, A4, A5 = AGENTS[:5]
HOST = "127.0.0.1"
T0 = time.monotonic()

METHODS = ("GET", "POST", "PUT", "DELETE")


# ---- reporting ----------------------------------------------------------------------


class CheckFailed(Exception):
    pass


def die(msg):
    raise CheckFailed(msg)


def ok(msg):
    print(f"ok: {msg} [{time.monotonic() - T0:.1f} s]", flush=True)


def expect(cond, msg):
    if not cond:
        die(msg)


# ---- HTTP ----------------------------------------------------------------------------


class Resp:
    """One answer: status, headers (lower-case names), body bytes."""

    def __init__(self, port, method, target, status, headers, body):
        self.port, self.method, self.target = port, method, target
        self.path = target.split("?", 1)[0]
        self.status, self.headers, self.body = status, headers, body
        self.ctype = headers.get("content-type", "")
        self._json = None

    @property
    def json(self):
        if self._json is None:
            try:
                self._json = json.loads(self.body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                die(f"{self}: the body is not JSON ({e})")
        return self._json

    def __str__(self):
        b = self.body[:400].decode("utf-8", "replace")
        return f"{self.method} {self.target} (port {self.port}) -> {self.status} {b!r}"


RECORDS = []  # every Resp received: the OpenAPI check and the metric count read them


def call(method, target, token=None, body=None, ctype="application/json", headers=None,
         port=PORT, timeout=30):
    """One request on a fresh connection; body: bytes, str, or a JSON value."""
    h = {}
    if token:
        h["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        if ctype:
            h["Content-Type"] = ctype
    h.update(headers or {})
    c = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        c.request(method, target, body=data, headers=h)
        r = c.getresponse()
        payload = r.read()
        hdrs = {}
        for k, v in r.getheaders():
            k = k.lower()
            hdrs[k] = f"{hdrs[k]}, {v}" if k in hdrs else v
        resp = Resp(port, method, target, r.status, hdrs, payload)
    except (OSError, http.client.HTTPException) as e:
        die(f"{method} {target} (port {port}): no answer: {e!r}")
    finally:
        c.close()
    RECORDS.append(resp)
    return resp


def get(target, token=VIEWER, **kw):
    return call("GET", target, token, **kw)


def want(r, status, what):
    if r.status != status:
        die(f"{what}: wanted {status}, got: {r}")
    if status != 204 and r.status < 300 and not r.target.startswith("/metrics") \
            and not r.target.startswith("/api/v1/events") and r.path.startswith("/api/"):
        expect(r.ctype.startswith("application/json"),
               f"{what}: Content-Type '{r.ctype}', wanted application/json: {r}")
    return r.json if r.ctype.startswith("application/json") else r.body


def want_error(r, status, code, what):
    """A documented error: the status, JSON {"error":{"code","message"}}."""
    expect(r.status == status, f"{what}: wanted {status} {code}, got: {r}")
    expect(r.ctype.startswith("application/json"),
           f"{what}: an error with Content-Type '{r.ctype}', wanted application/json: {r}")
    e = r.json.get("error") if isinstance(r.json, dict) else None
    expect(isinstance(e, dict) and isinstance(e.get("message"), str) and e["message"],
           f"{what}: the body is not {{\"error\":{{\"code\",\"message\"}}}}: {r}")
    if code is not None:
        expect(e.get("code") == code, f"{what}: error code '{e.get('code')}', wanted '{code}': {r}")
    return r.json


def want_page(r, what):
    b = want(r, 200, what)
    expect(isinstance(b, dict) and isinstance(b.get("items"), list) and "next" in b
           and (b["next"] is None or isinstance(b["next"], str)),
           f"{what}: not a list page {{\"items\":[...],\"next\":...}}: {r}")
    return b


def q_(target, /, **params):
    """target?params, each value %-encoded (lists repeat the name)."""
    parts = []
    for k, v in params.items():
        for x in v if isinstance(v, list) else [v]:
            parts.append(f"{k}={urllib.parse.quote(str(x), safe='')}")
    return target + ("?" + "&".join(parts) if parts else "")


def seg(s):
    return urllib.parse.quote(str(s), safe="")


def raw(port, data, read_timeout=10.0, send_slowly=False):
    """Send data on a raw socket (from a thread, so that an early answer is
    read while the rest is still being sent) and parse the answer; returns
    a Resp (status 0 when the server closed without answering)."""
    s = socket.create_connection((HOST, port), timeout=read_timeout)
    send_err = []

    def sender():
        try:
            for i in range(0, len(data), 65536):
                s.sendall(data[i:i + 65536])
        except OSError as e:
            send_err.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    buf = b""
    end = time.monotonic() + read_timeout
    try:
        while time.monotonic() < end:
            r, _, _ = select.select([s], [], [], 0.2)
            if not r:
                if complete(buf):
                    break
                continue
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            if complete(buf):
                break
    finally:
        s.close()
        t.join(5)
    first = data.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    resp = parse_raw(port, first[0], first[1] if len(first) > 1 else "?", buf)
    RECORDS.append(resp)
    return resp


def split_head(buf):
    i = buf.find(b"\r\n\r\n")
    if i < 0:
        return None, None
    lines = buf[:i].decode("latin-1").split("\r\n")
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return lines[0], (hdrs, buf[i + 4:])


def dechunk(b):
    out, i = b"", 0
    while True:
        j = b.find(b"\r\n", i)
        if j < 0:
            return None
        n = int(b[i:j].split(b";")[0] or b"0", 16)
        if n == 0:
            return out
        if len(b) < j + 2 + n + 2:
            return None
        out += b[j + 2:j + 2 + n]
        i = j + 2 + n + 2


def complete(buf):
    status, rest = split_head(buf)
    if not status:
        return False
    hdrs, body = rest
    if "content-length" in hdrs:
        return len(body) >= int(hdrs["content-length"])
    if "chunked" in hdrs.get("transfer-encoding", ""):
        return dechunk(body) is not None
    return False


def parse_raw(port, method, target, buf):
    status, rest = split_head(buf)
    if not status:
        return Resp(port, method, target, 0, {}, buf)
    hdrs, body = rest
    if "chunked" in hdrs.get("transfer-encoding", ""):
        body = dechunk(body) or body
    elif "content-length" in hdrs:
        body = body[:int(hdrs["content-length"])]
    code = int(status.split(" ")[1])
    return Resp(port, method, target, code, hdrs, body)


# ---- the database and uspctl -----------------------------------------------------------


def q(sql):
    p = subprocess.run(["psql", "-XAtq", DB_URL, "-c", sql], capture_output=True, text=True,
                       timeout=30)
    if p.returncode != 0:
        die(f"psql '{sql}': {p.stderr.strip()}")
    return p.stdout.strip()


# What a refused request must not change: tasks (but the engines' own, which
# campaigns and profiles insert by themselves), campaigns, profile
# versions, tokens, the inventory and its tags.
FINGERPRINT = """SELECT concat_ws(' ',
  (SELECT count(*) FROM tasks WHERE batch_id IS NULL OR
     (batch_id <> 'profile' AND batch_id NOT LIKE 'campaign:%')),
  (SELECT count(*) FROM tasks WHERE state = 'canceled'),
  (SELECT count(*) || '/' || string_agg(state, ',' ORDER BY id) FROM campaigns),
  (SELECT count(*) FROM profiles),
  (SELECT count(*) || '/' || count(revoked_at) FROM api_tokens),
  (SELECT count(*) FROM agents),
  (SELECT md5(coalesce(string_agg(eid || '=' || array_to_string(tags, ','), ';' ORDER BY eid), ''))
     FROM agents))"""


def fingerprint():
    return q(FINGERPRINT)


def user_tasks():
    return int(q("SELECT count(*) FROM tasks WHERE batch_id IS NULL OR "
                 "(batch_id <> 'profile' AND batch_id NOT LIKE 'campaign:%')"))


def uctl(cmd):
    p = subprocess.run([USPCTL, "--db", DB_URL, "--no-progress", "-q"], input=json.dumps(cmd) + "\n",
                       capture_output=True, text=True, timeout=60)
    lines = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    expect(lines, f"uspctl {cmd}: no output (status {p.returncode}): {p.stderr.strip()}")
    return lines


# ---- the contract --------------------------------------------------------------------------

ROUTES = []  # (method, pattern, role) from docs/api.md's table
DOC = None  # the OpenAPI document


def check_contract():
    global DOC
    row = re.compile(r"^\| `(GET|POST|PUT|DELETE) (/[^`]*)` \| (none|viewer|operator|admin) \|")
    with open(DOCS, encoding="utf-8") as f:
        for line in f:
            m = row.match(line)
            if m:
                ROUTES.append((m.group(1), m.group(2), m.group(3)))
    expect(len(ROUTES) >= 30, f"{DOCS}: only {len(ROUTES)} routes read from its table")
    r = get("/api/v1/openapi.json")
    DOC = want(r, 200, "GET /api/v1/openapi.json")
    expect(isinstance(DOC, dict) and str(DOC.get("openapi", "")).startswith("3.0.")
           and isinstance(DOC.get("paths"), dict),
           f"GET /api/v1/openapi.json: not an OpenAPI 3.0 document: {r}")
    doc_ops = {(m.upper(), p) for p, ops in DOC["paths"].items() for m in ops
               if m.upper() in METHODS}
    table = {(m, p) for m, p, _ in ROUTES}
    expect(table == doc_ops,
           "docs/api.md's route table and the OpenAPI document differ: only in the table "
           f"{sorted(table - doc_ops)}, only in the document {sorted(doc_ops - table)}")
    ok(f"docs/api.md's {len(ROUTES)} routes are the OpenAPI document's operations")


# ---- auth and roles ------------------------------------------------------------------------------

SAMPLE = {"eid": A1, "tag": "nosuch", "id": "999999", "campaign": "nosuch", "action": "pause",
          "name": "nosuch"}


def concrete(pattern):
    return re.sub(r"\{(\w+)\}", lambda m: seg(SAMPLE[m.group(1)]), pattern)


def check_auth():
    r = get("/healthz", token=None)
    b = want(r, 200, "GET /healthz without a token")
    expect(isinstance(b, dict) and b.get("status") == "ok", f"GET /healthz: {r}")
    r = get("/", token=None)
    want(r, 200, "GET / (the console) without a token")
    expect(r.ctype.startswith("text/html"), f"GET /: Content-Type {r.ctype}")
    for what, hdrs in (("no token", {}), ("a malformed token", {"Authorization": "Bearer nope"}),
                       ("an unknown token", {"Authorization": "Bearer uspc_" + "A" * 43}),
                       ("Basic credentials", {"Authorization": "Basic dXNlcjpwYXNz"})):
        for target in ("/api/v1/fleet", "/metrics"):
            r = call("GET", target, headers=hdrs)
            want_error(r, 401, "unauthorized", f"GET {target} with {what}")
            expect(r.headers.get("www-authenticate", "").startswith("Bearer"),
                   f"GET {target} with {what}: no WWW-Authenticate: Bearer: {r.headers}")
    ok("401 unauthorized with WWW-Authenticate: Bearer without a token or with a bad one; "
       "/healthz and the console need none")

    before = fingerprint()
    n = 0
    for method, pattern, role in ROUTES:
        target = concrete(pattern)
        body = {} if method in ("POST", "PUT") else None
        low = {"none": [], "viewer": [None], "operator": [VIEWER],
               "admin": [VIEWER, OPERATOR]}[role]
        for tok in low:
            r = call(method, target, tok, body=body)
            what = f"{method} {pattern} ({role}) with {'no token' if tok is None else 'a lower role'}"
            if tok is None:
                want_error(r, 401, "unauthorized", what)
                expect("www-authenticate" in r.headers, f"{what}: no WWW-Authenticate")
            else:
                want_error(r, 403, "forbidden", what)
            n += 1
    after = fingerprint()
    expect(before == after, f"refused requests changed the database: '{before}' -> '{after}'")
    ok(f"{n} requests below a route's role: 401 without a token, 403 forbidden one role too "
       "low; nothing changed in the database")

    set_body = {"op": "set", "targets": A1, "params": {"Device.Time.NTPServer1": "ntp.api.example"}}
    n0 = user_tasks()
    r = call("POST", "/api/v1/tasks", VIEWER, body=set_body)
    want_error(r, 403, "forbidden", "a viewer's POST /api/v1/tasks (set)")
    expect(user_tasks() == n0, f"a viewer's refused Set inserted tasks: {n0} -> {user_tasks()}")
    r = call("POST", "/api/v1/tasks", OPERATOR, body=dict(set_body, wait=10))
    b = want(r, 200, "an operator's POST /api/v1/tasks (set, wait 10)")
    lines = b.get("results") if isinstance(b, dict) else None
    expect(isinstance(lines, list) and len(lines) == 1 and lines[0].get("ok") is True
           and lines[0].get("agent") == A1 and lines[0]["result"].get("type") == "set_resp",
           f"an operator's Set: not one ok set_resp line for {A1}: {r}")
    expect(user_tasks() == n0 + 1, f"an operator's Set: tasks {n0} -> {user_tasks()}, wanted +1")
    ok("a viewer's Set is 403 and inserts no task; an operator's runs (200, set_resp)")

    before = fingerprint()
    r = call("PUT", "/api/v1/profiles/api-ntp", OPERATOR, body=PROFILE)
    want_error(r, 403, "forbidden", "an operator's PUT /api/v1/profiles/api-ntp")
    r = call("POST", "/api/v1/tokens", OPERATOR, body={"name": "api-op-made", "role": "admin"})
    want_error(r, 403, "forbidden", "an operator's POST /api/v1/tokens")
    expect(fingerprint() == before, "an operator's refused profile or token changed the database")
    r = call("PUT", "/api/v1/profiles/api-ntp", ADMIN, body=PROFILE)
    b = want(r, 200, "an admin's PUT /api/v1/profiles/api-ntp")
    expect(b.get("profile") == "api-ntp" and b.get("version") == 1,
           f"PUT /api/v1/profiles/api-ntp: not profile api-ntp version 1: {r}")
    expect(q("SELECT count(*) FROM profiles") == "1", "an admin's profile is not in table profiles")
    ok("an operator cannot put a profile or create a token (403); an admin can put a profile")


# ---- tokens ---------------------------------------------------------------------------------------


def whoami(token):
    return get("/api/v1/whoami", token=token)


def check_tokens():
    r = whoami(DOOMED)
    b = want(r, 200, "GET /api/v1/whoami")
    tid = int(q(f"SELECT id FROM api_tokens WHERE name = '{DOOMED_NAME}' AND revoked_at IS NULL"))
    expect(b == {"token_id": tid, "name": DOOMED_NAME, "role": "viewer"},
           f"GET /api/v1/whoami: wanted token_id {tid}, name {DOOMED_NAME}, role viewer: {r}")
    lines = uctl({"id": "r", "op": "token_revoke", "name": DOOMED_NAME})
    expect(lines[0].get("ok") is True, f"uspctl token_revoke: {lines}")
    r = whoami(DOOMED)
    want_error(r, 401, "unauthorized", "the request right after uspctl token_revoke")
    ok("whoami names the token; a token revoked with uspctl is refused (401) on the next request")

    r = call("POST", "/api/v1/tokens", ADMIN, body={"name": "api-made", "role": "operator"})
    expect(r.status in (200, 201), f"an admin's POST /api/v1/tokens: {r}")
    made = r.json
    expect(re.fullmatch(r"uspc_[A-Za-z0-9_-]{43}", str(made.get("token")))
           and made.get("name") == "api-made" and made.get("role") == "operator"
           and isinstance(made.get("token_id"), int),
           f"POST /api/v1/tokens: no token, name, role, token_id: {r}")
    r = whoami(made["token"])
    b = want(r, 200, "whoami with the API's new token")
    expect(b.get("role") == "operator" and b.get("token_id") == made["token_id"], f"whoami: {r}")
    b = want_page(get("/api/v1/tokens", ADMIN), "GET /api/v1/tokens")
    names = [t.get("name") for t in b["items"]]
    expect("api-made" in names and "api-admin" in names and DOOMED_NAME in names,
           f"GET /api/v1/tokens: not every token: {names}")
    expect(all("token" not in t for t in b["items"]), "GET /api/v1/tokens shows a token's text")
    for t in b["items"]:
        iso(t, "created_at")
    expect(made["token"][12:] not in get("/api/v1/tokens", ADMIN).body.decode(),
           "GET /api/v1/tokens holds a token's secret part")
    r = call("POST", "/api/v1/tokens", ADMIN, body={"name": "api-made", "role": "viewer"})
    want_error(r, 409, "token_exists", "POST /api/v1/tokens with a live token's name")
    r = call("DELETE", f"/api/v1/tokens/{made['token_id']}", ADMIN)
    b = want(r, 200, "DELETE /api/v1/tokens/{id}")
    expect(b.get("token_id") == made["token_id"] and b.get("revoked_at"),
           f"DELETE /api/v1/tokens/{{id}}: not the token, revoked: {r}")
    want_error(whoami(made["token"]), 401, "unauthorized", "the token revoked through the API")
    r = call("DELETE", f"/api/v1/tokens/{made['token_id']}", ADMIN)
    want_error(r, 404, "unknown_token", "DELETE /api/v1/tokens/{id} again")
    r = call("DELETE", "/api/v1/tokens/999999", ADMIN)
    want_error(r, 404, "unknown_token", "DELETE /api/v1/tokens/999999")

    t0 = time.monotonic()
    r = call("POST", "/api/v1/tokens", ADMIN, body={"name": "api-brief", "role": "viewer",
                                                    "expires": 2})
    expect(r.status in (200, 201) and r.json.get("expires_at"),
           f"POST /api/v1/tokens with expires 2: {r}")
    brief = r.json["token"]
    if time.monotonic() - t0 < 1.5:
        want(whoami(brief), 200, "a token before it expires")
    time.sleep(max(0.0, t0 + 2.6 - time.monotonic()))
    want_error(whoami(brief), 401, "unauthorized", "a token 2.6 s after it was made with expires 2")
    ok("admin tokens through the API: create (the token once), list (never the text), revoke "
       "(refused at once), token_exists, unknown_token; an expired token is refused")


# ---- routes ------------------------------------------------------------------------------------------

PROFILE = {"selector": {"eid": None}, "priority": 10,
           "steps": [{"set": {"Device.Time.NTPServer2": "ntp2.api.example"}}]}


def check_fleet_and_agents():
    total = int(q("SELECT count(*) FROM agents"))
    online = int(q("SELECT count(*) FROM agents WHERE online"))
    r = get("/api/v1/fleet")
    b = want(r, 200, "GET /api/v1/fleet")
    a = b.get("agents", {})
    expect(a.get("total") == total and a.get("online") == online
           and a.get("offline") == total - online,
           f"GET /api/v1/fleet: agents {a}, the database: {total} total, {online} online")
    expect(isinstance(b.get("rejections"), dict) and b["rejections"].get("rows", 0) >= 1,
           f"GET /api/v1/fleet: no rejection counted: {r}")
    expect(isinstance(b.get("models"), list) and isinstance(b.get("recent_onboardings"), list)
           and isinstance(b.get("tasks"), dict), f"GET /api/v1/fleet: fields missing: {r}")

    b = want_page(get("/api/v1/versions"), "GET /api/v1/versions")
    expect(sum(v.get("devices", 0) for v in b["items"]) == total,
           f"GET /api/v1/versions: devices add up to {[v.get('devices') for v in b['items']]}, "
           f"wanted {total}")
    b = want_page(get(q_("/api/v1/versions", online="true")), "GET /api/v1/versions?online=true")
    expect(sum(v.get("devices", 0) for v in b["items"]) == online,
           f"GET /api/v1/versions?online=true: {b}, wanted {online} devices")

    b = want_page(get("/api/v1/agents"), "GET /api/v1/agents")
    eids = [x.get("eid") for x in b["items"]]
    db = q("SELECT eid FROM agents ORDER BY eid").split("\n")
    expect(eids == db and b["next"] is None,
           f"GET /api/v1/agents: {eids} (next {b['next']}), wanted every agent by Endpoint ID {db}")
    b = want_page(get(q_("/api/v1/agents", online="false")), "GET /api/v1/agents?online=false")
    expect([x["eid"] for x in b["items"]] == [OFFLINE] and b["items"][0]["online"] is False,
           f"GET /api/v1/agents?online=false: {b}")
    b = want_page(get(q_("/api/v1/agents", online="true")), "GET /api/v1/agents?online=true")
    expect(len(b["items"]) == online and all(x["online"] for x in b["items"]),
           f"GET /api/v1/agents?online=true: {len(b['items'])} items, wanted {online}")
    b = want_page(get(q_("/api/v1/agents", eid=A2[:-1] + "?")), "GET /api/v1/agents?eid=glob")
    glob = [e for e in db if e[:-1] == A2[:-1]]
    expect([x["eid"] for x in b["items"]] == glob, f"GET /api/v1/agents?eid={A2[:-1]}?: {b}")
    b = want_page(get(q_("/api/v1/agents", eid="proto::nobody-*")),
                  "GET /api/v1/agents (a selector matching nothing)")
    expect(b == {"items": [], "next": None}, f"a selector matching nothing: not an empty page: {b}")
    model = q(f"SELECT model_name FROM agents WHERE eid = '{A1}'")
    b = want_page(get(q_("/api/v1/agents", model=model, limit=1000)), "GET /api/v1/agents?model=")
    expect(len(b["items"]) == online, f"GET /api/v1/agents?model={model}: {len(b['items'])} items")

    r = get(f"/api/v1/agents/{seg(A1)}")
    b = want(r, 200, "GET /api/v1/agents/{eid}")
    expect(b.get("eid") == A1 and b.get("online") is True and isinstance(b.get("subscriptions"), list)
           and isinstance(b.get("tasks"), dict), f"GET /api/v1/agents/{{eid}}: {r}")
    r = get(f"/api/v1/agents/{A1}")  # the ':' unescaped is one segment too
    expect(r.status == 200 and r.json.get("eid") == A1, f"GET /api/v1/agents/{A1} unescaped: {r}")
    want_error(get(f"/api/v1/agents/{seg('proto::nobody')}"), 404, "unknown_agent",
               "GET /api/v1/agents/{eid} of an unknown agent")

    # the snapshot holds what Gets returned: one first
    r = submit({"op": "get", "targets": A1, "paths": "Device.DeviceInfo.", "wait": 10})
    expect(r.status == 200 and r.json["results"][0].get("ok"), f"a Get of Device.DeviceInfo.: {r}")
    r = get(q_(f"/api/v1/agents/{seg(A1)}/snapshot", path="Device.DeviceInfo."))
    b = want(r, 200, "GET /api/v1/agents/{eid}/snapshot?path=")
    expect(isinstance(b, dict) and b and all(k.startswith("Device.DeviceInfo.") for k in b)
           and all(isinstance(v, dict) and "value" in v and "updated_at" in v for v in b.values()),
           f"GET /api/v1/agents/{{eid}}/snapshot?path=Device.DeviceInfo.: {r}")
    sv = q(f"SELECT software_version FROM agents WHERE eid = '{A1}'")
    expect(b.get("Device.DeviceInfo.SoftwareVersion", {}).get("value") == sv,
           f"snapshot: SoftwareVersion is not the inventory's {sv}: {r}")
    b = want(get(q_(f"/api/v1/agents/{seg(A1)}/snapshot",
                    path=["Device.DeviceInfo.SoftwareVersion", "Device.DeviceInfo.ModelName"])),
             200, "GET snapshot with two paths")
    expect(sorted(b) == ["Device.DeviceInfo.ModelName", "Device.DeviceInfo.SoftwareVersion"],
           f"GET snapshot?path=A&path=B: keys {sorted(b)}")

    b = want_page(get(f"/api/v1/agents/{seg(A1)}/notifications"),
                  "GET /api/v1/agents/{eid}/notifications")
    expect(b["items"] and all(n.get("eid") == A1 for n in b["items"]),
           f"GET /api/v1/agents/{{eid}}/notifications: none, or another agent's: {b}")
    ids = [n["id"] for n in b["items"]]
    expect(ids == sorted(ids, reverse=True), f"notifications not newest first: {ids}")
    iso(b["items"][0], "received_at")
    b = want_page(get(q_(f"/api/v1/agents/{seg(A1)}/notifications", kind="event", limit=1)),
                  "GET notifications?kind=event&limit=1")
    expect(len(b["items"]) == 1 and b["items"][0]["kind"] == "event"
           and b["next"] == str(b["items"][0]["id"]),
           f"notifications?kind=event&limit=1: one event and next = its id: {b}")
    b = want_page(get(q_("/api/v1/notifications", agent=A2, limit=1000)),
                  "GET /api/v1/notifications?agent=")
    expect(b["items"] and all(n["eid"] == A2 for n in b["items"]),
           f"GET /api/v1/notifications?agent={A2}: {b}")
    b = want_page(get("/api/v1/notifications"), "GET /api/v1/notifications")
    expect(len({n["eid"] for n in b["items"]}) >= 2, f"GET /api/v1/notifications: {b}")
    b = want_page(get(q_("/api/v1/notifications", agent=A1, since=3600)),
                  "GET /api/v1/notifications?since=3600")
    expect(b["items"], f"GET /api/v1/notifications?agent={A1}&since=3600: none: {b}")
    b = want_page(get(q_("/api/v1/notifications", agent=A1, since=7200, until=3600)),
                  "GET /api/v1/notifications?since=7200&until=3600")
    expect(b["items"] == [], f"notifications received 1-2 hours ago (there are none): {b}")

    b = want_page(get(q_("/api/v1/rejections", sender=ROGUE)), "GET /api/v1/rejections?sender=")
    expect(len(b["items"]) == 1 and b["items"][0].get("reason") == "identity_mismatch"
           and b["items"][0].get("sender") == ROGUE, f"GET /api/v1/rejections?sender={ROGUE}: {b}")
    b = want_page(get(q_("/api/v1/rejections", reason="identity_mismatch", since=3600)),
                  "GET /api/v1/rejections?reason=&since=")
    expect(any(x["sender"] == ROGUE for x in b["items"]), f"rejections?reason=: {b}")
    ok("fleet, versions, agents (selectors, sorted), agent, snapshot (paths), notifications, "
       "rejections answer as documented; unknown_agent is 404")


def check_tag_add():
    r = call("POST", f"/api/v1/agents/{seg(A2)}/tags", OPERATOR, body={"tags": ["api-beta"]})
    b = want(r, 200, "POST /api/v1/agents/{eid}/tags")
    expect(b == {"tags": ["api-beta"]}, f"POST tags: wanted {{\"tags\":[\"api-beta\"]}}: {r}")
    r = call("POST", f"/api/v1/agents/{seg(A2)}/tags", OPERATOR, body={"tags": "api-gamma"})
    b = want(r, 200, "POST /api/v1/agents/{eid}/tags with one tag as a string")
    expect(sorted(b.get("tags", [])) == ["api-beta", "api-gamma"], f"POST tags (a string): {r}")
    expect(q(f"SELECT array_to_string(ARRAY(SELECT unnest(tags) ORDER BY 1), ',') FROM agents "
             f"WHERE eid = '{A2}'") == "api-beta,api-gamma", "the tags are not in the inventory")
    want_error(call("POST", f"/api/v1/agents/{seg('proto::nobody')}/tags", OPERATOR,
                    body={"tags": ["x"]}), 404, "unknown_agent", "POST tags of an unknown agent")
    ok("POST /api/v1/agents/{eid}/tags: an array and a string of tags, {\"tags\"} afterwards; "
       "unknown_agent 404")


def check_tag_list_and_remove():
    # tagged with uspctl, so that this does not hang on POST .../tags
    lines = uctl({"id": "t", "op": "tag", "targets": A1, "tags": ["api-list", "api-gone"]})
    expect(lines[0].get("ok") is True, f"uspctl tag: {lines}")
    b = want_page(get("/api/v1/tags"), "GET /api/v1/tags")
    expect({"tag": "api-list", "agents": 1, "online": 1} in b["items"]
           and [t["tag"] for t in b["items"]] == sorted(t["tag"] for t in b["items"]),
           f"GET /api/v1/tags: wanted {{\"tag\":\"api-list\",\"agents\":1,\"online\":1}}, by tag: {b}")
    b = want_page(get(q_("/api/v1/agents", tag="api-list")), "GET /api/v1/agents?tag=")
    expect([x["eid"] for x in b["items"]] == [A1] and "api-list" in b["items"][0]["tags"],
           f"GET /api/v1/agents?tag=api-list: {b}")
    r = call("DELETE", f"/api/v1/agents/{seg(A1)}/tags/api-gone", OPERATOR)
    b = want(r, 200, "DELETE /api/v1/agents/{eid}/tags/{tag}")
    expect(b == {"tags": ["api-list"]}, f"DELETE tags/api-gone: wanted the tags afterwards: {r}")
    expect(q(f"SELECT array_to_string(tags, ',') FROM agents WHERE eid = '{A1}'") == "api-list",
           "DELETE tags/api-gone: the inventory still has it")
    ok("the tag list, the tag selector, DELETE /api/v1/agents/{eid}/tags/{tag}")


def submit(body, token=OPERATOR):
    return call("POST", "/api/v1/tasks", token, body=body)


TASKS = {}  # what check_submit made, for the lists


ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:\d\d)?|Z)$")


def iso(obj, *keys):
    """The keys of obj hold ISO-8601 times with a time zone."""
    for k in keys:
        expect(isinstance(obj.get(k), str) and ISO.match(obj[k]),
               f"'{k}' is not an ISO-8601 time with a time zone: {obj.get(k)!r} in {obj}")


def check_submit():
    get_body = {"op": "get", "targets": [A1, A2], "paths": ["Device.DeviceInfo.UpTime"]}
    r = submit(dict(get_body, wait=0))
    b = want(r, 202, "POST /api/v1/tasks with wait 0")
    lines = b.get("results", [])
    expect(len(lines) == 2 and {x.get("agent") for x in lines} == {A1, A2}
           and all(x.get("ok") is True and isinstance(x.get("task"), int)
                   and x.get("result", {}).get("state") == "queued" and "id" not in x
                   for x in lines),
           f"POST /api/v1/tasks wait 0: wanted a queued line with a task per agent, no id: {r}")
    TASKS["batch"] = lines[0]["result"].get("batch")
    t1 = TASKS["t1"] = {x["agent"]: x["task"] for x in lines}[A1]
    b = want(get(f"/api/v1/tasks/{t1}?wait=10"), 200, "GET /api/v1/tasks/{id}?wait=10")
    expect(b.get("id") == t1 and b.get("eid") == A1 and b.get("state") == "done"
           and b.get("op") == "get" and b.get("result", {}).get("type") == "get_resp",
           f"GET /api/v1/tasks/{t1}?wait=10: not done with a get_resp: {b}")
    b = want(get(f"/api/v1/tasks/{t1}"), 200, "GET /api/v1/tasks/{id}")
    expect(b.get("id") == t1 and b.get("state") == "done", f"GET /api/v1/tasks/{t1}: {b}")
    iso(b, "created_at", "finished_at", "expires_at")
    r = submit(dict(get_body, targets=A3, wait=10))
    b = want(r, 200, "POST /api/v1/tasks with wait 10")
    lines = b.get("results", [])
    expect(len(lines) == 1 and lines[0].get("ok") is True and lines[0].get("agent") == A3
           and lines[0].get("result", {}).get("type") == "get_resp"
           and "UpTime" in json.dumps(lines[0]["result"]),
           f"POST /api/v1/tasks wait 10: wanted the agent's get_resp: {r}")
    r = submit({"op": "set", "targets": A3, "params": {"Device.Time.NoSuchParameter": "x"},
                "wait": 10})
    b = want(r, 200, "POST /api/v1/tasks: a Set the agent refuses")
    line = b["results"][0]
    expect(line.get("ok") is False and line.get("error", {}).get("code") == "usp_error"
           and isinstance(line["error"].get("usp_err_code"), int)
           and 7000 <= line["error"]["usp_err_code"] <= 7999,
           f"a Set the agent refuses: wanted a usp_error line with usp_err_code: {r}")
    want_error(get("/api/v1/tasks/999999999"), 404, "unknown_task", "GET /api/v1/tasks/999999999")
    want_error(get("/api/v1/tasks/abc"), 404, "unknown_task", "GET /api/v1/tasks/abc")
    ok("POST /api/v1/tasks: wait 0 -> 202 queued lines, wait 10 -> 200 get_resp (and a "
       "usp_error line with usp_err_code); GET /tasks/{id}?wait=10 -> done; unknown_task 404")


def check_task_lists():
    t1, batch = TASKS.get("t1"), TASKS.get("batch")
    expect(t1 and batch, "no task from the submission check to list")
    b = want_page(get(q_("/api/v1/tasks", batch=batch)), "GET /api/v1/tasks?batch=")
    expect(sorted(x["eid"] for x in b["items"]) == sorted([A1, A2]),
           f"GET /api/v1/tasks?batch={batch}: {b}")
    b = want_page(get(q_("/api/v1/tasks", agent=A1, limit=1000)), "GET /api/v1/tasks?agent=")
    ids = [x["id"] for x in b["items"]]
    expect(b["items"] and all(x["eid"] == A1 for x in b["items"]) and ids == sorted(ids, reverse=True)
           and t1 in ids, f"GET /api/v1/tasks?agent={A1}: newest first, only its tasks: {ids}")
    b = want_page(get(f"/api/v1/agents/{seg(A1)}/tasks"), "GET /api/v1/agents/{eid}/tasks")
    expect([x["id"] for x in b["items"]] == ids, f"GET /agents/{{eid}}/tasks: {b}")
    b = want_page(get("/api/v1/tasks"), "GET /api/v1/tasks")
    ids = [x["id"] for x in b["items"]]
    expect(ids == sorted(ids, reverse=True) and t1 in ids, f"GET /api/v1/tasks: {ids}")
    b = want_page(get(q_(f"/api/v1/agents/{seg(A1)}/tasks", state="done")),
                  "GET /api/v1/agents/{eid}/tasks?state=")
    expect(b["items"] and all(x["state"] == "done" for x in b["items"]),
           f"GET /agents/{{eid}}/tasks?state=done: {[(x['id'], x['state']) for x in b['items']]}")
    for target in (q_(f"/api/v1/agents/{seg(A1)}/tasks", op="get"), q_("/api/v1/tasks", op="set")):
        b = want_page(get(target), f"GET {target}")
        want_op = target.rsplit("=", 1)[1]
        expect(b["items"] and all(x["op"] == want_op for x in b["items"]),
               f"GET {target}: wanted only {want_op} tasks, got "
               f"{[(x['id'], x['op']) for x in b['items']]}")
    ok("task lists (agent, batch, state, op) newest first")


def check_cancel():
    # An agent in the inventory that never connects: its task stays queued.
    r = submit({"op": "set", "targets": OFFLINE, "params": {"Device.Time.NTPServer1": "x.example"},
                "wait": 0})
    b = want(r, 202, "POST /api/v1/tasks for the offline agent")
    tid = b["results"][0]["task"]
    left = q(f"SELECT extract(epoch FROM expires_at - created_at)::int FROM tasks WHERE id = {tid}")
    expect(left == "3600", f"a task submitted without expires expires after {left} s, not an hour")
    t0 = time.monotonic()
    b = want(get(f"/api/v1/tasks/{tid}?wait=2"), 200, "GET /api/v1/tasks/{id}?wait=2 (queued)")
    took = time.monotonic() - t0
    expect(b.get("state") == "queued" and 1.8 <= took <= 6,
           f"GET /api/v1/tasks/{tid}?wait=2: state {b.get('state')} after {took:.1f} s, wanted "
           "queued after about 2 s")
    r = call("POST", f"/api/v1/tasks/{tid}/cancel", OPERATOR)
    b = want(r, 200, "POST /api/v1/tasks/{id}/cancel")
    expect(b.get("id") == tid and b.get("state") == "canceled",
           f"POST /api/v1/tasks/{tid}/cancel: wanted the task, canceled: {r}")
    expect(q(f"SELECT state FROM tasks WHERE id = {tid}") == "canceled",
           "cancel: the row is not canceled")
    if TASKS.get("t1"):
        want_error(call("POST", f"/api/v1/tasks/{TASKS['t1']}/cancel", OPERATOR), 409,
                   "not_cancelable", "cancel a task that is done")
    want_error(call("POST", "/api/v1/tasks/999999999/cancel", OPERATOR), 404, "unknown_task",
               "cancel an unknown task")
    r = call("POST", f"/api/v1/tasks/{tid}/cancel", OPERATOR)
    b = want(r, 200, "POST /api/v1/tasks/{id}/cancel again (it is canceled)")
    expect(b.get("id") == tid and b.get("state") == "canceled",
           f"cancel again: wanted the task, still canceled: {r}")
    ok("a task for an offline agent stays queued, an hour by default (?wait=2 answers after "
       "2 s); cancel -> 200 canceled, and the same again; a done task -> 409 not_cancelable; "
       "unknown_task 404")


def check_wait_timeout():
    """wait 1 for an agent that is offline: without "expires" the task
    expires with the wait (it never runs after the request stopped
    waiting): an expired line; with "expires" it stays queued and the line
    is a timeout."""
    r = submit({"op": "get", "targets": OFFLINE, "paths": "Device.DeviceInfo.UpTime", "wait": 1})
    b = want(r, 200, "POST /api/v1/tasks wait 1 for the offline agent")
    line = b["results"][0]
    expect(isinstance(line.get("task"), int), f"POST /api/v1/tasks wait 1: no task: {r}")
    tid = line["task"]
    left = q(f"SELECT extract(epoch FROM expires_at - created_at)::int FROM tasks WHERE id = {tid}")
    expect(line.get("ok") is False and line.get("error", {}).get("code") == "expired" and
           left == "1" and q(f"SELECT state FROM tasks WHERE id = {tid}") == "expired",
           f"POST /api/v1/tasks wait 1 (offline agent, no expires): wanted an expired line and "
           f"task, expiring with the wait (the task's expiry is {left} s): {r}")
    r = submit({"op": "get", "targets": OFFLINE, "paths": "Device.DeviceInfo.UpTime", "wait": 1,
                "expires": 3600})
    b = want(r, 200, "POST /api/v1/tasks wait 1, expires 3600, for the offline agent")
    line = b["results"][0]
    tid = line.get("task")
    expect(line.get("ok") is False and line.get("error", {}).get("code") == "timeout" and
           q(f"SELECT state FROM tasks WHERE id = {tid}") == "queued",
           f"POST /api/v1/tasks wait 1 expires 3600 (offline agent): wanted a timeout line whose "
           f"task stays queued: {r}")
    want(call("POST", f"/api/v1/tasks/{tid}/cancel", OPERATOR), 200, "cancel the timed-out task")
    ok("wait 1 for an offline agent: expired with the wait by default; with expires 3600 a "
       "timeout line and the task stays queued")


def check_wait_limit():
    """A waiting request targets at most 1,000 agents."""
    q("INSERT INTO agents (eid) SELECT 'proto::bulk-' || lpad(i::text, 4, '0') "
      "FROM generate_series(1, 1001) i")
    try:
        before = fingerprint()
        r = submit({"op": "get", "targets": {"eid": "proto::bulk-*"}, "paths": "Device.", "wait": 5})
        want_error(r, 400, "bad_targets", "POST /api/v1/tasks wait 5 for 1,001 agents")
        expect(fingerprint() == before, "a refused waiting request for 1,001 agents wrote tasks")
        # pages: 100 by default, at most 1,000
        b = want_page(get(q_("/api/v1/agents", eid="proto::bulk-*")), "GET /api/v1/agents (bulk)")
        expect(len(b["items"]) == 100 and b["next"] == b["items"][-1]["eid"],
               f"GET /api/v1/agents: {len(b['items'])} items by default (wanted 100), next "
               f"{b['next']}")
        b = want_page(get(q_("/api/v1/agents", eid="proto::bulk-*", limit=1000)),
                      "GET /api/v1/agents?limit=1000 (bulk)")
        expect(len(b["items"]) == 1000 and b["next"] == "proto::bulk-1000",
               f"GET /api/v1/agents?limit=1000: {len(b['items'])} items, next {b['next']}")
        b = want_page(get(q_("/api/v1/agents", eid="proto::bulk-*", limit=1000, after=b["next"])),
                      "GET /api/v1/agents?after= (bulk)")
        expect([x["eid"] for x in b["items"]] == ["proto::bulk-1001"] and b["next"] is None,
               f"the last page of 1,001 agents: {b}")
    finally:
        q("DELETE FROM agents WHERE eid LIKE 'proto::bulk-%'")
    ok("a waiting request for 1,001 agents: 400 bad_targets, nothing written; pages of 100 "
       "by default, 1,000 at most")


def check_operate():
    # An asynchronous command: its OperationComplete and operation result.
    r = submit({"op": "operate", "targets": A4, "command": "Device.IP.Diagnostics.IPPing()",
                "args": {"Host": "192.0.2.1", "NumberOfRepetitions": 1}, "command_key": "api-ping",
                "wait_complete": True, "wait": 20})
    b = want(r, 200, "POST /api/v1/tasks operate IPPing() wait_complete")
    expect(b["results"][0].get("ok") is True, f"IPPing(): {r}")
    deadline = time.monotonic() + 15
    while True:
        b = want_page(get(q_("/api/v1/operation-results", command_key="api-ping")),
                      "GET /api/v1/operation-results?command_key=")
        if b["items"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(len(b["items"]) == 1 and b["items"][0].get("eid") == A4
           and b["items"][0].get("command_key") == "api-ping",
           f"GET /api/v1/operation-results?command_key=api-ping: {b}")
    b = want_page(get(f"/api/v1/agents/{seg(A4)}/operation-results"),
                  "GET /api/v1/agents/{eid}/operation-results")
    expect(any(x.get("command_key") == "api-ping" for x in b["items"]),
           f"GET /api/v1/agents/{{eid}}/operation-results: {b}")
    b = want_page(get(q_("/api/v1/operation-results", agent=A5)), "operation-results?agent=")
    expect(all(x.get("eid") == A5 for x in b["items"]), f"operation-results?agent={A5}: {b}")
    b = want_page(get(q_("/api/v1/notifications", agent=A4, kind="oper_complete")),
                  "GET /api/v1/notifications?kind=oper_complete")
    expect(b["items"] and b["items"][0]["path"].endswith("IPPing()"),
           f"the IPPing()'s OperationComplete is not among the notifications: {b}")
    ok("operate IPPing() with wait_complete; operation-results (command_key, agent) and its "
       "oper_complete notification")


def window_day():
    d = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3)
    return d.strftime("%a").lower()


CAMPAIGN = {"name": "api-fw-2.0", "targets": None,
            "firmware": {"url": "https://fw.example/sim-gw-2.0.0.bin", "version": "2.0.0"},
            "waves": [{"percent": 50}, {"percent": 100}], "seed": 7,
            "window": {"timezone": "UTC",
                       "slots": [{"days": [None], "start": "02:00", "duration_min": 120}]}}


def campaign_spec():
    spec = copy.deepcopy(CAMPAIGN)
    spec["targets"] = [A4, A5]
    spec["window"]["slots"][0]["days"] = [window_day()]
    return spec


def check_campaigns(events):
    spec = campaign_spec()
    n0 = q("SELECT count(*) FROM campaigns")
    r = call("POST", "/api/v1/campaigns/plan", OPERATOR, body=spec)
    b = want(r, 200, "POST /api/v1/campaigns/plan")
    expect(b.get("targets") == 2 and b.get("seed") == 7 and isinstance(b.get("waves"), list)
           and "campaign" not in b, f"POST /api/v1/campaigns/plan: {r}")
    expect(q("SELECT count(*) FROM campaigns") == n0, "campaigns/plan wrote a campaign")
    r = call("POST", "/api/v1/campaigns", OPERATOR, body=spec)
    expect(r.status in (200, 201), f"POST /api/v1/campaigns: {r}")
    b = r.json
    cid = b.get("campaign")
    expect(isinstance(cid, int) and b.get("name") == "api-fw-2.0" and b.get("targets") == 2,
           f"POST /api/v1/campaigns: no campaign id, name, targets: {r}")
    want_error(call("POST", "/api/v1/campaigns", OPERATOR, body=spec), 409, "campaign_exists",
               "POST /api/v1/campaigns with a name taken")
    spec2 = dict(spec, name="api-fw-2.0-again")
    want_error(call("POST", "/api/v1/campaigns", OPERATOR, body=spec2), 409, "campaign_conflict",
               "POST /api/v1/campaigns with devices in another campaign")
    b = want_page(get("/api/v1/campaigns"), "GET /api/v1/campaigns")
    expect([c.get("campaign") for c in b["items"]] == [cid], f"GET /api/v1/campaigns: {b}")
    b = want(get(f"/api/v1/campaigns/{cid}"), 200, "GET /api/v1/campaigns/{id}")
    expect(b.get("campaign") == cid and b.get("targets") == 2, f"GET /api/v1/campaigns/{cid}: {b}")
    b = want(get(f"/api/v1/campaigns/{seg('api-fw-2.0')}"), 200, "GET /api/v1/campaigns/{name}")
    expect(b.get("campaign") == cid, f"GET /api/v1/campaigns/api-fw-2.0: {b}")
    b = want_page(get(f"/api/v1/campaigns/{cid}/devices"), "GET /api/v1/campaigns/{c}/devices")
    expect(sorted(d.get("agent") for d in b["items"]) == sorted([A4, A5]),
           f"GET /api/v1/campaigns/{cid}/devices: {b}")
    b = want_page(get(q_(f"/api/v1/campaigns/{cid}/devices", wave=1, limit=10)),
                  "GET /api/v1/campaigns/{c}/devices?wave=1")
    expect(len(b["items"]) == 1, f"campaign devices of wave 1 (50 % of 2): {b}")
    want_error(get("/api/v1/campaigns/nosuch"), 404, "unknown_campaign", "GET an unknown campaign")

    stream = events("/api/v1/events?types=campaign")
    for action, state in (("pause", "paused"), ("resume", None), ("abort", "aborted")):
        r = call("POST", f"/api/v1/campaigns/{cid}/{action}", OPERATOR)
        b = want(r, 200, f"POST /api/v1/campaigns/{{c}}/{action}")
        expect(b.get("campaign") == cid and (state is None or b.get("state") == state)
               and b.get("changed") is True, f"POST /api/v1/campaigns/{cid}/{action}: {r}")
        if action == "pause":
            stream.wait(lambda ev: ev[0] == "campaign" and ev[1].get("campaign") == cid
                        and ev[1].get("state") == "paused", 8, "the paused campaign's event")
    stream.close()
    # Who did it: the token's name, not the unix user uspc-api runs as.
    actors = q(f"SELECT string_agg(DISTINCT actor, ',') FROM campaign_events WHERE campaign = {cid} "
               "AND kind IN ('paused', 'resumed', 'aborted')")
    expect(actors == "api:api-operator",
           f"the campaign's pause/resume/abort events name '{actors}', not api:api-operator")
    want_error(call("POST", f"/api/v1/campaigns/{cid}/pause", OPERATOR), 409, "campaign_state",
               "pause an aborted campaign")
    want_error(call("POST", f"/api/v1/campaigns/{cid}/retry_failed", OPERATOR), 409,
               "campaign_state", "retry_failed an aborted campaign")
    want_error(call("POST", f"/api/v1/campaigns/{cid}/frobnicate", OPERATOR), 404, None,
               "an unknown campaign action")
    want_error(call("POST", "/api/v1/campaigns/nosuch/pause", OPERATOR), 404, "unknown_campaign",
               "pause an unknown campaign")
    ok("campaigns: plan (nothing written), create, campaign_exists, campaign_conflict, list, "
       "status by id and name, devices, pause/resume/abort (an event for the pause; the "
       "token named as the actor), "
       "campaign_state 409s, unknown action and campaign 404")


def check_profiles():
    b = want_page(get("/api/v1/profiles"), "GET /api/v1/profiles")
    expect([p.get("name") for p in b["items"]] == ["api-ntp"], f"GET /api/v1/profiles: {b}")
    b = want(get("/api/v1/profiles/api-ntp"), 200, "GET /api/v1/profiles/{name}")
    expect(b.get("name") == "api-ntp" and b.get("version") == 1 and isinstance(b.get("counts"), dict),
           f"GET /api/v1/profiles/api-ntp: {b}")
    r = call("PUT", "/api/v1/profiles/api-ntp", ADMIN, body=dict(PROFILE, name="api-ntp"))
    b = want(r, 200, "PUT /api/v1/profiles/api-ntp again, its name in the body")
    expect(b.get("version") == 1 and b.get("new") is False, f"PUT the same definition: {r}")
    r = call("PUT", "/api/v1/profiles/api-ntp", ADMIN, body=dict(PROFILE, name="other"))
    want_error(r, 400, "bad_field", "PUT /api/v1/profiles/api-ntp with another name in the body")
    r = call("POST", "/api/v1/profiles/api-ntp/plan", OPERATOR, body={"sample": 1})
    b = want(r, 200, "POST /api/v1/profiles/{name}/plan")
    expect(b.get("profile") == "api-ntp" and b.get("targets") == 1, f"profile plan: {r}")
    # the profile's run on A3 (the daemon's engine) shows in its paths and history
    deadline = time.monotonic() + 30
    while True:
        paths = want_page(get(f"/api/v1/agents/{seg(A3)}/profile-paths"),
                          "GET /api/v1/agents/{eid}/profile-paths")
        hist = want_page(get(q_("/api/v1/profiles/api-ntp/history", agent=A3)),
                         "GET /api/v1/profiles/{name}/history")
        if (paths["items"] and hist["items"]) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(any(p.get("path") == "Device.Time.NTPServer2" and p.get("profile") == "api-ntp"
               for p in paths["items"]), f"GET /api/v1/agents/{A3}/profile-paths: {paths}")
    expect(hist["items"] and hist["items"][0].get("profile") == "api-ntp",
           f"GET /api/v1/profiles/api-ntp/history?agent={A3}: {hist}")
    b = want_page(get(q_(f"/api/v1/agents/{seg(A3)}/profile-paths", path="Device.WiFi.")),
                  "GET profile-paths?path=")
    expect(b["items"] == [], f"profile-paths?path=Device.WiFi.: {b}")
    want_error(get("/api/v1/profiles/api-ntp/history"), 400, "bad_query",
               "GET /api/v1/profiles/{name}/history without agent")
    r = call("POST", "/api/v1/profiles/api-ntp/reconcile", ADMIN, body={"targets": A3})
    b = want(r, 200, "POST /api/v1/profiles/{name}/reconcile")
    expect(b.get("profile") == "api-ntp" and b.get("queued") == 1, f"profile reconcile: {r}")
    want_error(get("/api/v1/profiles/nosuch"), 404, "unknown_profile", "GET an unknown profile")
    r = call("DELETE", "/api/v1/profiles/api-ntp", ADMIN)
    b = want(r, 200, "DELETE /api/v1/profiles/{name}")
    expect(b.get("profile") == "api-ntp" and b.get("deleted") is True, f"DELETE profile: {r}")
    want_error(call("DELETE", "/api/v1/profiles/api-ntp", ADMIN), 404, "unknown_profile",
               "DELETE a deleted profile")
    ok("profiles: list, status, the same definition again (new: false), name mismatch 400, "
       "plan, profile-paths and history of its run, reconcile, delete, unknown_profile")


def check_misc():
    r = get("/metrics")
    want(r, 200, "GET /metrics")
    expect(r.ctype.startswith("text/plain") and "version=0.0.4" in r.ctype,
           f"GET /metrics: Content-Type '{r.ctype}'")
    expect(b"uspc_api_requests_total" in r.body, "GET /metrics: no uspc_api_requests_total")
    want(get("/api/v1/whoami", OPERATOR), 200, "whoami (operator)")
    ok("/metrics (text 0.0.4), whoami")


# ---- events --------------------------------------------------------------------------------------


class Stream:
    """GET /api/v1/events, read by a thread into a queue of (event, data)."""

    def __init__(self, target, token=VIEWER, port=PORT):
        self.target = target
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.conn.request("GET", target, headers={"Authorization": "Bearer " + token})
        self.resp = self.conn.getresponse()
        hdrs = {k.lower(): v for k, v in self.resp.getheaders()}
        body = b"" if self.resp.status == 200 else self.resp.read()
        r = self.answer = Resp(port, "GET", target, self.resp.status, hdrs, body)
        RECORDS.append(r)
        if r.status != 200:
            self.conn.close()
        expect(r.status == 200 and r.ctype.startswith("text/event-stream"),
               f"GET {target}: wanted 200 text/event-stream: {r} {hdrs}")
        self.events = []
        self.q = queue.Queue()
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        name, data = None, []
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                line = line.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if data:
                        try:
                            value = json.loads("\n".join(data))
                        except ValueError:
                            value = {"unparsed": "\n".join(data)}
                        self.q.put((name or "message", value))
                    name, data = None, []
                elif line.startswith(":"):
                    continue
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
        except Exception:  # pylint: disable=broad-except  # closed under its feet
            pass
        self.q.put(None)

    def drain(self):
        while True:
            try:
                ev = self.q.get_nowait()
            except queue.Empty:
                return
            if ev is not None:
                self.events.append(ev)

    def wait(self, pred, timeout, what):
        end = time.monotonic() + timeout
        while True:
            for ev in self.events:
                if pred(ev):
                    return ev
            left = end - time.monotonic()
            if left <= 0:
                die(f"GET {self.target}: no event '{what}' within {timeout} s; "
                    f"got {[(e[0], str(e[1])[:200]) for e in self.events]}")
            try:
                ev = self.q.get(timeout=left)
            except queue.Empty:
                continue
            if ev is None:
                die(f"GET {self.target}: the stream ended while waiting for {what}")
            self.events.append(ev)

    def close(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()
        self.thread.join(5)


def check_events():
    s_all = Stream("/api/v1/events?types=task")
    s_a2 = Stream(q_("/api/v1/events", agent=A2))  # every type: the default
    r1 = submit({"op": "get", "targets": A1, "paths": "Device.DeviceInfo.UpTime", "wait": 0})
    r2 = submit({"op": "get", "targets": A2, "paths": "Device.DeviceInfo.UpTime", "wait": 0})
    t1 = want(r1, 202, "submit for the event stream")["results"][0]["task"]
    t2 = want(r2, 202, "submit for the event stream")["results"][0]["task"]
    for s, t, whole in ((s_all, t1, False), (s_all, t2, False), (s_a2, t2, True)):
        ev = s.wait(lambda e, t=t: e[0] == "task" and e[1].get("id") == t and
                    e[1].get("state") == "done", 10, f"task {t} done")
        shown = want(get(f"/api/v1/tasks/{t}"), 200, "GET /api/v1/tasks/{id}")
        if whole:  # on one agent's stream: the object task_status prints
            expect(ev[1] == shown, f"the event of task {t} on {s.target} is not the object "
                   f"GET /api/v1/tasks/{t} shows: {ev[1]} vs {shown}")
        else:  # on every agent's: brief, without request and result
            brief = {k: v for k, v in shown.items() if k not in ("request", "result")}
            brief["brief"] = True
            expect(ev[1] == brief, f"the event of task {t} on {s.target} is not the brief form "
                   f"of GET /api/v1/tasks/{t} (no request, result; \"brief\":true): {ev[1]} "
                   f"vs {shown}")
    want(get(f"/api/v1/tasks/{t1}?wait=10"), 200, "task t1 done")
    # A2's stream: a notification of A2 (a Set of a parameter it reports
    # on change), and nothing of A1 (whose task is done, and notified).
    sub = {"op": "subscribe", "targets": [A1, A2], "subscription_id": "api-vc",
           "notif_type": "ValueChange", "reference_list": ["Device.WiFi.SSID.1.SSID"], "wait": 10}
    b = want(submit(sub), 200, "POST /api/v1/tasks subscribe")
    expect(all(x.get("ok") for x in b["results"]), f"subscribe: {b}")
    b = want(submit({"op": "set", "targets": [A1, A2], "wait": 10,
                     "params": {"Device.WiFi.SSID.1.SSID": "api-ssid"}}), 200, "set an SSID")
    expect(all(x.get("ok") for x in b["results"]), f"set Device.WiFi.SSID.1.SSID: {b}")
    s_a2.wait(lambda e: e[0] == "notification" and e[1].get("eid") == A2
              and e[1].get("path") == "Device.WiFi.SSID.1.SSID", 10, "A2's ValueChange")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # A1's notification is stored too
        b = want_page(get(q_("/api/v1/notifications", agent=A1, path="Device.WiFi.SSID.1.SSID")),
                      "GET /api/v1/notifications?path=")
        if b["items"]:
            break
        time.sleep(0.3)
    expect(b["items"] and b["items"][0]["kind"] == "value_change",
           f"A1's ValueChange is not stored: {b}")
    time.sleep(1.5)  # more than the events thread's 1 s poll of notifications
    s_a2.drain()
    others = [e for e in s_a2.events if e[1].get("eid") != A2]
    expect(not others, f"GET /api/v1/events?agent={A2} delivered other agents' events: {others}")
    expect(not [e for e in s_all.events if e[0] != "task"],
           f"GET /api/v1/events?types=task delivered other types: {s_all.events}")
    s_all.close()
    s_a2.close()
    ok("events: a finished task arrives as `event: task` (brief on every agent's stream, whole "
       "on one agent's: the object GET /tasks/{id} shows); ?agent= (every type by default) gets "
       "that agent's task and notification and nothing of another agent; ?types=task only tasks")


# ---- paging ----------------------------------------------------------------------------------------


def check_paging():
    start = q("SELECT eid FROM agents ORDER BY eid").split("\n")
    seen, pages, after, inserted = [], 0, None, []
    while True:
        target = q_("/api/v1/agents", limit=3, **({"after": after} if after else {}))
        b = want_page(get(target), f"GET {target}")
        eids = [x["eid"] for x in b["items"]]
        expect(len(eids) <= 3 and eids == sorted(eids) and (after is None or all(e > after for e in eids)),
               f"GET {target}: a page of more than 3, unsorted, or not after the cursor: {eids}")
        seen += eids
        pages += 1
        expect(pages < 50, "GET /api/v1/agents: more than 50 pages of 3")
        if b["next"] is None:
            break
        expect(b["next"] == eids[-1], f"GET {target}: next {b['next']}, wanted the last eid")
        after = b["next"]
        # between pages: new agents before the cursor, right after it, and at the end
        for eid in (f"proto::aaa-page-{pages:02d}", f"{after}~{pages:02d}",
                    f"proto::zzz-page-{pages:02d}"):
            q(f"INSERT INTO agents (eid) VALUES ('{eid}')")
            inserted.append(eid)
    dup = sorted({e for e in seen if seen.count(e) > 1})
    missing = [e for e in start if e not in seen]
    expect(not dup, f"agents paging under inserts: {dup} on two pages")
    expect(not missing, f"agents paging under inserts: {missing} (there at the start) on no page")
    expect(pages >= 4, f"agents paging: only {pages} pages of 3 for {len(start)} agents")
    q("DELETE FROM agents WHERE eid IN (" + ",".join(f"'{e}'" for e in inserted) + ")")

    # tasks, newest first, "before" the cursor, while tasks are submitted
    top = want_page(get(q_("/api/v1/tasks", limit=2)), "GET /api/v1/tasks?limit=2")
    startt = [int(x) for x in q("SELECT id FROM tasks ORDER BY id DESC").split("\n")]
    seen, before, n = [x["id"] for x in top["items"]], top["next"], 0
    while before is not None:
        submit({"op": "get", "targets": OFFLINE, "paths": "Device.DeviceInfo.UpTime", "wait": 0,
                "expires": 60})
        b = want_page(get(q_("/api/v1/tasks", limit=2, before=before)), "GET /api/v1/tasks?before=")
        ids = [x["id"] for x in b["items"]]
        expect(all(i < int(before) for i in ids) and ids == sorted(ids, reverse=True),
               f"GET /api/v1/tasks?before={before}: {ids}")
        seen += ids
        before = b["next"]
        n += 1
        expect(n < 200, "GET /api/v1/tasks: more than 200 pages of 2")
    expect(len(seen) == len(set(seen)) and set(startt) <= set(seen),
           f"tasks paging under inserts: twice {[i for i in seen if seen.count(i) > 1]}, "
           f"missing {sorted(set(startt) - set(seen))}")
    ok(f"keyset pages under inserts: {len(start)} agents in {pages} pages of 3 "
       f"({len(inserted)} agents inserted meanwhile), {len(startt)} tasks in pages of 2, each once")


# ---- bad input ---------------------------------------------------------------------------------------


def head(method, target, token, extra=b"", ctype="application/json"):
    h = f"{method} {target} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n"
    if token:
        h += f"Authorization: Bearer {token}\r\n"
    if ctype:
        h += f"Content-Type: {ctype}\r\n"
    return h.encode() + extra


def check_bad_input():
    before = fingerprint()
    get1 = {"op": "get", "targets": A1, "paths": ["Device.DeviceInfo.UpTime"]}
    cases = [
        ("malformed JSON", lambda: submit('{"op":"get",'), 400, "malformed_json"),
        ("a JSON array body", lambda: submit([get1]), 400, "malformed_json"),
        ("text after the object", lambda: submit(json.dumps(get1) + " x"), 400, "malformed_json"),
        ("an unknown field (tasks)", lambda: submit(dict(get1, colour="red")), 400, "bad_field"),
        ("an unknown field (tags)", lambda: call("POST", f"/api/v1/agents/{seg(A1)}/tags", OPERATOR,
                                                  body={"tags": ["x"], "colour": 1}), 400, "bad_field"),
        ("an unknown field (tokens)", lambda: call("POST", "/api/v1/tokens", ADMIN,
                                                   body={"name": "x", "role": "viewer", "colour": 1}),
         400, "bad_field"),
        ("an unknown field (campaigns)", lambda: call("POST", "/api/v1/campaigns", OPERATOR,
                                                      body=dict(campaign_spec(), colour=1)),
         400, "bad_field"),
        ("an id in the body", lambda: submit(dict(get1, id="x")), 400, "bad_field"),
        ("a wrong type (paths)", lambda: submit(dict(get1, paths=42)), 400, None),
        ("a wrong type (wait)", lambda: submit(dict(get1, wait="soon")), 400, "bad_field"),
        ("wait over 120", lambda: submit(dict(get1, wait=121)), 400, "bad_field"),
        ("a wrong type (token name)", lambda: call("POST", "/api/v1/tokens", ADMIN,
                                                   body={"name": 7, "role": "viewer"}), 400, None),
        ("a wrong type (tags)", lambda: call("POST", f"/api/v1/agents/{seg(A1)}/tags", OPERATOR,
                                             body={"tags": 7}), 400, None),
        ("an op of another route", lambda: submit(dict(get1, op="tag")), 400, "unknown_op"),
        ("targets that are no selector", lambda: submit(dict(get1, targets=42)), 400, "bad_targets"),
        ("a selector matching no agent", lambda: submit(dict(get1, targets={"tag": "nosuch"})), 400,
         "no_targets"),
        ("a bad USP path", lambda: submit(dict(get1, paths=["Device..X"])), 400, "invalid_path"),
        ("a text/plain body", lambda: call("POST", "/api/v1/tasks", OPERATOR, body=get1,
                                           ctype="text/plain"), 415, "unsupported_media_type"),
        ("a form body", lambda: call("POST", f"/api/v1/agents/{seg(A1)}/tags", OPERATOR,
                                     body="tags=x", ctype="application/x-www-form-urlencoded"),
         415, "unsupported_media_type"),
        ("an unknown query parameter", lambda: get(q_("/api/v1/agents", colour="red")), 400,
         "bad_query"),
        ("an unknown query parameter (POST)", lambda: call("POST", q_("/api/v1/tasks", colour="red"),
                                                           OPERATOR, body=get1), 400, "bad_query"),
        ("limit 0", lambda: get(q_("/api/v1/agents", limit=0)), 400, "bad_query"),
        ("limit 1001", lambda: get(q_("/api/v1/tasks", limit=1001)), 400, "bad_query"),
        ("limit abc", lambda: get(q_("/api/v1/notifications", limit="abc")), 400, "bad_query"),
        ("online=maybe", lambda: get(q_("/api/v1/agents", online="maybe")), 400, "bad_query"),
        ("wait=121", lambda: get("/api/v1/tasks/1?wait=121"), 400, "bad_query"),
        ("types=bogus", lambda: get(q_("/api/v1/events", types="bogus")), 400, "bad_query"),
        ("a bad %-escape in the query", lambda: get("/api/v1/agents?eid=%zz"), 400, "bad_query"),
        ("an unknown route", lambda: get("/api/v1/nope"), 404, "not_found"),
        ("an unknown version", lambda: get("/api/v2/agents"), 404, "not_found"),
        ("an unknown route (POST)", lambda: call("POST", "/api/v1/nope", OPERATOR, body={}), 404,
         "not_found"),
        ("a route one segment too deep", lambda: get(f"/api/v1/agents/{seg(A1)}/snapshot/x"), 404,
         "not_found"),
        ("a bad %-escape", lambda: get("/api/v1/agents/%zz"), 404, None),
        ("a cut %-escape", lambda: get("/api/v1/agents/abc%4"), 404, None),
        ("an escaped NUL", lambda: get("/api/v1/agents/a%00b"), 404, None),
        ("a bad %-escape (tasks)", lambda: get("/api/v1/tasks/%G1"), 404, None),
    ]
    for what, fn, status, code in cases:
        want_error(fn(), status, code, what)
    for method, target, allow in (("DELETE", "/api/v1/agents", {"GET"}),
                                  ("PUT", "/api/v1/tasks", {"GET", "POST"}),
                                  ("PATCH", "/api/v1/fleet", {"GET"}),
                                  ("GET", f"/api/v1/agents/{seg(A1)}/tags", {"POST"}),
                                  ("POST", "/api/v1/profiles/x", {"GET", "PUT", "DELETE"})):
        r = call(method, target, ADMIN, body={} if method in ("POST", "PUT") else None)
        want_error(r, 405, "method_not_allowed", f"{method} {target}")
        got = {m.strip() for m in r.headers.get("allow", "").split(",") if m.strip()}
        expect(allow <= got, f"{method} {target}: Allow '{r.headers.get('allow')}', wanted {allow}")

    fits = json.dumps(dict(get1, pad="x" * (1024 * 1024 - 200))).encode()
    expect(len(fits) < 1024 * 1024, "the just-under-1-MiB body is not")
    r = raw(PORT, head("POST", "/api/v1/tasks", OPERATOR,
                       f"Content-Length: {len(fits)}\r\n\r\n".encode() + fits))
    want_error(r, 400, "bad_field", f"POST /api/v1/tasks, {len(fits)} bytes (under 1 MiB) with "
               "an unknown field")
    big = json.dumps(dict(get1, pad="x" * (2 * 1024 * 1024))).encode()
    r = raw(PORT, head("POST", "/api/v1/tasks", OPERATOR,
                       f"Content-Length: {len(big)}\r\n\r\n".encode() + big))
    want_error(r, 413, "too_large", "POST /api/v1/tasks, 2 MiB with Content-Length")
    chunks = b"".join(b"%x\r\n" % len(big[i:i + 65536]) + big[i:i + 65536] + b"\r\n"
                      for i in range(0, len(big), 65536)) + b"0\r\n\r\n"
    r = raw(PORT, head("POST", "/api/v1/tasks", OPERATOR,
                       b"Transfer-Encoding: chunked\r\n\r\n" + chunks))
    want_error(r, 413, "too_large", "POST /api/v1/tasks, 2 MiB chunked")
    r = raw(PORT, head("PUT", "/api/v1/profiles/api-big", ADMIN,
                       b"Transfer-Encoding: chunked\r\n\r\n" + chunks))
    want_error(r, 413, "too_large", "PUT /api/v1/profiles/{name}, 2 MiB chunked")
    after = fingerprint()
    expect(before == after, f"bad requests changed the database: '{before}' -> '{after}'")
    ok(f"{len(cases) + 9} bad requests: each its 4xx JSON error (405 with Allow, 413 over 1 MiB "
       "with and without Content-Length, not under it); nothing changed in the database")


def check_header_limit():
    """Request line and headers: 16 KiB (docs/api.md, Limits). Under it a
    request is served; over it (up to the library's own 64 KiB), refused
    with 431 headers_too_large in JSON."""
    def with_header(n):
        extra = f"X-Filler: {'a' * n}\r\n\r\n".encode()
        return raw(PORT, head("GET", "/api/v1/fleet", VIEWER, extra, ctype=None))

    want(with_header(12 * 1024), 200, "GET /api/v1/fleet with 12 KiB of headers")
    problems = []
    for kib in (24, 40):
        r = with_header(kib * 1024)
        try:
            expect(400 <= r.status < 500, f"GET /api/v1/fleet with {kib} KiB of headers (over "
                   f"the 16 KiB limit): wanted a 4xx, got {r.status} {r.body[:120]!r}")
            want_error(r, 431, "headers_too_large", f"GET /api/v1/fleet with {kib} KiB of headers")
        except CheckFailed as e:
            problems.append(str(e))
    expect(not problems, "; ".join(problems))
    ok("12 KiB of headers served; 24 and 40 KiB (over 16 KiB) refused with a 4xx JSON error")


def check_slowloris():
    """Request headers a byte a second to the --timeout 2 instance."""
    req = head("GET", "/api/v1/fleet", VIEWER)
    s = socket.create_connection((HOST, SLOW_PORT), timeout=10)
    t0 = time.monotonic()
    closed_at, got, served, i = None, b"", None, 0
    while time.monotonic() - t0 < 8:
        if i < len(req):
            try:
                s.send(req[i:i + 1])
            except OSError:
                closed_at = time.monotonic() - t0
                break
            i += 1
        r, _, _ = select.select([s], [], [], 1.0)
        if served is None:
            served = get("/api/v1/whoami", port=SLOW_PORT)
        if r:
            try:
                chunk = s.recv(4096)
            except OSError:
                chunk = b""
            got += chunk
            if not chunk:
                closed_at = time.monotonic() - t0
                break
    s.close()
    expect(closed_at is not None,
           f"a client sending a byte a second ({i} bytes sent) was not cut within 8 s "
           f"(uspc-api --timeout 2)")
    expect(1.5 <= closed_at <= 5, f"the slowloris client was cut after {closed_at:.1f} s, "
           "wanted 2-5 s (--timeout 2)")
    expect(not got.startswith(b"HTTP/1.1 200"), f"the slowloris client got an answer: {got[:200]}")
    want(served, 200, "another client of the --timeout 2 instance while the slow one sends")
    ok(f"a client sending its headers a byte a second is cut after {closed_at:.1f} s "
       "(--timeout 2); another client is served meanwhile")


def check_max_connections():
    """Three idle connections hold --max-connections 3."""
    idle = [socket.create_connection((HOST, LIMITED_PORT), timeout=5) for _ in range(3)]
    time.sleep(0.5)
    r = get("/api/v1/whoami", port=LIMITED_PORT)
    want_error(r, 503, None, "a 4th connection past --max-connections 3")
    expect(r.headers.get("retry-after", "").isdigit(), f"the 503: no Retry-After: {r.headers}")
    idle[0].close()
    deadline = time.monotonic() + 5
    while True:
        time.sleep(0.2)
        r = get("/api/v1/whoami", port=LIMITED_PORT)
        if r.status == 200 or time.monotonic() > deadline:
            break
    want(r, 200, "a request once one of the idle connections closed")
    for c in idle[1:]:
        c.close()
    ok("past --max-connections 3: 503 JSON with Retry-After; served again once an idle "
       "connection closes")


def check_per_address():
    """--max-per-ip 3 (the --timeout 2 instance): a 4th connection from this
    address is 503; once the idle ones are cut (2 s), a request is served."""
    deadline = time.monotonic() + 5
    while True:  # the slowloris check's connections may still be closing
        idle = [socket.create_connection((HOST, SLOW_PORT), timeout=5) for _ in range(3)]
        t0 = time.monotonic()
        time.sleep(0.3)
        r = get("/api/v1/whoami", port=SLOW_PORT)
        if r.status == 503 or time.monotonic() > deadline:
            break
        for c in idle:
            c.close()
        time.sleep(0.5)
    want_error(r, 503, None, "a 4th connection from one address past --max-per-ip 3")
    expect(r.headers.get("retry-after", "").isdigit(), f"the 503: no Retry-After: {r.headers}")
    expect(time.monotonic() - t0 < 1.8, "the per-address check took too long for --timeout 2")
    cut = []
    for c in idle:
        c.settimeout(5)
        try:
            cut.append(c.recv(1) == b"")
        except OSError:
            cut.append(True)
    took = time.monotonic() - t0
    expect(all(cut) and took < 4.5, f"idle connections of a --timeout 2 instance: cut {cut} "
           f"after {took:.1f} s")
    for c in idle:
        c.close()
    time.sleep(0.3)
    want(get("/api/v1/whoami", port=SLOW_PORT), 200, "a request once the idle connections are cut")
    ok(f"past --max-per-ip 3: 503 with Retry-After; idle connections cut after {took:.1f} s "
       "(--timeout 2), then served")


def check_event_limit():
    """--max-events-clients 1 (the limited instance): a second stream is
    503 too_many_clients with Retry-After."""
    deadline = time.monotonic() + 5
    while True:  # the connections of the check before may still be closing
        try:
            s = Stream("/api/v1/events", port=LIMITED_PORT)
            break
        except CheckFailed:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    try:
        r = get("/api/v1/events?types=task", port=LIMITED_PORT, timeout=5)
        want_error(r, 503, "too_many_clients", "a 2nd event stream past --max-events-clients 1")
        expect(r.headers.get("retry-after", "").isdigit(), f"the 503: no Retry-After: {r.headers}")
    finally:
        s.close()
    ok("a 2nd event stream past --max-events-clients 1: 503 too_many_clients, Retry-After")



def check_waiting_cap():
    """The default instance (8 database connections): 4 submissions waiting
    for agents hold 4 connections; a 5th waiting submission is refused at
    once (503 unavailable, Retry-After), and reads are still served."""
    held, tids = [], []

    def hold():
        try:
            held.append(call("POST", "/api/v1/tasks", OPERATOR,
                             body={"op": "get", "targets": OFFLINE, "paths": "Device.DeviceInfo.",
                                   "wait": 6, "expires": 3600}))
        except CheckFailed as e:
            held.append(e)

    ts = [threading.Thread(target=hold, daemon=True) for _ in range(4)]
    for t in ts:
        t.start()
    time.sleep(1.0)
    t0 = time.monotonic()
    r = call("POST", "/api/v1/tasks", OPERATOR,
             body={"op": "get", "targets": OFFLINE, "paths": "Device.DeviceInfo.", "wait": 5})
    took = time.monotonic() - t0
    t0 = time.monotonic()
    fleet = get("/api/v1/fleet")
    took_read = time.monotonic() - t0
    for t in ts:
        t.join(20)
    for h in held:
        for line in (h.json or {}).get("results", []) if isinstance(h, Resp) else []:
            if isinstance(line.get("task"), int):
                tids.append(line["task"])
    for tid in tids:
        call("POST", f"/api/v1/tasks/{tid}/cancel", OPERATOR)
    want_error(r, 503, "unavailable", "a 5th waiting submission while 4 wait")
    expect(took < 1.5 and "waiting" in r.json["error"]["message"]
           and r.headers.get("retry-after", "").isdigit(),
           f"the 5th waiting submission: after {took:.1f} s: {r.json} {r.headers}")
    want(fleet, 200, "GET /api/v1/fleet while 4 submissions wait")
    expect(took_read < 2, f"a read while 4 submissions wait took {took_read:.1f} s")
    expect(len(held) == 4 and all(isinstance(h, Resp) and h.status == 200 for h in held),
           f"the 4 waiting submissions: {[getattr(h, 'status', h) for h in held]}")
    ok(f"4 waiting submissions hold half the pool; a 5th is refused in {took:.1f} s; a read "
       f"is served meanwhile in {took_read:.2f} s")

def check_db_busy():
    """--db-connections 1 (the 4th instance): while a waiting submission
    holds the only connection, another request waits up to 5 s, then gets
    503 unavailable with Retry-After."""
    held = {}

    def hold():
        try:
            held["r"] = call("POST", "/api/v1/tasks", OPERATOR, port=TERM_PORT,
                             body={"op": "get", "targets": OFFLINE, "paths": "Device.DeviceInfo.",
                                   "wait": 8, "expires": 3600})
        except CheckFailed as e:
            held["error"] = str(e)

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    time.sleep(0.8)
    t0 = time.monotonic()
    r = get("/api/v1/fleet", port=TERM_PORT, timeout=20)
    took = time.monotonic() - t0
    t.join(20)
    if "r" in held and held["r"].status == 200:
        for line in held["r"].json.get("results", []):
            if isinstance(line.get("task"), int):
                call("POST", f"/api/v1/tasks/{line['task']}/cancel", OPERATOR)
    want_error(r, 503, "unavailable", "GET /api/v1/fleet while the only database connection "
               "is held")
    expect(r.headers.get("retry-after", "").isdigit(), f"the 503: no Retry-After: {r.headers}")
    expect(4 <= took <= 7.5, f"the 503 came after {took:.1f} s, wanted about 5 s")
    expect("r" in held, f"the waiting submission: {held.get('error')}")
    want(held["r"], 200, "the waiting submission holding the connection")
    m = samples(want(get("/metrics", port=TERM_PORT), 200, "GET /metrics").decode("utf-8"))
    waits = m.get(("uspc_api_db_waits_total", frozenset()))
    expect(waits and waits >= 1, f"uspc_api_db_waits_total is {waits} after a wait")
    ok(f"every database connection busy: 503 unavailable with Retry-After after {took:.1f} s; "
       "uspc_api_db_waits_total counts it")


def check_sigterm():
    """SIGTERM (the 4th instance): open event streams are closed, a request
    in progress ends first (within 10 s), then the process exits and its
    port is closed."""
    r = submit({"op": "get", "targets": OFFLINE, "paths": "Device.DeviceInfo.UpTime", "wait": 0})
    tid = want(r, 202, "a task for the offline agent")["results"][0]["task"]
    stream = Stream("/api/v1/events", port=TERM_PORT)
    waiting = {}

    def wait_task():
        try:
            waiting["r"] = get(f"/api/v1/tasks/{tid}?wait=60", port=TERM_PORT, timeout=30)
        except CheckFailed as e:
            waiting["error"] = str(e)
        waiting["at"] = time.monotonic()

    t = threading.Thread(target=wait_task, daemon=True)
    t.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    os.kill(TERM_PID, 15)
    stream.thread.join(12)
    expect(not stream.thread.is_alive(), "SIGTERM: the event stream is still open after 12 s")
    closed = time.monotonic() - t0
    t.join(15)
    expect("r" in waiting, f"SIGTERM: the request waiting for task {tid} got no answer: "
           f"{waiting.get('error', 'still waiting after 15 s')}")
    answered = waiting["at"] - t0
    expect(answered <= 10.5, f"SIGTERM: the waiting request was answered after {answered:.1f} s")
    expect(waiting["r"].status in (200, 503),
           f"SIGTERM: the waiting request: {waiting['r']}")
    while time.monotonic() - t0 < 12:
        try:
            with open(f"/proc/{TERM_PID}/stat", encoding="ascii") as f:
                if f.read().split(") ", 1)[1].startswith("Z"):
                    break
        except FileNotFoundError:
            break
        time.sleep(0.1)
    gone = time.monotonic() - t0
    expect(gone < 12, f"SIGTERM: uspc-api still runs after {gone:.1f} s")
    try:
        socket.create_connection((HOST, TERM_PORT), timeout=2).close()
        die("SIGTERM: the port still takes connections after the exit")
    except ConnectionRefusedError:
        pass
    stream.close()
    ok(f"SIGTERM: the event stream closed after {closed:.1f} s, the waiting request answered "
       f"({waiting['r'].status}) after {answered:.1f} s, exit after {gone:.1f} s, port closed")


# ---- metrics ------------------------------------------------------------------------------------------

SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)")
LABEL_RE = re.compile(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"')


def samples(text):
    out = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        if m:
            labels = frozenset(LABEL_RE.findall(m.group(3) or ""))
            out[(m.group(1), labels)] = float(m.group(4))
    return out


def check_format(text, what):
    p = subprocess.run(["/usr/bin/python3", CHECK_METRICS, "--prefix", "uspc_"], input=text,
                       capture_output=True, text=True, timeout=30)
    problems = p.stderr.strip().splitlines()
    expect(p.returncode == 0, f"{what} fails tests/support/check-metrics.py ({len(problems)} "
           f"problems): " + "; ".join(problems[:3]))


def check_metrics_format():
    r = get("/metrics")
    text = want(r, 200, "GET /metrics").decode("utf-8")
    with open(os.path.join(WORK, "api-metrics.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    check_format(text, "uspc-api's /metrics")
    ok("uspc-api's /metrics passes tests/support/check-metrics.py")


def check_metrics_count():
    r = get("/metrics")
    s = samples(want(r, 200, "GET /metrics").decode("utf-8"))
    made = sum(1 for x in RECORDS if x.port == PORT and x.method == "GET"
               and x.path == "/api/v1/agents" and x.status == 200)
    key = ("uspc_api_requests_total",
           frozenset({("route", "/api/v1/agents"), ("method", "GET"), ("code", "200")}))
    expect(s.get(key) == made, f"uspc_api_requests_total{{route=\"/api/v1/agents\",method=\"GET\","
           f"code=\"200\"}} is {s.get(key)}, this script made {made} such requests")
    routes = {v for (n, labels) in s for k, v in labels if k == "route"}
    expect(not [x for x in routes if "proto::" in x or "%3A" in x],
           f"a route label holds an Endpoint ID: {sorted(routes)}")
    ok(f"uspc-api's /metrics counts the {made} GET /api/v1/agents 200s of this script; route "
       "labels are patterns")


def check_metrics_families():
    """The families docs/api.md (Metrics) lists, with their labels."""
    text = want(get("/metrics"), 200, "GET /metrics").decode("utf-8")
    s = samples(text)
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    want_types = {"uspc_api_requests_total": "counter",
                  "uspc_api_request_duration_seconds": "histogram",
                  "uspc_api_events_clients": "gauge", "uspc_api_events_sent_total": "counter",
                  "uspc_api_events_dropped_total": "counter",
                  "uspc_api_db_connections_busy": "gauge", "uspc_api_db_waits_total": "counter",
                  "uspc_fleet_agents": "gauge", "uspc_fleet_tasks": "gauge",
                  "uspc_fleet_campaigns": "gauge",
                  "uspc_fleet_rejections_senders_last_hour": "gauge"}
    wrong = {n: types.get(n) for n, t in want_types.items() if types.get(n) != t}
    expect(not wrong, f"/metrics: families missing or of another type: {wrong}")

    def labels(name):
        return {frozenset(k for k, _ in lab) for (n, lab) in s if n == name}

    expect(labels("uspc_api_requests_total") == {frozenset({"route", "method", "code"})},
           f"uspc_api_requests_total labels: {labels('uspc_api_requests_total')}")
    expect(labels("uspc_api_request_duration_seconds_count") == {frozenset({"route", "method"})},
           f"uspc_api_request_duration_seconds labels: "
           f"{labels('uspc_api_request_duration_seconds_count')}")
    for name, states in (("uspc_fleet_agents", {"online", "offline", "ready"}),
                         ("uspc_fleet_tasks", {"queued", "parked", "sent"})):
        got = {v for (n, lab) in s if n == name for k, v in lab if k == "state"}
        expect(got == states, f"{name}: states {sorted(got)}, wanted {sorted(states)}")
    sent = s.get(("uspc_api_events_sent_total", frozenset()))
    expect(sent and sent >= 4, f"uspc_api_events_sent_total is {sent} after the event checks")
    ok("/metrics has every family docs/api.md lists, of its type and with its labels")


def check_fleet_gauge():
    deadline = time.monotonic() + 20
    while True:
        online = int(q("SELECT count(*) FROM agents WHERE online"))
        s = samples(want(get("/metrics"), 200, "GET /metrics").decode("utf-8"))
        g = s.get(("uspc_fleet_agents", frozenset({("state", "online")})))
        if g == online or time.monotonic() > deadline:
            break
        time.sleep(1)
    expect(g == online, f"uspc_fleet_agents{{state=\"online\"}} is {g} after 20 s, the database "
           f"counts {online}")
    ok(f"uspc_fleet_agents{{state=\"online\"}} is the database's {online}")


def check_daemon_metrics():
    """The daemon's own /metrics, scraped without pause from before to after
    a fan-out of Gets to every online agent through the API."""
    u = urllib.parse.urlsplit(DAEMON_METRICS)
    stop = threading.Event()
    scrapes = []  # (start, end, status, text)

    def scraper():
        while not stop.is_set() and len(scrapes) < 400:
            t0 = time.monotonic()
            try:
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
                c.request("GET", "/metrics")
                rr = c.getresponse()
                text = rr.read().decode("utf-8", "replace")
                c.close()
                scrapes.append((t0, time.monotonic(), rr.status, text))
            except (OSError, http.client.HTTPException) as e:
                scrapes.append((t0, time.monotonic(), 0, repr(e)))
            time.sleep(0.01)

    t = threading.Thread(target=scraper, daemon=True)
    t.start()
    while not scrapes and t.is_alive():
        time.sleep(0.01)
    f0 = time.monotonic()
    rs = [submit({"op": "get", "targets": {"online": True}, "wait": 30,
                  "paths": ["Device.DeviceInfo.", "Device.Time.", "Device.WiFi."]})
          for _ in range(5)]
    f1 = time.monotonic()
    time.sleep(0.1)
    stop.set()
    t.join(15)
    online = int(q("SELECT count(*) FROM agents WHERE online"))
    for r in rs:
        b = want(r, 200, "the fan-out's POST /api/v1/tasks")
        expect(len(b["results"]) == online and all(x.get("ok") for x in b["results"]),
               f"the fan-out: {len(b['results'])} lines, wanted {online} ok: {r}")
    during = [x for x in scrapes if x[0] < f1 and x[1] > f0]
    expect(during, f"no scrape of the daemon's /metrics overlapped the fan-out "
           f"({len(scrapes)} scrapes, the fan-out took {f1 - f0:.2f} s)")
    # every scrape during the fan-out, and a few around it
    chosen = during[:60] + [x for x in scrapes if x not in during][:5]
    for i, (_, _, status, text) in enumerate(chosen):
        expect(status == 200, f"the daemon's /metrics (scrape {i}): {status} {text[:200]}")
        with open(os.path.join(WORK, f"daemon-metrics-{i:03d}.txt"), "w", encoding="utf-8") as f:
            f.write(text)
        check_format(text, f"the daemon's /metrics (scrape {i}, {WORK}/daemon-metrics-{i:03d}.txt)")
    ok(f"the daemon's /metrics: {len(chosen)} scrapes ({len(during)} during a fan-out of 5 Gets "
       f"to {online} agents in {f1 - f0:.2f} s) pass the checker")


# ---- the OpenAPI document against what was received ------------------------------------------------


def resolve(node, seen=()):
    """Inline $refs into components; nullable: true -> null allowed."""
    if isinstance(node, list):
        return [resolve(x, seen) for x in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        expect(ref.startswith("#/") and ref not in seen, f"OpenAPI: a $ref it cannot follow: {ref}")
        target = DOC
        for part in ref[2:].split("/"):
            expect(isinstance(target, dict) and part in target, f"OpenAPI: a dangling $ref {ref}")
            target = target[part]
        return resolve(target, seen + (ref,))
    out = {k: resolve(v, seen) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else out["type"] + ["null"]
        if "enum" in out:
            out["enum"] = out["enum"] + [None]
    return out


def operation_of(method, path):
    """The document's (path template, operation) for a request, literal
    segments before parameters; None when it has none."""
    best = None
    for tpl, ops in DOC["paths"].items():
        if method.lower() not in ops:
            continue
        rx = "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(tpl)) + "$"
        if re.match(rx, path):
            lit = sum(1 for s in tpl.split("/") if s and not s.startswith("{"))
            if best is None or lit > best[0]:
                best = (lit, tpl, ops[method.lower()])
    return (best[1], best[2]) if best else None


def check_openapi():
    used, ok2xx, errors, n = set(), set(), [], 0
    for r in RECORDS:
        if r.port not in (PORT, SLOW_PORT, LIMITED_PORT) or r.status == 0:
            continue
        found = operation_of(r.method, r.path)
        if not found:
            continue  # an unknown route, or a method no operation has (404, 405)
        tpl, op = found
        n += 1
        used.add((r.method, tpl))
        if 200 <= r.status < 300:
            ok2xx.add((r.method, tpl))
        responses = op.get("responses", {})
        spec = responses.get(str(r.status))
        if spec is None:
            errors.append(f"{r.method} {tpl}: status {r.status} is not in the document "
                          f"({sorted(responses)}): {r}")
            continue
        spec = resolve(spec)
        content = spec.get("content")
        if not content:
            if r.body:
                errors.append(f"{r.method} {tpl} {r.status}: a body where the document has none")
            continue
        mt = r.ctype.split(";")[0].strip()
        if mt not in content:
            errors.append(f"{r.method} {tpl} {r.status}: Content-Type {mt}, the document gives "
                          f"{sorted(content)}")
            continue
        schema = content[mt].get("schema", {})
        if mt == "application/json":
            try:
                value = json.loads(r.body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                errors.append(f"{r.method} {tpl} {r.status}: not JSON: {r}")
                continue
        else:
            value = r.body.decode("utf-8", "replace")
        v = jsonschema.Draft4Validator(schema)
        for e in list(v.iter_errors(value))[:3]:
            where = "/".join(str(p) for p in e.absolute_path)
            errors.append(f"{r.method} {r.target} {r.status}: at '{where}': {e.message[:300]}")
    expect(not errors, "responses that do not match the OpenAPI document:\n  " + "\n  ".join(errors))
    all_ops = {(m.upper(), p) for p, ops in DOC["paths"].items() for m in ops if m.upper() in METHODS}
    expect(all_ops <= used, f"operations of the document never exercised: {sorted(all_ops - used)}")
    expect(all_ops <= ok2xx, f"operations never answered 2xx: {sorted(all_ops - ok2xx)}")
    paths = set(DOC["paths"])
    expect(paths <= {t for _, t in used}, f"paths never exercised: {paths - {t for _, t in used}}")
    ok(f"{n} responses match the OpenAPI document (status documented, body valid); all "
       f"{len(all_ops)} operations exercised with a 2xx")


# ---- main -----------------------------------------------------------------------------------------


def main():
    """Every check runs, even after one failed (each stops at its first
    failure), so that one run shows every way the server is off; the
    contract and the OpenAPI document are needed by the rest."""
    PROFILE["selector"]["eid"] = A3
    failed = []
    checks = [check_contract, check_auth, check_tokens, check_bad_input, check_fleet_and_agents,
              check_tag_add, check_tag_list_and_remove, check_submit, check_task_lists,
              check_cancel, check_wait_timeout, check_wait_limit, check_operate,
              lambda: check_campaigns(Stream), check_profiles, check_misc, check_events,
              check_paging, check_header_limit, check_slowloris, check_max_connections,
              check_per_address, check_event_limit, check_waiting_cap, check_db_busy, check_sigterm, check_metrics_format,
              check_metrics_count, check_metrics_families, check_fleet_gauge,
              check_daemon_metrics, check_openapi]
    for i, check in enumerate(checks):
        try:
            check()
        except CheckFailed as e:
            print(f"FAIL: {e}", flush=True)
            failed.append(str(e))
            if i == 0 or DOC is None:
                break
    took = time.monotonic() - T0
    if failed:
        print(f"api_check: {len(failed)} check(s) failed in {took:.1f} s", flush=True)
        sys.exit(1)
    print(f"api_check: all checks passed in {took:.1f} s", flush=True)


if __name__ == "__main__":
    main()
