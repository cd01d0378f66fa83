# uspc-acs (the TR-069 ACS) end to end on the shared stack's PostgreSQL:
# two uspc-acs processes on one database and simulated CPEs from the
# independent CWMP driver tests/cwmp-peer (Node; deploy/test.sh runs its
# npm ci). Needs node, jq and curl.
uspc_integration_test(acs COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_acs.sh TIMEOUT 300)
# The driver's own self-test (npm test: against an ACS stand-in, no uspc).
add_test(NAME acs_cwmp_peer_selftest COMMAND npm test --silent
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/tests/cwmp-peer)
set_tests_properties(acs_cwmp_peer_selftest PROPERTIES LABELS integration TIMEOUT 120)
