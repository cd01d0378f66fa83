# Store writer benchmark: rows/s batched vs single-row autocommit.
# Run: USPC_DB=... build/bin/bench_store_writer [scale]
add_executable(bench_store_writer bench_store_writer.c)
target_link_libraries(bench_store_writer PRIVATE test_store_common uspc_store uspc_warnings)
