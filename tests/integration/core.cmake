# Integration tests of the uspc daemon (controller/core) against the real
# broker, real PostgreSQL and usp-agent-sim: the "Done when" list of issue 4.
# Each script creates its own database (or its own private stack when it
# restarts servers) and stops everything it started.
set(_core_it ${CMAKE_CURRENT_SOURCE_DIR}/core)
foreach(t
    cli:60
    bad_records:60
    onboard_100:120
    tasks_roundtrip:90
    offline_tasks:90
    kill9_restart:180
    pg_restart:120
    broker_restart:90
    two_daemons:150
    durable_session:120
    reload:90
    timeouts:60
    backpressure:120
    notify_retry:90
    inqueue_full:90
    db_stall_load:120
    tls:90
    node_id_dup:60
    kill9_notify:150
    retention:150
    sigterm_db_outage:90
    sigterm_db_stall:90
    set_crash_unknown:60
    broker_outage_expiry:60
    late_reconnect:60
    spoofing:90
    rejections:120
    reconcile:60
    metrics:240
    systemd:120)
  string(REPLACE ":" ";" _p ${t})
  list(GET _p 0 _name)
  list(GET _p 1 _timeout)
  if(EXISTS ${_core_it}/test_core_${_name}.sh)
    uspc_integration_test(core_${_name} COMMAND ${_core_it}/test_core_${_name}.sh TIMEOUT ${_timeout})
  endif()
endforeach()
