# usp-agent-sim: data-model file loader and per-agent instance tree /
# path resolver (pure, no broker).
uspc_unit_test(test_sim_model SOURCES test_sim_model.c LIBS uspc_sim)
uspc_unit_test(test_sim_dm SOURCES test_sim_dm.c LIBS uspc_sim)
