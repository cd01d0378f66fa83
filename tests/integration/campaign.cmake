# Integration tests of firmware campaigns (controller/fleet): the engine in
# uspc against usp-agent-sim on the real broker and PostgreSQL, driven
# through uspctl's campaign ops (docs/campaigns.md).
set(_camp_it ${CMAKE_CURRENT_SOURCE_DIR}/campaign)
foreach(t
    rollout:150
    failure_modes:150
    thresholds:150
    window:120
    kill9:150
    offline:150)
  string(REPLACE ":" ";" _p ${t})
  list(GET _p 0 _name)
  list(GET _p 1 _timeout)
  if(EXISTS ${_camp_it}/test_campaign_${_name}.sh)
    uspc_integration_test(campaign_${_name} COMMAND ${_camp_it}/test_campaign_${_name}.sh
      TIMEOUT ${_timeout})
  endif()
endforeach()
