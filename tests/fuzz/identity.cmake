# fuzz_identity: the daemon's inbound record path up to the identity check
# (usp_record_unwrap, then core_identity_parse/check: from_id against the
# topic level it arrived on), sources compiled in for coverage.
#   tests/fuzz/run.sh 60 fuzz_identity
uspc_fuzz_target(fuzz_identity
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_identity.c
          ${PROJECT_SOURCE_DIR}/controller/core/core_identity.c
          ${USPC_FUZZ_CODEC_SOURCES}
  LIBS uspc_proto PkgConfig::PROTOBUFC uspc_warnings)
target_include_directories(fuzz_identity PRIVATE ${PROJECT_SOURCE_DIR}/controller/usp
  ${PROJECT_SOURCE_DIR}/controller/core)
