# bench_codec: USP codec throughput (encode Msg + wrap Record + unwrap +
# decode Msg per operation). Not run by ctest. Use a Release build:
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && \
#   cmake --build build-rel --target bench_codec && build-rel/bin/bench_codec [SECONDS]
add_executable(bench_codec ${CMAKE_CURRENT_LIST_DIR}/bench_codec.c)
target_link_libraries(bench_codec PRIVATE uspc_codec uspc_warnings)
