# TR-069 devices in the fleet engines, end to end on the shared stack: the
# uspc daemon's profile and campaign engines, uspc-acs carrying their tasks
# out in the devices' CWMP sessions (woken by connection requests), CPEs
# from the independent driver tests/cwmp-peer and one usp-agent-sim agent
# in the same campaign. Needs node (npm ci in tests/cwmp-peer), jq, openssl.
uspc_integration_test(acs_fleet COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_acs_fleet.sh TIMEOUT 240)
