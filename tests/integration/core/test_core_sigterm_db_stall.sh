#!/usr/bin/env bash
# core_sigterm_db_outage with a stalled PostgreSQL instead of a stopped one:
# the server is frozen (SIGSTOP), so its connections stay open and nothing
# answers — no keepalive or tcp_user_timeout fires, as the kernel still
# acknowledges. The daemon must still stop within its budget (exit 1 naming
# the loss) and lose nothing it answered.
USPC_TEST_DB_OUTAGE=freeze exec "$(dirname "$0")/test_core_sigterm_db_outage.sh"
