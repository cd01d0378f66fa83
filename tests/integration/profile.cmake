# Integration tests of provisioning profiles (controller/fleet/profile_*):
# the engine in uspc against usp-agent-sim on the real broker and
# PostgreSQL, driven through uspctl's profile ops (docs/profiles.md).
set(_prof_it ${CMAKE_CURRENT_SOURCE_DIR}/profile)
foreach(t
    apply:150 drift:120 overlap:150 reset:120 kill9:150)
  string(REPLACE ":" ";" _p ${t})
  list(GET _p 0 _name)
  list(GET _p 1 _timeout)
  if(EXISTS ${_prof_it}/test_profile_${_name}.sh)
    uspc_integration_test(profile_${_name} COMMAND ${_prof_it}/test_profile_${_name}.sh
      TIMEOUT ${_timeout})
  endif()
endforeach()
