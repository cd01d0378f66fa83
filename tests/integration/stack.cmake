# deploy/local-stack.sh itself. Deliberately NOT on the shared "stack" fixture:
# the test starts, restarts and stops two private stacks of its own.
add_test(NAME local_stack COMMAND ${PROJECT_SOURCE_DIR}/tests/integration/test_local_stack.sh)
set_tests_properties(local_stack PROPERTIES
  LABELS integration
  TIMEOUT 300
  ENVIRONMENT "USPC_LOCAL_STACK=${USPC_LOCAL_STACK};USPC_SOURCE_DIR=${PROJECT_SOURCE_DIR};USPC_TEST_WORK_DIR=${CMAKE_BINARY_DIR}/test-work/local_stack")
