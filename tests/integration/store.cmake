# Integration tests of controller/store against the real PostgreSQL of the
# shared stack (each test creates and drops its own database).
add_library(test_store_common STATIC test_store_common.c)
target_link_libraries(test_store_common PUBLIC uspc_store PRIVATE uspc_warnings)
target_include_directories(test_store_common PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})

foreach(t schema writer tasks query restart tokens_db)
  add_executable(test_store_${t} test_store_${t}.c)
  target_link_libraries(test_store_${t} PRIVATE test_store_common uspc_store PkgConfig::CMOCKA
                        Threads::Threads uspc_warnings)
endforeach()

# test_store_schema checks the embedded migration table (store_migrations.h)
uspc_internal_headers(test_store_schema uspc_store)
uspc_integration_test(test_store_schema COMMAND $<TARGET_FILE:test_store_schema> TIMEOUT 120)
uspc_integration_test(test_store_writer COMMAND $<TARGET_FILE:test_store_writer> TIMEOUT 180)
uspc_integration_test(test_store_tasks COMMAND $<TARGET_FILE:test_store_tasks> TIMEOUT 180)
uspc_integration_test(test_store_query COMMAND $<TARGET_FILE:test_store_query> TIMEOUT 120)
uspc_integration_test(test_store_tokens_db COMMAND $<TARGET_FILE:test_store_tokens_db> TIMEOUT 120)
# Starts its own private stack in USPC_TEST_WORK_DIR and restarts its database.
uspc_integration_test(test_store_restart COMMAND $<TARGET_FILE:test_store_restart> TIMEOUT 300)
