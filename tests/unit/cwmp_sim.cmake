# usp-agent-sim --protocol cwmp: the CPE's pending events and session
# retry wait, and its answers to ACS requests from a loaded model (pure,
# no ACS, no sockets).
uspc_unit_test(test_cwmp_sim_events SOURCES test_cwmp_sim_events.c LIBS uspc_cwmp_sim)
uspc_unit_test(test_cwmp_sim_rpc SOURCES test_cwmp_sim_rpc.c LIBS uspc_cwmp_sim)
