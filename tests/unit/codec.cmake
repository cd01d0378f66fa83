# Codec (Record + Msg) tests — owned by the codec area.
#  - uspc_codec_testkit: sample messages/records and descriptor-driven
#    deep-compare/coverage helpers (tests/support/), shared by the tests below
#  - test_usp_err, test_usp_record, test_usp_msg, test_usp_utf8, test_usp_pb:
#    cmocka unit tests
#  - wire_check: our encoder vs. the committed golden vectors and an
#    independent decoder (protoc --decode_raw), and our decoder vs. the vectors
#  - gen_vectors: regenerates tests/vectors/*.hex (not a test; see
#    tests/vectors/README.md)
# The C helpers live in tests/support/; tests/vectors/ holds only data.
set(USPC_VECTORS_DIR ${PROJECT_SOURCE_DIR}/tests/vectors)
set(USPC_TEST_SUPPORT_DIR ${PROJECT_SOURCE_DIR}/tests/support)

add_library(uspc_codec_testkit STATIC
  ${USPC_TEST_SUPPORT_DIR}/codec_samples.c
  ${USPC_TEST_SUPPORT_DIR}/pb_check.c)
target_include_directories(uspc_codec_testkit PUBLIC ${USPC_TEST_SUPPORT_DIR})
target_link_libraries(uspc_codec_testkit PUBLIC uspc_codec PRIVATE uspc_warnings)

uspc_unit_test(test_usp_err SOURCES test_usp_err.c LIBS uspc_codec)
uspc_unit_test(test_usp_record SOURCES test_usp_record.c LIBS uspc_codec_testkit)
uspc_unit_test(test_usp_msg SOURCES test_usp_msg.c LIBS uspc_codec_testkit)
uspc_unit_test(test_usp_utf8 SOURCES test_usp_utf8.c LIBS uspc_codec)
uspc_unit_test(test_usp_pb SOURCES test_usp_pb.c LIBS uspc_codec)

# protoc (Debian protobuf-compiler) is the independent decoder. Without it
# wire_check still runs and fails with a clear message rather than passing.
find_program(USPC_PROTOC protoc)
uspc_unit_test(wire_check SOURCES test_wire.c LIBS uspc_codec_testkit)
target_compile_definitions(wire_check PRIVATE
  USPC_PROTOC="${USPC_PROTOC}" USPC_VECTORS_DIR="${USPC_VECTORS_DIR}")

add_executable(gen_vectors ${USPC_TEST_SUPPORT_DIR}/gen_vectors.c)
target_link_libraries(gen_vectors PRIVATE uspc_codec_testkit uspc_warnings)
