# fuzz_path: libFuzzer target for the USP path parser (parse, invariants,
# to_schema). Seeds: tests/vectors/paths/ (one path per file).
#   tests/fuzz/run.sh 60 fuzz_path
uspc_fuzz_target(fuzz_path
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_path.c
  LIBS uspc_codec)
