# fuzz_record_msg: libFuzzer target for the USP Record + Msg codec
# (usp_record_unwrap -> usp_msg_decode -> encode -> decode -> encode).
# The codec sources are compiled into the target, not linked from
# uspc_codec, so they carry the fuzzer's coverage instrumentation.
# Seeds: the golden vectors tests/vectors/*.hex (tests/fuzz/run.sh converts
# them to binary). Run all fuzz targets with: tests/fuzz/run.sh [SECONDS]
uspc_fuzz_target(fuzz_record_msg
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fuzz_record_msg.c
          ${USPC_FUZZ_CODEC_SOURCES}
  LIBS uspc_proto PkgConfig::PROTOBUFC uspc_warnings)
target_include_directories(fuzz_record_msg PRIVATE ${PROJECT_SOURCE_DIR}/controller/usp)
