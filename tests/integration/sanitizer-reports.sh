# shellcheck shell=bash
# sanitizer-reports.sh — one check shared by the shell integration tests
# (sourced by core/lib.sh, test_uspctl_lib.sh and
# agents-sim/tools/sim-test-lib.sh).
#
# The programs a test starts (uspc, usp-agent-sim, uspctl, usp-probe) write
# their stderr to *.log / *.err files in the test's work directory. In a
# sanitizer build a report there — a leak found at exit, undefined
# behaviour, a data race — does not always make the test's own checks fail:
# it may come while the program shuts down in the test's trap. So every
# test's trap calls this and fails when it finds one.

# Printed lines that only a sanitizer writes (ASan, LSan, UBSan, TSan).
SANITIZER_REPORT_RE='ERROR: (Address|Leak)Sanitizer|runtime error:|WARNING: ThreadSanitizer'

# sanitizer_reports DIR — print the *.log and *.err files directly in DIR
# that hold a sanitizer report; status 0 when there is at least one.
sanitizer_reports() {
	local dir=$1
	grep -l -E "$SANITIZER_REPORT_RE" "$dir"/*.log "$dir"/*.err 2>/dev/null
}
