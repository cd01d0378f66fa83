# usp-agent-sim integration tests: each starts its own simulator (unique
# endpoint IDs and controller topic, so they share the stack's broker
# safely) and drives it over MQTT with usp-probe. Needs jq and protoc.
foreach(t messages notify operate badinput decode_raw persist workers tls lifecycle bootparams
    identity reconnect acl firmware)
  uspc_integration_test(sim_${t}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_sim_${t}.sh
    TIMEOUT 90)
endforeach()
