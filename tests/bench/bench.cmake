# Whole-stack benchmark harness (issue 6): tests/bench/run.sh drives the
# scenarios; bench_ceiling is its broker-alone ceiling probe (libmosquitto,
# MQTT 5, QoS 1, echo round trips). Not run by ctest. See tests/bench/README.md.
#   build-bench/bin/bench_ceiling --broker mqtt://127.0.0.1:PORT [--window 100,1000]
add_executable(bench_ceiling ${CMAKE_CURRENT_LIST_DIR}/bench_ceiling.c)
target_link_libraries(bench_ceiling PRIVATE PkgConfig::MOSQUITTO Threads::Threads uspc_warnings)
