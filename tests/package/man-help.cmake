# Unit tests (no servers): every man page in step with its program's --help
# (tests/package/man-help.sh). Included from man/CMakeLists.txt.
set(_mh ${CMAKE_CURRENT_LIST_DIR}/man-help.sh)
set(_man ${PROJECT_SOURCE_DIR}/man)
add_test(NAME man_help_uspc
  COMMAND ${_mh} options ${_man}/uspc.8.scd $<TARGET_FILE:uspc>)
add_test(NAME man_help_uspc_api
  COMMAND ${_mh} options ${_man}/uspc-api.8.scd $<TARGET_FILE:uspc-api>)
add_test(NAME man_help_uspc_acs
  COMMAND ${_mh} options ${_man}/uspc-acs.8.scd $<TARGET_FILE:uspc-acs>)
add_test(NAME man_help_uspc_conf
  COMMAND ${_mh} conf ${_man}/uspc.conf.5.scd $<TARGET_FILE:uspc>)
add_test(NAME man_help_uspctl
  COMMAND ${_mh} options ${_man}/uspctl.1.scd $<TARGET_FILE:uspctl>)
add_test(NAME man_help_usp_agent_sim
  COMMAND ${_mh} options ${_man}/usp-agent-sim.1.scd $<TARGET_FILE:usp-agent-sim>)
set_tests_properties(man_help_uspc man_help_uspc_api man_help_uspc_acs man_help_uspc_conf man_help_uspctl man_help_usp_agent_sim
  PROPERTIES LABELS unit TIMEOUT 30)
