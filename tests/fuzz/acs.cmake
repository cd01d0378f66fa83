# fuzz_acs_digest: uspc-acs's HTTP Digest Authorization parser and checker
# (controller/acs/acs_digest.c), the one piece of the ACS's HTTP input it
# parses itself (the SOAP bodies go through fuzz_cwmp_parse). A forged
# answer accepted is a crash. Seeds: tests/vectors/fuzz_acs_digest/.
#   tests/fuzz/run.sh 60 fuzz_acs_digest
uspc_fuzz_target(fuzz_acs_digest
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_acs_digest.c
          ${PROJECT_SOURCE_DIR}/controller/acs/acs_digest.c
          ${PROJECT_SOURCE_DIR}/controller/acs/acs_auth.c
  LIBS PkgConfig::LIBCRYPTO Threads::Threads uspc_warnings)
target_include_directories(fuzz_acs_digest PRIVATE ${PROJECT_SOURCE_DIR}/controller/acs
  ${PROJECT_SOURCE_DIR}/controller/cwmp)
# fuzz_acs_map: what a CPE answers (any envelope cwmp_parse reads, else an
# empty message) fed to a run of each op uspc-acs maps (acs_map.c): every
# run ends, a failure carries its code and a USP-Error result or none, a
# success a result. Seeds: tests/vectors/fuzz_acs_map/ (byte 0 picks the
# run).
#   tests/fuzz/run.sh 60 fuzz_acs_map
uspc_fuzz_target(fuzz_acs_map
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_acs_map.c
  LIBS uspc_acs_pure uspc_warnings)
