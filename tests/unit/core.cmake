# Unit tests of the daemon core's pure modules (no servers).
uspc_unit_test(test_core_config SOURCES core/test_core_config.c LIBS uspc_core_pure)
uspc_unit_test(test_core_registry SOURCES core/test_core_registry.c LIBS uspc_core_pure)
uspc_unit_test(test_core_tracker SOURCES core/test_core_tracker.c LIBS uspc_core_pure)
