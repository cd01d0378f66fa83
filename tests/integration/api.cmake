# uspc-api (the HTTP API daemon) end to end against docs/api.md: the shared
# stack, the uspc daemon, simulated agents and four uspc-api processes
# (defaults; --timeout 2; --max-connections 3; --db-connections 1, then
# SIGTERM), driven by tests/integration/api_check.py, a real HTTP client in
# Debian's python3 (python3-jsonschema checks every answer against the
# OpenAPI document). Needs jq and python3-jsonschema (deploy/setup-deps.sh).
uspc_integration_test(api COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_api.sh TIMEOUT 300)
# uspc-api under systemd's notify and journal protocols (READY=1, STATUS=,
# WATCHDOG=1, STOPPING=1; priorities on every line), played by the test.
uspc_integration_test(api_systemd COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_api_systemd.sh TIMEOUT 120)
# uspc-api over HTTPS (--tls-cert, --tls-key; a test CA from make-test-certs.sh).
uspc_integration_test(api_tls COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_api_tls.sh TIMEOUT 120)
