#!/usr/bin/env bash
# with-stack.sh DIR CMD... — run CMD with the connection settings of the
# local stack whose state directory is DIR (its env file, written by
# deploy/local-stack.sh start) exported, in a fresh per-test work dir.
set -euo pipefail
dir=$1; shift
if [ ! -r "$dir/env" ]; then
  echo "with-stack: no stack env file at $dir/env (did stack_start run?)" >&2
  exit 1
fi
# shellcheck disable=SC1091
. "$dir/env"
if [ -n "${USPC_TEST_WORK_DIR:-}" ]; then
  rm -rf "$USPC_TEST_WORK_DIR"
  mkdir -p "$USPC_TEST_WORK_DIR"
fi
exec "$@"
