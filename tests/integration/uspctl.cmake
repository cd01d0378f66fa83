# uspctl end to end: the real broker and PostgreSQL of the shared stack, the
# uspc daemon and usp-agent-sim; each test uses its own database, controller
# endpoint ID and agent endpoint IDs (tests/integration/itest-uspctl.sh).
# Needs jq.
foreach(t ops:240 errors:240 fanout:420 dbrestart:300 unknown:120 campaign:240 profile:180 tokens:120
    reads:240)
  string(REPLACE ":" ";" _p ${t})
  list(GET _p 0 _name)
  list(GET _p 1 _timeout)
  uspc_integration_test(uspctl_${_name}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_uspctl_${_name}.sh TIMEOUT ${_timeout})
endforeach()
