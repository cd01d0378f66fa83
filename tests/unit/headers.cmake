# Internal headers stay internal (uspc_public_headers(), cmake/
# UspcPublicHeaders.cmake): a target that links a library finds its public
# headers (headers_public_*) but not its internal ones (headers_internal_*,
# which pass when the compile fails). Each builds one small program on
# demand, one at a time (they share the build tree).
function(uspc_header_test kind lib header)
  string(MAKE_C_IDENTIFIER "${header}" id)
  set(t headers_${kind}_${id})
  add_executable(${t} EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/headers_visible.c)
  target_link_libraries(${t} PRIVATE ${lib})
  target_compile_definitions(${t} PRIVATE "HEADER=\"${header}\"")
  add_test(NAME ${t} COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target ${t})
  set_tests_properties(${t} PROPERTIES LABELS unit TIMEOUT 120 RESOURCE_LOCK build_tree)
  if(kind STREQUAL "internal")
    set_tests_properties(${t} PROPERTIES WILL_FAIL TRUE)
  endif()
endfunction()

uspc_header_test(public uspc_core core.h)
uspc_header_test(internal uspc_core core_internal.h)
uspc_header_test(internal uspc_core core_registry.h)
uspc_header_test(public uspc_mtp mqtt_mtp.h)
uspc_header_test(internal uspc_mtp mqtt_mtp_internal.h)
uspc_header_test(public uspc_store store_writer.h)
uspc_header_test(internal uspc_store store_wop.h)
uspc_header_test(internal uspc_store store_stmt.h)
uspc_header_test(public uspc_cli uspctl_run.h)
uspc_header_test(internal uspc_cli uspctl_internal.h)
