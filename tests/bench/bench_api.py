#!/usr/bin/env python3
"""bench_api.py — HTTP load for uspc-api's bench scenario (tests/bench/run.sh
--only api). Standard library only: http.client on keep-alive connections,
one thread per connection.

  bench_api.py agent-page BASE TOKEN EIDS_FILE SECONDS THREADS
      GET /api/v1/agents/{eid} for random agents: requests/s, p50/p99 ms
  bench_api.py fleet-list BASE TOKEN SECONDS THREADS
      page through the whole fleet (GET /api/v1/agents?limit=1000, following
      next): pages/s, p50/p99 ms per page, seconds per full listing
  bench_api.py sse BASE TOKEN CLIENTS STOP_FILE [TYPES]
      CLIENTS event streams (GET /api/v1/events?types=TYPES, default task)
      read until STOP_FILE exists; prints events received per client
      (min/median/max) and lagged
Prints one JSON object on stdout.
"""
import http.client
import json
import os
import random
import socket
import sys
import threading
import time
import urllib.parse


def conn_for(base):
    u = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def pct(v, p):
    if not v:
        return None
    v = sorted(v)
    return round(v[min(len(v) - 1, int(p * len(v)))] * 1000, 2)


def run_threads(n, fn):
    out = [None] * n
    ts = [threading.Thread(target=lambda i=i: out.__setitem__(i, fn(i))) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def agent_page(base, token, eids_file, secs, threads):
    eids = [l.strip() for l in open(eids_file) if l.strip()]
    hdr = {"Authorization": "Bearer " + token}
    end = time.monotonic() + secs

    def work(i):
        c = conn_for(base)
        lat, errors = [], 0
        rnd = random.Random(i)
        while time.monotonic() < end:
            eid = urllib.parse.quote(rnd.choice(eids), safe="")
            t0 = time.monotonic()
            c.request("GET", "/api/v1/agents/" + eid, headers=hdr)
            r = c.getresponse()
            r.read()
            lat.append(time.monotonic() - t0)
            errors += r.status != 200
        return lat, errors

    t0 = time.monotonic()
    res = run_threads(threads, work)
    wall = time.monotonic() - t0
    lat = [x for l, _ in res for x in l]
    return {"requests": len(lat), "errors": sum(e for _, e in res), "threads": threads,
            "requests_per_sec": round(len(lat) / wall, 1), "p50_ms": pct(lat, 0.5),
            "p99_ms": pct(lat, 0.99)}


def fleet_list(base, token, secs, threads):
    hdr = {"Authorization": "Bearer " + token}
    end = time.monotonic() + secs

    def work(i):
        c = conn_for(base)
        lat, full, agents, errors = [], [], 0, 0
        while time.monotonic() < end:
            after, t_list, n = None, time.monotonic(), 0
            while True:
                q = "limit=1000" + ("&after=" + urllib.parse.quote(after, safe="") if after else "")
                t0 = time.monotonic()
                c.request("GET", "/api/v1/agents?" + q, headers=hdr)
                r = c.getresponse()
                body = r.read()
                lat.append(time.monotonic() - t0)
                if r.status != 200:
                    errors += 1
                    break
                page = json.loads(body)
                n += len(page["items"])
                after = page["next"]
                if not after:
                    break
            full.append(time.monotonic() - t_list)
            agents = n
        return lat, full, agents, errors

    t0 = time.monotonic()
    res = run_threads(threads, work)
    wall = time.monotonic() - t0
    lat = [x for l, _, _, _ in res for x in l]
    full = [x for _, f, _, _ in res for x in f]
    return {"pages": len(lat), "errors": sum(r[3] for r in res), "threads": threads,
            "agents_per_listing": max(r[2] for r in res), "pages_per_sec": round(len(lat) / wall, 1),
            "page_p50_ms": pct(lat, 0.5), "page_p99_ms": pct(lat, 0.99),
            "listing_seconds_median": round(sorted(full)[len(full) // 2], 3) if full else None}


class ChunkedStream:
    """An event stream read from a raw socket: HTTP/1.1 chunked framing
    removed by hand (http.client's reader does not survive a read timeout
    between chunks, and an idle stream times out every second here)."""

    def __init__(self, base, path, token):
        u = urllib.parse.urlsplit(base)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=10)
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n"
                           % (path, u.netloc, token)).encode())
        raw = b""
        while b"\r\n\r\n" not in raw:
            got = self.sock.recv(65536)
            if not got:
                raise OSError("closed before the response headers")
            raw += got
        head, self.raw = raw.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ", 2)[1])
        self.left = 0  # bytes left in the current chunk
        self.sock.settimeout(1.0)

    def read(self):
        """Body bytes now available (b"" at the end; None after a timeout)."""
        out = b""
        while True:
            if self.left == 0:
                if b"\r\n" not in self.raw[2 if self.raw.startswith(b"\r\n") else 0:]:
                    break
                if self.raw.startswith(b"\r\n"):
                    self.raw = self.raw[2:]
                line, self.raw = self.raw.split(b"\r\n", 1)
                self.left = int(line.split(b";")[0], 16)
                if self.left == 0:
                    return out if out else b""
            take = self.raw[:self.left]
            out += take
            self.raw = self.raw[len(take):]
            self.left -= len(take)
            if self.left and not self.raw:
                break
        if out:
            return out
        try:
            got = self.sock.recv(65536)
        except (TimeoutError, socket.timeout):
            return None
        if not got:
            return b""
        self.raw += got
        return self.read() or None


def sse(base, token, clients, stop_file, types="task"):
    counts = [0] * clients
    lagged = [0] * clients
    ready = threading.Barrier(clients + 1)

    def work(i):
        try:
            st = ChunkedStream(base, "/api/v1/events?types=" + types, token)
        except OSError as e:
            print("stream %d: %s" % (i, e), file=sys.stderr)
            ready.abort()
            return
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            return
        if st.status != 200:
            print("stream %d: HTTP %d" % (i, st.status), file=sys.stderr)
            return
        buf = b""
        while not os.path.exists(stop_file):
            try:
                chunk = st.read()
            except OSError:
                break
            if chunk is None:
                continue
            if not chunk:
                break
            buf += chunk
            while b"\n\n" in buf:
                ev, buf = buf.split(b"\n\n", 1)
                if ev.startswith(b"event: ") and not ev.startswith(b"event: lagged"):
                    counts[i] += 1
                elif ev.startswith(b"event: lagged"):
                    lagged[i] += 1
        st.sock.close()

    ts = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for t in ts:
        t.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        sys.exit("bench_api.py: not every event stream could be opened")
    print("ready", file=sys.stderr, flush=True)
    for t in ts:
        t.join()
    s = sorted(counts)
    return {"clients": clients, "types": types, "events_min": s[0], "events_median": s[len(s) // 2],
            "events_max": s[-1], "clients_lagged": sum(1 for x in lagged if x)}


def main(a):
    if a[0] == "agent-page":
        r = agent_page(a[1], a[2], a[3], float(a[4]), int(a[5]))
    elif a[0] == "fleet-list":
        r = fleet_list(a[1], a[2], float(a[3]), int(a[4]))
    elif a[0] == "sse":
        r = sse(a[1], a[2], int(a[3]), a[4], a[5] if len(a) > 5 else "task")
    else:
        sys.exit("bench_api.py: unknown mode " + a[0])
    print(json.dumps(r))


if __name__ == "__main__":
    main(sys.argv[1:])
