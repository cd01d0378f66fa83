#!/usr/bin/env bash
# tests/docs/test-check-links.sh — check-links.sh itself: it passes a small
# tree whose links, anchors and headings are right, and fails, naming file
# and line, on each kind of fault (a missing file, a missing anchor, a path
# leaving the tree, a mention of ../shared or mqtt-clients.md, a dated
# work-log heading). The tree is not a git work tree, so presence on disk
# is what counts.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd -P)
check=$here/check-links.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "test-check-links: FAIL: $*" >&2; fails=$((fails + 1)); }

mkdir -p "$tmp/docs" "$tmp/src"
: >"$tmp/src/main.c"
cat >"$tmp/docs/guide.md" <<'EOF'
# Guide

## `max_inflight` — the window, and why
## Repeated
## Repeated
## Café & crème (UTF-8)

```
[not a link](nowhere.md)
## 2026-12-06 inside a code block is not a heading
```
EOF
cat >"$tmp/README.md" <<'EOF'
# Project

See [the guide](docs/guide.md), [its window](docs/guide.md#max_inflight--the-window-and-why),
[the second one](docs/guide.md#repeated-1), [UTF-8](docs/guide.md#café--crème-utf-8),
[the source](src/main.c#L1), [a folder](src/), [here](#project),
[the web](https://example.com/x.md) and `[code](missing.md)`.

[ref]: docs/guide.md#guide
EOF

# 1. A correct tree passes.
if ! out=$("$check" "$tmp" README.md docs/guide.md 2>&1); then
	fail "a correct tree was refused: $out"
fi

# 2. Each fault fails with its own message.
expect_fail() { # name, text to append to README.md, expected message
	cp "$tmp/README.md" "$tmp/README.md.orig"
	printf '%s\n' "$2" >>"$tmp/README.md"
	if out=$("$check" "$tmp" README.md docs/guide.md 2>&1); then
		fail "$1: passed, expected a failure"
	elif ! grep -qF -- "$3" <<<"$out"; then
		fail "$1: expected '$3' in: $out"
	fi
	mv "$tmp/README.md.orig" "$tmp/README.md"
}
expect_fail "missing file" "A [broken link](docs/missing.md)." "README.md:9: link docs/missing.md: docs/missing.md is not in the repository"
expect_fail "missing anchor" "A [bad anchor](docs/guide.md#no-such-heading)." 'no heading "#no-such-heading" in docs/guide.md'
expect_fail "missing local anchor" "A [bad anchor](#nowhere)." 'no heading "#nowhere" in README.md'
expect_fail "leaves the tree" "Up [and out](../../etc/passwd)." "leaves the repository"
expect_fail "reference link" "[r2]: docs/gone.md" "link docs/gone.md: docs/gone.md is not in the repository"
expect_fail "../shared" "As ../shared/ARCHITECTURE.md says." "mentions ../shared"
expect_fail "mqtt-clients.md" "See docs/mqtt-clients.md." "mentions mqtt-clients.md"
expect_fail "session heading" "## Fifth session: what we did" "dated work-log heading"
expect_fail "dated heading" "### 2026-12-06: the wedge" "dated work-log heading"

if [ "$fails" -ne 0 ]; then
	echo "test-check-links: $fails failure(s)" >&2
	exit 1
fi
echo "test-check-links: ok (1 correct tree, 9 faults caught)"
