#!/usr/bin/env python3
"""grafana-check.py — checks the Grafana dashboard deploy/grafana/uspc.json
against the metrics uspc and uspc-api really serve (tests/package/
test-grafana.sh runs it against live daemons).

    grafana-check.py [--token-file FILE] [--promtool PROMTOOL]
                     [--prometheus URL] DASHBOARD SOURCE...

SOURCE is a /metrics text, as a file or an http(s) URL (fetched with
"Authorization: Bearer <the token in --token-file>" when given: uspc-api's
/metrics needs a viewer token). A metric exists when a SOURCE has a sample
of it or declares its family with a TYPE line (a family with no series yet,
such as uspc_fleet_campaigns before the first campaign); a histogram's
family gives NAME_bucket, NAME_sum and NAME_count.

Checks:
  - DASHBOARD is JSON, a dashboard model: title, uid, schemaVersion >= 36,
    panels with unique ids and a gridPos inside the 24 columns;
  - the datasource is the import input ${DS_PROMETHEUS}: declared in
    __inputs (a Prometheus datasource) and used by every panel, target and
    query variable (no datasource uid of a particular Grafana left in);
  - every target has a refId unique in its panel and an expr; every expr
    and variable query names at least one metric, and every metric it
    names (uspc_*, outside strings and label matchers) exists in a SOURCE;
    every label an expr matches on or aggregates by (by, without, on,
    ignoring) is on some series of a SOURCE, or is instance or job;
  - with --promtool, every expr parses as PromQL (promtool check rules on
    the exprs with the dashboard's variables replaced);
  - with --prometheus, every expr, evaluated there, returns a series
    (unless it names a family that had no series in the SOURCEs).
Exit status: 0 passed (a summary on standard output), 1 failed (each
problem on standard error), 2 usage.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

problems = []


def bad(msg):
    problems.append(msg)


def read_source(src, token):
    if re.match(r"https?://", src):
        req = urllib.request.Request(src)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read().decode("utf-8")
    with open(src, encoding="utf-8") as f:
        return f.read()


def metric_names(text, labels, sampled):
    """Sample names and TYPE-declared families (histograms with suffixes);
    the label names of the samples go into labels, the names that have
    samples into sampled."""
    names = set()
    for line in text.splitlines():
        m = re.match(r"# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)", line)
        if m:
            names.add(m.group(1))
            if m.group(2) in ("histogram", "summary"):
                names.update(m.group(1) + s for s in ("_bucket", "_sum", "_count"))
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ", line)
        if m and not line.startswith("#"):
            names.add(m.group(1))
            sampled.add(m.group(1))
            labels.update(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"", m.group(2) or ""))
    return names


def labels_in(expr):
    """Label names an expr matches on or aggregates by."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    out = set()
    for sel in re.findall(r"\{([^}]*)\}", e):
        out.update(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", sel))
    for grp in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", e):
        out.update(x.strip() for x in grp.split(",") if x.strip())
    return out


def names_in(expr):
    """uspc_* metric names an expr or variable query uses: strings and
    label matchers removed first, so label values never count."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", "{}", e)
    return set(re.findall(r"\b(uspc_[a-zA-Z0-9_:]*)", e))


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def is_input_ds(ds):
    return isinstance(ds, dict) and ds.get("uid") == "${DS_PROMETHEUS}" or ds == "${DS_PROMETHEUS}"


def substitute(expr):
    """The expr with Grafana's variables replaced, for promtool and Prometheus."""
    e = expr.replace("$__rate_interval", "1m").replace("$__interval", "1m")
    e = re.sub(r"\$\{?[a-zA-Z_][a-zA-Z0-9_]*\}?", ".*", e)
    return e


def main():
    ap = argparse.ArgumentParser(description="check a Grafana dashboard against /metrics")
    ap.add_argument("--token-file")
    ap.add_argument("--promtool")
    ap.add_argument("--prometheus")
    ap.add_argument("dashboard")
    ap.add_argument("sources", nargs="+")
    a = ap.parse_args()

    token = None
    if a.token_file:
        with open(a.token_file, encoding="utf-8") as f:
            token = f.read().strip()
    known = set()
    # instance and job: the labels Prometheus adds to every target's series
    known_labels = {"instance", "job"}
    sampled = set()
    for src in a.sources:
        try:
            known |= metric_names(read_source(src, token), known_labels, sampled)
        except Exception as e:  # noqa: BLE001 — any failure to read is fatal
            print(f"grafana-check: cannot read {src}: {e}", file=sys.stderr)
            return 1
    if not known:
        print("grafana-check: no metric in the sources", file=sys.stderr)
        return 1

    try:
        with open(a.dashboard, encoding="utf-8") as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        print(f"grafana-check: {a.dashboard}: not JSON: {e}", file=sys.stderr)
        return 1

    for k in ("title", "uid"):
        if not isinstance(d.get(k), str) or not d.get(k):
            bad(f"no {k}")
    if not isinstance(d.get("schemaVersion"), int) or d["schemaVersion"] < 36:
        bad(f"schemaVersion {d.get('schemaVersion')!r} (want 36 or later)")
    inputs = [i for i in d.get("__inputs", []) if i.get("name") == "DS_PROMETHEUS"]
    if len(inputs) != 1 or inputs[0].get("type") != "datasource" or inputs[0].get("pluginId") != "prometheus":
        bad("__inputs must declare DS_PROMETHEUS, a datasource of plugin prometheus")

    exprs = []  # (where, expr)
    ids = set()
    for p in walk_panels(d.get("panels", [])):
        where = f"panel {p.get('id')} '{p.get('title', '')}'"
        if p.get("id") in ids or not isinstance(p.get("id"), int):
            bad(f"{where}: id missing or used twice")
        ids.add(p.get("id"))
        g = p.get("gridPos", {})
        if not all(isinstance(g.get(k), int) for k in "xywh") or g["x"] < 0 or g["w"] < 1 or g["x"] + g["w"] > 24:
            bad(f"{where}: gridPos {g} not inside the 24 columns")
        if p.get("type") == "row":
            continue
        if not is_input_ds(p.get("datasource")):
            bad(f"{where}: datasource {p.get('datasource')!r} is not ${{DS_PROMETHEUS}}")
        refs = set()
        if not p.get("targets"):
            bad(f"{where}: no targets")
        for t in p.get("targets", []):
            if t.get("refId") in refs or not t.get("refId"):
                bad(f"{where}: refId missing or used twice")
            refs.add(t.get("refId"))
            if "datasource" in t and not is_input_ds(t["datasource"]):
                bad(f"{where}: target {t.get('refId')} datasource is not ${{DS_PROMETHEUS}}")
            if not t.get("expr"):
                bad(f"{where}: target {t.get('refId')} has no expr")
            else:
                exprs.append((f"{where} {t.get('refId')}", t["expr"]))
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        where = f"variable {v.get('name')}"
        if not is_input_ds(v.get("datasource")):
            bad(f"{where}: datasource is not ${{DS_PROMETHEUS}}")
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if not q:
            bad(f"{where}: no query")
        else:
            exprs.append((where, q))
    if not exprs:
        bad("no expr at all")

    used = set()
    for where, e in exprs:
        names = names_in(e)
        if not names:
            bad(f"{where}: names no uspc_ metric: {e}")
        for n in sorted(names - known):
            bad(f"{where}: {n} is not a metric the daemons serve (in: {e})")
        if not where.startswith("variable "):
            for n in sorted(labels_in(e) - known_labels):
                bad(f"{where}: label {n} is on no series the daemons serve (in: {e})")
        used |= names

    promql = [(w, e) for w, e in exprs if not w.startswith("variable ")]
    if a.promtool:
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
            f.write("groups:\n  - name: dashboard\n    rules:\n")
            for i, (_, e) in enumerate(promql):
                f.write(f"      - record: dashboard:expr{i}\n        expr: {json.dumps(substitute(e))}\n")
            rules = f.name
        r = subprocess.run([a.promtool, "check", "rules", rules], capture_output=True, text=True)
        os.unlink(rules)
        if r.returncode != 0:
            bad("promtool check rules: " + (r.stdout + r.stderr).strip())
    if a.prometheus:
        for where, e in promql:
            if names_in(e) - sampled:
                continue  # a family with no series in the sources has none there either
            url = a.prometheus.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": substitute(e)})
            try:
                with urllib.request.urlopen(url, timeout=10) as r:
                    res = json.load(r)
            except Exception as ex:  # noqa: BLE001
                bad(f"{where}: Prometheus: {ex}")
                continue
            if res.get("status") != "success":
                bad(f"{where}: Prometheus: {res}")
            elif not res["data"]["result"]:
                bad(f"{where}: no series from Prometheus for {substitute(e)}")

    for p in problems:
        print(f"grafana-check: {p}", file=sys.stderr)
    if problems:
        return 1
    extra = (", PromQL parsed by promtool" if a.promtool else "") + (
        ", every expr has series in Prometheus" if a.prometheus else "")
    print(f"grafana-check: {a.dashboard}: {len(exprs)} queries over {len(used)} metrics, "
          f"all served{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
