# usp-agent-sim: data-model file loader, per-agent instance tree /
# path resolver, latency histogram, firmware image naming and fault
# choice (pure, no broker).
uspc_unit_test(test_sim_model SOURCES test_sim_model.c LIBS uspc_sim)
uspc_unit_test(test_sim_dm SOURCES test_sim_dm.c LIBS uspc_sim)
uspc_unit_test(test_sim_hist SOURCES test_sim_hist.c LIBS uspc_sim)
uspc_unit_test(test_sim_fw SOURCES test_sim_fw.c LIBS uspc_sim)
