# controller/mtp unit tests: the 3.1.1 /reply-to= helpers and configuration
# checks (no network).
uspc_unit_test(test_mqtt_mtp_topic
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_mqtt_mtp_topic.c
  LIBS uspc_mtp)
# MQTT 5 property code: CONNACK Response Information / subscribe-topic,
# the SUBSCRIBE list, the property builder (no network).
uspc_unit_test(test_mqtt_mtp_props
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_mqtt_mtp_props.c
  LIBS uspc_mtp)
# it tests the code behind mqtt_mtp_internal.h
uspc_internal_headers(test_mqtt_mtp_props uspc_mtp)
