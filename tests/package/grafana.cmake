# Integration test (a private mosquitto and PostgreSQL of its own, so no
# "stack" fixture): the Grafana dashboard and the Prometheus example against
# the metrics uspc and uspc-api really serve (tests/package/test-grafana.sh).
# Included from man/CMakeLists.txt, with the other tests of tests/package.
add_test(NAME grafana_dashboard COMMAND ${CMAKE_CURRENT_LIST_DIR}/test-grafana.sh)
set_tests_properties(grafana_dashboard PROPERTIES
  LABELS integration
  TIMEOUT 180
  ENVIRONMENT "USPC_BIN_DIR=${CMAKE_BINARY_DIR}/bin;USPC_SOURCE_DIR=${PROJECT_SOURCE_DIR};USPC_LOCAL_STACK=${PROJECT_SOURCE_DIR}/deploy/local-stack.sh;USPC_TEST_WORK_DIR=${CMAKE_BINARY_DIR}/test-work/grafana_dashboard")
