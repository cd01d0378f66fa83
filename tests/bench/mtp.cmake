# bench_mtp_echo: one Paho connection (mqtt_mtp) doing request/echo round
# trips against a libmosquitto echo peer; RT/s and p50/p99 per window.
#   build/bin/bench_mtp_echo [--broker mqtt://127.0.0.1:PORT] [--windows 100,1000]
#                            [--tcp-nodelay 0|1]   (default 1; 0 measures Paho without it)
add_executable(bench_mtp_echo ${CMAKE_CURRENT_LIST_DIR}/bench_mtp_echo.c)
target_link_libraries(bench_mtp_echo PRIVATE mtp_itest uspc_warnings)
