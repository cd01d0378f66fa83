# fuzz_profile: what the profile engine reads — profile definitions
# (prof_spec_parse, with a round-trip check, the paths and variables a
# profile names, and template expansion for a fixed agent) and agents'
# answers fed to every step of a profile run (profile_run*.c).
#   tests/fuzz/run.sh 60 fuzz_profile
uspc_fuzz_target(fuzz_profile
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_profile.c
          ${PROJECT_SOURCE_DIR}/controller/fleet/profile_spec.c
          ${PROJECT_SOURCE_DIR}/controller/fleet/profile_sel.c
          ${PROJECT_SOURCE_DIR}/controller/fleet/profile_tpl.c
          ${PROJECT_SOURCE_DIR}/controller/fleet/profile_run.c
          ${PROJECT_SOURCE_DIR}/controller/fleet/profile_run_want.c
          ${PROJECT_SOURCE_DIR}/controller/fleet/profile_run_answer.c
          ${PROJECT_SOURCE_DIR}/controller/fleet/profile_run_work.c
          ${PROJECT_SOURCE_DIR}/controller/usp/usp_path.c
          ${PROJECT_SOURCE_DIR}/controller/usp/usp_err.c
          ${PROJECT_SOURCE_DIR}/controller/usp/usp_utf8.c
  LIBS PkgConfig::CJSON PkgConfig::LIBCRYPTO m uspc_warnings)
target_include_directories(fuzz_profile PRIVATE ${PROJECT_SOURCE_DIR}/controller/usp
  ${PROJECT_SOURCE_DIR}/controller/fleet)
