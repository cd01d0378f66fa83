# JSON mapping fuzz targets (controller/usp/usp_json.c).
#  fuzz_json_request: first byte picks a message type, the rest is parsed as
#    JSON and built into a request with usp_json_build_request, then encoded;
#    a built request must survive JSON -> Msg -> same bytes.
#  fuzz_msg_json: bytes decoded as a USP Msg, printed in compact JSON form,
#    read back: every decodable Msg must print as JSON we accept again.
# The codec sources are compiled into each target (not linked from
# uspc_codec) so that libFuzzer's coverage instrumentation covers them.
# Run, e.g.:
#   build-fuzz/bin/fuzz_json_request -max_total_time=60 /tmp/fuzz_json_request_corpus
set(_uspc_json_fuzz_codec
  ${PROJECT_SOURCE_DIR}/controller/usp/usp_json.c ${USPC_FUZZ_CODEC_SOURCES})
foreach(_t fuzz_json_request fuzz_msg_json)
  uspc_fuzz_target(${_t}
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/${_t}.c ${_uspc_json_fuzz_codec}
    LIBS uspc_proto PkgConfig::CJSON PkgConfig::OPENSSL PkgConfig::PROTOBUFC uspc_warnings)
  target_include_directories(${_t} PRIVATE ${PROJECT_SOURCE_DIR}/controller/usp)
endforeach()
