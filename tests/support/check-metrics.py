#!/usr/bin/env python3
"""check-metrics.py — a strict checker of the Prometheus text exposition
format 0.0.4, for what uspc serves on /metrics (the unit test of the
renderer and tests/integration/core/test_core_metrics.sh run it).

    check-metrics.py [--prefix PREFIX] [FILE]      (default: standard input)

Checks, beyond what a scraper would merely tolerate:
  - the text is not empty and ends with a newline; no blank lines;
  - every family has one HELP and one TYPE line, both before its first
    sample; a family's samples are not split by another family's lines;
  - names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
    [a-zA-Z_][a-zA-Z0-9_]* (not starting with __), no label twice;
  - label values are quoted, with \\\\, \\" and \\n the only escapes; HELP
    text has \\\\ and \\n the only escapes;
  - a counter's name ends in _total and its values are finite and >= 0;
  - values parse as floats (digits, or NaN / +Inf / -Inf), timestamps as
    integers;
  - no series (name and label set) twice;
  - with --prefix, every family's name starts with PREFIX.
Exit status: 0 valid (a one-line summary on standard output), 1 invalid
(each problem on standard error as "line N: ..."), 2 usage.
"""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
FLOAT = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$|^[+-]Inf$|^NaN$")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def family_of(name, types):
    """The family a sample name belongs to (histogram/summary suffixes)."""
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            if types.get(base) in ("histogram", "summary"):
                return base
    return name


def help_escapes_ok(text):
    """HELP text: a backslash only as \\\\ or \\n."""
    i = 0
    while i < len(text):
        if text[i] == "\\":
            if text[i + 1 : i + 2] not in ("\\", "n"):
                return False
            i += 2
        else:
            i += 1
    return True


def parse_labels(text, pos, errors, lineno):
    """Parse {a="x",b="y"} starting at text[pos] == '{'; returns (labels, pos)."""
    labels = {}
    pos += 1
    while True:
        if pos < len(text) and text[pos] == "}":
            return labels, pos + 1
        m = re.match(LABEL, text[pos:])
        if not m:
            errors.append((lineno, "bad label name at column %d" % (pos + 1)))
            return None, pos
        lname = m.group(0)
        if lname.startswith("__"):
            errors.append((lineno, "label name %s is reserved (starts with __)" % lname))
        pos += len(lname)
        if text[pos : pos + 2] != '="':
            errors.append((lineno, "label %s: expected =\"" % lname))
            return None, pos
        pos += 2
        value = []
        while True:
            if pos >= len(text):
                errors.append((lineno, "label %s: unterminated value" % lname))
                return None, pos
            c = text[pos]
            if c == "\\":
                nxt = text[pos + 1 : pos + 2]
                if nxt not in ("\\", '"', "n"):
                    errors.append((lineno, "label %s: bad escape \\%s" % (lname, nxt)))
                    return None, pos
                value.append("\n" if nxt == "n" else nxt)
                pos += 2
                continue
            if c == '"':
                pos += 1
                break
            if c == "\n":
                errors.append((lineno, "label %s: raw newline in value" % lname))
                return None, pos
            value.append(c)
            pos += 1
        if lname in labels:
            errors.append((lineno, "label %s given twice" % lname))
        labels[lname] = "".join(value)
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif pos < len(text) and text[pos] == "}":
            continue
        else:
            errors.append((lineno, "expected , or } after label %s" % lname))
            return None, pos


def check(text, prefix=None):
    errors = []
    if not text:
        return ["line 0: empty exposition"], 0, 0
    if not text.endswith("\n"):
        errors.append((text.count("\n") + 1, "no newline at the end of the text"))
    helps, types = {}, {}
    sampled = set()  # families that have samples
    series = set()
    closed = set()  # families whose block ended (another family's line came)
    current = None
    n_samples = 0

    def enter(fam, lineno):
        nonlocal current
        if fam != current:
            if fam in closed:
                errors.append((lineno, "family %s continues after another family's lines" % fam))
            if current is not None:
                closed.add(current)
            current = fam

    for lineno, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"), 1):
        if line == "":
            errors.append((lineno, "blank line"))
            continue
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (\S+)(?: (.*))?$", line)
            if not m:
                continue  # a plain comment
            kind, name, rest = m.group(1), m.group(2), m.group(3) or ""
            if not re.fullmatch(NAME, name):
                errors.append((lineno, "bad metric name %r" % name))
                continue
            enter(name, lineno)
            if name in sampled:
                errors.append((lineno, "%s of %s after its samples" % (kind, name)))
            if kind == "HELP":
                if name in helps:
                    errors.append((lineno, "second HELP for %s" % name))
                if not help_escapes_ok(rest):
                    errors.append((lineno, "HELP of %s: bad escape" % name))
                if not rest.strip():
                    errors.append((lineno, "HELP of %s is empty" % name))
                helps[name] = rest
            else:
                if name in types:
                    errors.append((lineno, "second TYPE for %s" % name))
                if rest not in TYPES:
                    errors.append((lineno, "TYPE of %s: unknown type %r" % (name, rest)))
                types[name] = rest
                if rest == "counter" and not name.endswith("_total"):
                    errors.append((lineno, "counter %s does not end in _total" % name))
                if prefix and not name.startswith(prefix):
                    errors.append((lineno, "%s lacks the prefix %s" % (name, prefix)))
            continue
        m = re.match(NAME, line)
        if not m:
            errors.append((lineno, "a sample must start with a metric name"))
            continue
        name = m.group(0)
        pos = len(name)
        labels = {}
        if pos < len(line) and line[pos] == "{":
            labels, pos = parse_labels(line, pos, errors, lineno)
            if labels is None:
                continue
        rest = line[pos:]
        if not rest.startswith(" "):
            errors.append((lineno, "%s: expected a space before the value" % name))
            continue
        parts = rest[1:].split(" ")
        if len(parts) not in (1, 2) or parts[0] == "":
            errors.append((lineno, "%s: expected 'value [timestamp]'" % name))
            continue
        if not FLOAT.match(parts[0]):
            errors.append((lineno, "%s: value %r is not a float" % (name, parts[0])))
            continue
        if len(parts) == 2 and not re.fullmatch(r"-?[0-9]+", parts[1]):
            errors.append((lineno, "%s: timestamp %r is not an integer" % (name, parts[1])))
        fam = family_of(name, types)
        enter(fam, lineno)
        if fam not in helps:
            errors.append((lineno, "sample of %s without a HELP line before it" % fam))
        if fam not in types:
            errors.append((lineno, "sample of %s without a TYPE line before it" % fam))
        if types.get(fam) == "counter":
            v = float(parts[0])
            if v != v or v < 0 or v == float("inf"):
                errors.append((lineno, "counter %s has value %s" % (name, parts[0])))
        key = (name, tuple(sorted(labels.items())))
        if key in series:
            errors.append((lineno, "series %s%s given twice" % (name, labels or "")))
        series.add(key)
        sampled.add(fam)
        n_samples += 1
    return ["line %d: %s" % e for e in errors], len(set(helps) | set(types)), n_samples


def main(argv):
    args = argv[1:]
    prefix = None
    if args[:1] == ["--prefix"]:
        if len(args) < 2:
            print(__doc__.split("\n\n")[1], file=sys.stderr)
            return 2
        prefix = args[1]
        args = args[2:]
    if len(args) > 1 or (args and args[0].startswith("-")):
        print("usage: check-metrics.py [--prefix PREFIX] [FILE]", file=sys.stderr)
        return 2
    data = open(args[0], "rb").read() if args else sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        print("line 0: not UTF-8: %s" % e, file=sys.stderr)
        return 1
    errors, n_fam, n_samples = check(text, prefix)
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        return 1
    print("check-metrics: ok: %d families, %d samples" % (n_fam, n_samples))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
