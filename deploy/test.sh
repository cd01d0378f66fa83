#!/usr/bin/env bash
# test.sh — the whole check, as CI runs it: install dependencies, check the
# C formatting, build with ASan+UBSan and -Werror, run every ctest test (unit
# and integration; the integration fixture starts a private mosquitto and
# PostgreSQL in <build>/ctest-stack and this script stops it on any exit),
# then a short, deterministic run of every fuzz target, and the package test.
#
#   deploy/test.sh [extra ctest arguments, e.g. -L unit or -R stack]
#
# Environment:
#   USPC_BUILD_DIR      build directory (default: <repo>/build-test)
#   USPC_JOBS           parallel build jobs (default: 2)
#   USPC_CTEST_JOBS     parallel ctest jobs (default: 1; integration tests
#                       share one broker and database)
#   USPC_FORMAT_CHECK   0 to skip the clang-format check (default: 1)
#   USPC_FUZZ_SMOKE     0 to skip the fuzz smoke step (default: 1, and 0 when
#                       ctest arguments are given): every libFuzzer target,
#                       built with clang in <build>-fuzz, replays its seeds
#                       and runs USPC_FUZZ_RUNS (50000) inputs from a fixed
#                       seed
#   USPC_PACKAGE_TEST   0 to skip the package step (default: 1, and 0 when
#                       ctest arguments are given): deploy/build-deb.sh in
#                       <build>-pkg (lintian included), then
#                       tests/package/test-package.sh installs, checks,
#                       removes and purges it on this machine. Only as root
#                       (CI); as another user it says SKIP and passes. By
#                       hand: sudo tests/package/test-package.sh
# Exit status: ctest's when it failed, else 1 if the fuzz smoke step, the
# package step or the format check failed, else 0.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd -P)
BUILD=${USPC_BUILD_DIR:-$REPO/build-test}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
JOBS=${USPC_JOBS:-2}
CTEST_JOBS=${USPC_CTEST_JOBS:-1}
STACK_DIR=$BUILD/ctest-stack
START=$(date +%s)

step() { printf '\n==== %s (%ds)\n' "$*" $(($(date +%s) - START)); }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -d "$STACK_DIR" ]; then
		"$REPO/deploy/local-stack.sh" stop --dir "$STACK_DIR" >/dev/null 2>&1 ||
			echo "test.sh: warning: could not stop the ctest stack in $STACK_DIR" >&2
	fi
	printf '\n==== total time: %ds\n' $(($(date +%s) - START))
	exit $rc
}
trap cleanup EXIT
trap 'echo "test.sh: interrupted" >&2; exit 130' INT TERM

step "dependencies"
"$REPO/deploy/setup-deps.sh" || exit 1
# The browser test's one npm dependency (puppeteer-core, pinned in
# tests/console/package-lock.json), into tests/console/node_modules.
(cd "$REPO/tests/console" && npm ci --no-audit --no-fund --loglevel=error) || exit 1
# The CWMP peer's one npm dependency (fast-xml-parser, pinned in
# tests/cwmp-peer/package-lock.json), into tests/cwmp-peer/node_modules.
(cd "$REPO/tests/cwmp-peer" && npm ci --no-audit --no-fund --loglevel=error) || exit 1

format_rc=0
if [ -f "$REPO/.clang-format" ] && [ "${USPC_FORMAT_CHECK:-1}" != 0 ]; then
	step "clang-format check"
	mapfile -t sources < <(cd "$REPO" && git ls-files -co --exclude-standard -- \
		'controller/*.c' 'controller/*.h' 'agents-sim/*.c' 'agents-sim/*.h' \
		'tests/*.c' 'tests/*.h' 2>/dev/null || true)
	if [ ${#sources[@]} -eq 0 ]; then
		# Not a git checkout: fall back to find.
		mapfile -t sources < <(cd "$REPO" && find controller agents-sim tests \
			-name '*.[ch]' -not -path '*/build*' 2>/dev/null | sort)
	fi
	bad=()
	for f in "${sources[@]}"; do
		[ -f "$REPO/$f" ] || continue
		(cd "$REPO" && clang-format --dry-run --Werror "$f" >/dev/null 2>&1) || bad+=("$f")
	done
	if [ ${#bad[@]} -eq 0 ]; then
		echo "clang-format: ${#sources[@]} files clean"
	else
		format_rc=1
		echo "clang-format: ${#bad[@]} of ${#sources[@]} files need formatting" \
			"(fix: clang-format -i FILE):"
		printf '  %s\n' "${bad[@]}"
	fi
fi

step "configure ($BUILD, ASan+UBSan, -Werror)"
cmake -S "$REPO" -B "$BUILD" -DUSPC_SANITIZE=address -DUSPC_WERROR=ON || exit 1

step "build (-j$JOBS)"
cmake --build "$BUILD" -j "$JOBS" || exit 1

step "tests"
# A stack left over by an interrupted run is stopped and wiped so every run
# starts from an empty database.
"$REPO/deploy/local-stack.sh" destroy --dir "$STACK_DIR" >/dev/null 2>&1 || true
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
(cd "$BUILD" && ctest --output-on-failure -j "$CTEST_JOBS" "$@")
ctest_rc=$?

if [ $ctest_rc -ne 0 ]; then
	echo "test.sh: ctest failed (status $ctest_rc)" >&2
	exit $ctest_rc
fi

# Every libFuzzer target replays its seeds (tests/vectors/<target>/, the
# golden vectors: inputs that once crashed stay there) and then runs a
# fixed number of inputs from a fixed seed, so the step is deterministic.
# Longer runs: tests/fuzz/run.sh SECONDS.
fuzz_rc=0
fuzz_default=1
[ $# -gt 0 ] && fuzz_default=0 # a chosen subset of ctest: no fuzz step unless asked
if [ "${USPC_FUZZ_SMOKE:-$fuzz_default}" != 0 ]; then
	step "fuzz smoke (clang, $BUILD-fuzz)"
	USPC_FUZZ_BUILD_DIR="$BUILD-fuzz" USPC_FUZZ_JOBS="$JOBS" \
		USPC_FUZZ_ARGS="-seed=1 -runs=${USPC_FUZZ_RUNS:-50000}" \
		"$REPO/tests/fuzz/run.sh" 120 || fuzz_rc=$?
fi
# The Debian package: built, linted, installed on this machine with the
# build tree hidden, checked, removed and purged (about 20 s when the build
# is incremental).
pkg_rc=0
if [ "${USPC_PACKAGE_TEST:-$fuzz_default}" != 0 ]; then
	step "package ($BUILD-pkg)"
	USPC_PKG_DIR="$BUILD-pkg" USPC_JOBS="$JOBS" "$REPO/tests/package/test-package.sh" || pkg_rc=$?
fi
if [ $fuzz_rc -ne 0 ]; then
	echo "test.sh: the fuzz smoke step failed (status $fuzz_rc; inputs in $BUILD-fuzz/artifacts)" >&2
	exit 1
fi
if [ $pkg_rc -ne 0 ]; then
	echo "test.sh: the package step failed (status $pkg_rc; build log in $BUILD-pkg/deb/build.log)" >&2
	exit 1
fi
if [ $format_rc -ne 0 ]; then
	echo "test.sh: tests passed, but the clang-format check failed (files listed above)" >&2
	exit 1
fi
exit 0
