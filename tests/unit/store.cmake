# Unit tests of controller/store's pure parts (no server).
uspc_unit_test(test_store_sql SOURCES test_store_sql.c LIBS uspc_store)
# it tests the writer's row building too (store_wop.h)
uspc_internal_headers(test_store_sql uspc_store)
# The HTTP API's tokens: roles, form, SHA-256 (store_tokens.h; no server).
uspc_unit_test(test_store_tokens SOURCES test_store_tokens.c LIBS uspc_store)
