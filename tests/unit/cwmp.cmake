# CWMP (TR-069) codec tests (controller/cwmp):
#  - uspc_cwmp_testkit: sample messages and a deep compare (tests/support/
#    cwmp_samples.c), shared with tests/fuzz/fuzz_cwmp_parse.c
#  - test_cwmp_msg: builder, round trips of every method in every
#    namespace, our bytes against tests/vectors/cwmp/build/
#  - test_cwmp_parse: CPE-shaped vectors (tests/vectors/cwmp/parse/), the
#    refused inputs (tests/vectors/cwmp/bad/: DOCTYPE, entities, XXE, ...)
#  - test_cwmp_names: endpoint ids, event matching, the name tables
add_library(uspc_cwmp_testkit STATIC ${PROJECT_SOURCE_DIR}/tests/support/cwmp_samples.c)
target_include_directories(uspc_cwmp_testkit PUBLIC ${PROJECT_SOURCE_DIR}/tests/support)
target_link_libraries(uspc_cwmp_testkit PUBLIC uspc_cwmp PRIVATE uspc_warnings)

uspc_unit_test(test_cwmp_msg SOURCES test_cwmp_msg.c LIBS uspc_cwmp_testkit)
uspc_unit_test(test_cwmp_parse SOURCES test_cwmp_parse.c LIBS uspc_cwmp_testkit Threads::Threads)
uspc_unit_test(test_cwmp_names SOURCES test_cwmp_names.c LIBS uspc_cwmp)
