# Unit tests of uspc-api's pure parts (controller/api: routes, request
# mapping, replies, console paths; no server).
uspc_unit_test(test_api_route SOURCES test_api_route.c LIBS uspc_api_pure)
