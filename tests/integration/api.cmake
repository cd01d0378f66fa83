# uspc-api (the HTTP API daemon) end to end against docs/api.md: the shared
# stack, the uspc daemon, simulated agents and four uspc-api processes
# (defaults; --timeout 2; --max-connections 3; --db-connections 1, then
# SIGTERM), driven by tests/integration/api_check.py, a real HTTP client in
# Debian's python3 (python3-jsonschema checks every answer against the
# OpenAPI document). Needs jq and python3-jsonschema (deploy/setup-deps.sh).
uspc_integration_test(api COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_api.sh TIMEOUT 300)
