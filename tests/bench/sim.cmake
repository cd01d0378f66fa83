# usp-agent-sim scale benchmark (not run by ctest):
#   cmake --build <dir> --target bench_sim_10k
# runs tests/bench/bench_sim_10k.sh against this build (private broker).
add_custom_target(bench_sim_10k
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench_sim_10k.sh --bin ${CMAKE_BINARY_DIR}/bin
  DEPENDS usp-agent-sim usp-probe
  USES_TERMINAL)
