# usp_json (JSON mapping of USP messages): round trips for every message
# type, strict-input errors, limits, and the examples in docs/json.md.
uspc_unit_test(test_usp_json
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_usp_json.c
  LIBS uspc_codec)
target_compile_definitions(test_usp_json PRIVATE
  USPC_JSON_DOC="${CMAKE_CURRENT_LIST_DIR}/../../docs/json.md")
# Allocation-failure injection: the codec's allocations go through the
# test's wrappers (see test_allocation_failures).
target_link_options(test_usp_json PRIVATE
  -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup)
