# controller/mtp unit tests: the 3.1.1 /reply-to= helpers and configuration
# checks (no network).
uspc_unit_test(test_mqtt_mtp_topic
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_mqtt_mtp_topic.c
  LIBS uspc_mtp)
