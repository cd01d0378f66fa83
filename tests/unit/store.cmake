# Unit tests of controller/store's pure parts (no server).
uspc_unit_test(test_store_sql SOURCES test_store_sql.c LIBS uspc_store)
