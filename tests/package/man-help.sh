#!/usr/bin/env bash
# man-help.sh — keeps a man page's scdoc source in step with its program:
#
#   man-help.sh options PAGE.scd PROGRAM
#       every option PROGRAM --help prints (--long, and -x short forms) is
#       written in bold in PAGE (*--long*, *-x*), and every bold option in
#       PAGE is one --help prints; every USPC_* variable --help names appears
#       in PAGE, and every bold USPC_* in PAGE is one --help names.
#   man-help.sh conf PAGE.scd USPC
#       the keys `USPC --help` lists, the keys `USPC --check-config` prints
#       and the keys PAGE defines ("*key* = ..." or "*key* (environment ...")
#       are the same three sets.
#
# Mention other programs' options in a page in plain text, not in bold.
# Programs run with an empty environment (no USPC_* settings leak in).
# Exit status: 0 in step, 1 not (the differences are printed), 2 usage.
set -euo pipefail

usage() {
	echo "usage: $0 options|conf PAGE.scd PROGRAM" >&2
	exit 2
}
[ $# -eq 3 ] || usage
mode=$1 page=$2 prog=$3
[ -r "$page" ] || { echo "man-help: cannot read $page" >&2; exit 2; }
[ -x "$prog" ] || { echo "man-help: not executable: $prog" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
name=$(basename "$page" .scd)
# The page without its scdoc comments (lines starting with ";").
grep -v '^;' "$page" >"$tmp/page" || true
run() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent "$prog" "$@" 2>&1; }

rc=0
# compare LABEL_A FILE_A LABEL_B FILE_B: each name in one set and not the other
compare() {
	local only_a only_b
	only_a=$(comm -23 "$2" "$4")
	only_b=$(comm -13 "$2" "$4")
	if [ -n "$only_a" ]; then
		rc=1
		echo "in $1 but not in $3:"
		printf '  %s\n' $only_a
	fi
	if [ -n "$only_b" ]; then
		rc=1
		echo "in $3 but not in $1:"
		printf '  %s\n' $only_b
	fi
	return 0
}

case $mode in
options)
	run --help >"$tmp/help" || { echo "man-help: $prog --help failed:"; cat "$tmp/help"; exit 1; }
	{
		grep -oE -- '--[a-z][a-z0-9-]*' "$tmp/help" || true
		grep -oE -- '(^|[[:space:],[])-[A-Za-z]([[:space:],]|$)' "$tmp/help" |
			grep -oE -- '-[A-Za-z]' || true
	} | sort -u >"$tmp/help-opts"
	grep -oE -- '\*--?[A-Za-z][A-Za-z0-9-]*\*' "$tmp/page" | tr -d '*' | sort -u >"$tmp/page-opts" || true
	{ grep -oE 'USPC_[A-Z0-9_]*[A-Z0-9]' "$tmp/help" || true; } | sort -u >"$tmp/help-env"
	{ grep -oE 'USPC_[A-Z0-9_]*[A-Z0-9]' "$tmp/page" || true; } | sort -u >"$tmp/page-env"
	{ grep -oE '\*USPC_[A-Z0-9_]*[A-Z0-9]\*' "$tmp/page" || true; } | tr -d '*' | sort -u >"$tmp/page-env-bold"
	[ -s "$tmp/help-opts" ] || { echo "man-help: no options found in $prog --help"; exit 1; }
	compare "$(basename "$prog") --help" "$tmp/help-opts" "$name (bold options)" "$tmp/page-opts"
	if [ -n "$(comm -23 "$tmp/help-env" "$tmp/page-env")" ]; then
		compare "$(basename "$prog") --help" "$tmp/help-env" "$name" "$tmp/page-env"
	fi
	if [ -n "$(comm -13 "$tmp/help-env" "$tmp/page-env-bold")" ]; then
		compare "$(basename "$prog") --help" "$tmp/help-env" "$name (bold variables)" "$tmp/page-env-bold"
	fi
	summary="$(wc -l <"$tmp/help-opts") options, $(wc -l <"$tmp/help-env") variables"
	;;
conf)
	run --help >"$tmp/help" || { echo "man-help: $prog --help failed:"; cat "$tmp/help"; exit 1; }
	run --check-config >"$tmp/check" || { echo "man-help: $prog --check-config failed:"; cat "$tmp/check"; exit 1; }
	{ grep -E '^  [a-z][a-z0-9_]* +(--[a-z]|\(no flag\))' "$tmp/help" || true; } |
		awk '{ print $1 }' | sort -u >"$tmp/help-keys"
	{ grep -E '^[a-z][a-z0-9_]* = ' "$tmp/check" || true; } | awk '{ print $1 }' | sort -u >"$tmp/check-keys"
	{ grep -oE '\*[a-z][a-z0-9_]*\* (=|\(environment)' "$tmp/page" || true; } |
		sed -E 's/^\*([a-z0-9_]*)\*.*/\1/' | sort -u >"$tmp/page-keys"
	[ -s "$tmp/help-keys" ] || { echo "man-help: no keys found in $prog --help"; exit 1; }
	compare "$(basename "$prog") --help" "$tmp/help-keys" "$(basename "$prog") --check-config" "$tmp/check-keys"
	compare "$(basename "$prog") --help" "$tmp/help-keys" "$name" "$tmp/page-keys"
	summary="$(wc -l <"$tmp/help-keys") keys"
	;;
*) usage ;;
esac

if [ $rc -eq 0 ]; then
	echo "man-help: $name in step with $(basename "$prog") ($summary)"
else
	echo "man-help: $name is out of step with $(basename "$prog"): update $page" \
		"(or the program's --help)"
fi
exit $rc
