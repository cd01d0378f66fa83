# fuzz_campaign: what the campaign engine reads — campaign definitions
# (fleet_spec_parse, with a round-trip check) and agents' answers fed to
# every step of the per-device state machine (fleet_fw).
#   tests/fuzz/run.sh 60 fuzz_campaign
uspc_fuzz_target(fuzz_campaign
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_campaign.c
          ${PROJECT_SOURCE_DIR}/controller/fleet/fleet_spec.c
          ${PROJECT_SOURCE_DIR}/controller/fleet/fleet_fw.c
          ${PROJECT_SOURCE_DIR}/controller/usp/usp_err.c
          ${PROJECT_SOURCE_DIR}/controller/usp/usp_utf8.c
  LIBS PkgConfig::CJSON m uspc_warnings)
target_include_directories(fuzz_campaign PRIVATE ${PROJECT_SOURCE_DIR}/controller/usp
  ${PROJECT_SOURCE_DIR}/controller/fleet)
