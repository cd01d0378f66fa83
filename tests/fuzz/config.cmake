# fuzz_config: the daemon's config file parser (controller/core/core_config.c)
# and the password redaction its printout uses (controller/util/redact.c),
# both compiled into the target so that coverage guides the fuzzer.
#   tests/fuzz/run.sh 60 fuzz_config
uspc_fuzz_target(fuzz_config
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_config.c
          ${PROJECT_SOURCE_DIR}/controller/core/core_config.c
          ${PROJECT_SOURCE_DIR}/controller/util/redact.c
          ${PROJECT_SOURCE_DIR}/controller/util/log.c
  LIBS uspc_codec uspc_warnings)
target_include_directories(fuzz_config PRIVATE ${PROJECT_SOURCE_DIR}/controller/core
  ${PROJECT_SOURCE_DIR}/controller/util)
