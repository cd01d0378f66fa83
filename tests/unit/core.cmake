# Unit tests of the daemon core's pure modules (no servers).
uspc_unit_test(test_core_config SOURCES core/test_core_config.c LIBS uspc_core_pure)
uspc_unit_test(test_core_identity SOURCES core/test_core_identity.c LIBS uspc_core_pure)
uspc_unit_test(test_core_registry SOURCES core/test_core_registry.c LIBS uspc_core_pure)
uspc_unit_test(test_core_tracker SOURCES core/test_core_tracker.c LIBS uspc_core_pure)
# when the heap is trimmed after a burst
uspc_unit_test(test_core_trim SOURCES core/test_core_trim.c LIBS uspc_core_pure)
# the /metrics text, checked by tests/support/check-metrics.py (python3)
uspc_unit_test(test_core_metrics_text SOURCES core/test_core_metrics_text.c LIBS uspc_core_pure)
# systemd's STATUS= line
uspc_unit_test(test_core_status SOURCES core/test_core_status.c LIBS uspc_core_pure)
# the per-(sender, reason) rejection counters (bounded, overflow rows)
uspc_unit_test(test_core_rejmap SOURCES core/test_core_rejmap.c LIBS uspc_core_pure)
uspc_internal_headers(test_core_rejmap uspc_core_pure)
# identity, registry and tracker are internal to the core (core_config.h is
# public): their tests include the core's own headers.
foreach(t test_core_identity test_core_registry test_core_tracker test_core_metrics_text
    test_core_status test_core_trim)
  uspc_internal_headers(${t} uspc_core_pure)
endforeach()
# log.h's level check as the daemon uses it (SIGHUP changes the level while
# the core, mtp and store threads log; run it under TSan too), its line
# format (timestamp, or journald's priority) and the journal's detection.
find_package(Threads REQUIRED)
uspc_unit_test(test_core_log SOURCES core/test_core_log.c LIBS uspc_util Threads::Threads)
