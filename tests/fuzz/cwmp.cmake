# fuzz_cwmp_parse: libFuzzer target for the CWMP codec (controller/cwmp):
# parse -> build -> parse again -> the two parses must be equal field by
# field (tests/support/cwmp_samples.c's compare). fuzz_cwmp_eid: the
# endpoint id of arbitrary DeviceId parts. Seeds: tests/vectors/cwmp/
# (every .xml there, refused ones included; tests/fuzz/run.sh).
#   tests/fuzz/run.sh 60 fuzz_cwmp_parse fuzz_cwmp_eid
uspc_fuzz_target(fuzz_cwmp_parse
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_cwmp_parse.c
          ${PROJECT_SOURCE_DIR}/tests/support/cwmp_samples.c
  LIBS uspc_cwmp uspc_warnings)
target_include_directories(fuzz_cwmp_parse PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
uspc_fuzz_target(fuzz_cwmp_eid
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_cwmp_eid.c
  LIBS uspc_cwmp uspc_warnings)
