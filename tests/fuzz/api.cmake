# uspc-api: an HTTP request's method, path, query and body through the
# route matcher, query parser and request mapping.
uspc_fuzz_target(fuzz_api_request SOURCES fuzz_api_request.c LIBS uspc_api_pure)
