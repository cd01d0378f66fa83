# Unit tests of controller/util: password redaction for printed and logged
# connection strings (logging is tested with the core: core.cmake).
uspc_unit_test(test_redact SOURCES test_redact.c LIBS uspc_util)
