# controller/mtp integration tests (real mosquitto).
#  mtp_basic  — against the shared stack's broker (USPC_MQTT): properties,
#               3.1.1 reply-to, shared subscription, window + back-pressure.
#  mtp_broker — private brokers it starts itself in USPC_TEST_WORK_DIR:
#               CONNECT user property on the wire, broker restart, mTLS,
#               PUBLISH_FAILED from a PUBACK 0x87 (ACL), Message Expiry (an
#               offline subscriber, a broker outage), arrivals kept by stop().
#  mtp_fakebroker — a scripted MQTT 5 broker in the test: CONNACK Response
#               Information / subscribe-topic, TCP_NODELAY on every connect,
#               Message Expiry of what is re-sent after a reconnect that
#               resumes the session.
# mtp_itest (helpers: private broker, libmosquitto peer) is also used by
# tests/bench/bench_mtp_echo.
add_library(mtp_itest STATIC ${CMAKE_CURRENT_LIST_DIR}/mtp_itest.c)
target_include_directories(mtp_itest PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(mtp_itest PUBLIC uspc_mtp PkgConfig::MOSQUITTO PRIVATE uspc_warnings)

foreach(t test_mtp_basic test_mtp_broker test_mtp_fakebroker)
  add_executable(${t} ${CMAKE_CURRENT_LIST_DIR}/${t}.c)
  target_link_libraries(${t} PRIVATE mtp_itest PkgConfig::CMOCKA uspc_warnings)
endforeach()

uspc_integration_test(mtp_basic COMMAND $<TARGET_FILE:test_mtp_basic> TIMEOUT 180)
uspc_integration_test(mtp_broker COMMAND $<TARGET_FILE:test_mtp_broker> TIMEOUT 180)
uspc_integration_test(mtp_fakebroker COMMAND $<TARGET_FILE:test_mtp_fakebroker> TIMEOUT 120)
