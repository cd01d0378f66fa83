#!/usr/bin/env bash
# tests/fuzz/run.sh — build and run every libFuzzer target of uspc.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]
#
# Configures a clang build with -DUSPC_FUZZ=ON in build-fuzz/ (override with
# USPC_FUZZ_BUILD_DIR), builds the fuzz targets (all fuzz_* targets that the
# tests/fuzz/*.cmake fragments define, or only the TARGETs named), then runs
# each one for SECONDS (default 60), one after the other, and prints one line
# per target: execs/s, total runs, corpus size, and OK or the crash artifact.
#
# Corpus: tests/fuzz/corpus-<target>/ (git-ignored, kept between runs) is the
# writable corpus. Read-only seeds, when present:
#   tests/vectors/<target>/          raw seed files (any target may add some)
#   tests/vectors/paths/             fuzz_path
#   tests/vectors/*.hex (as binary)  fuzz_record_msg, fuzz_msg_json
#   tests/vectors/cwmp/ (recursive)  fuzz_cwmp_parse
# Crash/leak/timeout inputs go to build-fuzz/artifacts/<target>-*; logs to
# build-fuzz/logs/<target>.log. Exit status is 1 if any target failed.
#
# Environment: USPC_FUZZ_JOBS (build parallelism, default 2),
# USPC_FUZZ_ARGS (extra libFuzzer flags, e.g. "-max_len=8192").
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
secs=60
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
	secs=$1
	shift
fi
build=${USPC_FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${USPC_FUZZ_JOBS:-2}

command -v clang >/dev/null || { echo "run.sh: clang is required" >&2; exit 2; }

echo "== configure $build (clang, USPC_FUZZ=ON)" >&2
mkdir -p "$build"
CC=clang cmake -S "$root" -B "$build" -DUSPC_FUZZ=ON -DUSPC_TESTS=OFF \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/configure.log" 2>&1 ||
	{ cat "$build/configure.log" >&2; exit 2; }

# Every fuzz_* target known to the build system.
mapfile -t all < <(cmake --build "$build" --target help | sed -n 's/^\.\.\. \(fuzz_[A-Za-z0-9_]*\).*/\1/p' | sort -u)
if [[ ${#all[@]} -eq 0 ]]; then
	echo "run.sh: no fuzz_* targets defined in tests/fuzz/*.cmake" >&2
	exit 2
fi
if [[ $# -gt 0 ]]; then
	targets=("$@")
	for t in "${targets[@]}"; do
		[[ " ${all[*]} " == *" $t "* ]] || { echo "run.sh: unknown target $t (have: ${all[*]})" >&2; exit 2; }
	done
else
	targets=("${all[@]}")
fi

echo "== build ${targets[*]}" >&2
cmake --build "$build" -j"$jobs" --target "${targets[@]}" >"$build/build.log" 2>&1 ||
	{ tail -40 "$build/build.log" >&2; exit 2; }

# Golden vectors as binary seeds.
hexseeds="$build/seeds-hex"
rm -rf "$hexseeds"
mkdir -p "$hexseeds" "$build/artifacts" "$build/logs"
for f in "$root"/tests/vectors/*.hex; do
	[[ -e $f ]] || continue
	perl -0777 -ne 's/\s+//g; print pack("H*", $_)' "$f" >"$hexseeds/$(basename "${f%.hex}").bin"
done

# The shipped example config as a seed of fuzz_config (a corpus must be a
# directory: libFuzzer runs a file argument once and stops).
confseeds="$build/seeds-config"
rm -rf "$confseeds"
mkdir -p "$confseeds"
cp "$root/deploy/uspc.conf.example" "$confseeds/"

seeds_for() {
	local t=$1
	[[ -d $root/tests/vectors/$t ]] && echo "$root/tests/vectors/$t"
	case $t in
	fuzz_path) [[ -d $root/tests/vectors/paths ]] && echo "$root/tests/vectors/paths" ;;
	fuzz_record_msg | fuzz_msg_json) echo "$hexseeds" ;;
	fuzz_config) echo "$confseeds" ;;
	fuzz_cwmp_parse) [[ -d $root/tests/vectors/cwmp ]] && echo "$root/tests/vectors/cwmp" ;;
	esac
	return 0
}

child=
trap '[[ -n $child ]] && kill "$child" 2>/dev/null; exit 130' INT TERM

status=0
printf '%-20s %12s %12s %8s  %s\n' target execs/s runs corpus result
for t in "${targets[@]}"; do
	corpus="$root/tests/fuzz/corpus-$t"
	mkdir -p "$corpus"
	mapfile -t seeds < <(seeds_for "$t")
	log="$build/logs/$t.log"
	set +e
	# shellcheck disable=SC2086
	"$build/bin/$t" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$t-" ${USPC_FUZZ_ARGS:-} \
		"$corpus" "${seeds[@]}" >"$log" 2>&1 &
	child=$!
	wait "$child"
	rc=$?
	child=
	set -e
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	ncorp=$(find "$corpus" -type f | wc -l)
	if [[ $rc -eq 0 ]]; then
		result=OK
	else
		status=1
		art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
		result="FAILED (exit $rc) ${art:-see $log}"
	fi
	printf '%-20s %12s %12s %8s  %s\n' "$t" "${eps:-?}" "${runs:-?}" "$ncorp" "$result"
done
exit $status
