# uspc_embed_sql(<target> MIGRATIONS|STATEMENTS NAME <name> DIR <dir>)
# Embeds every <dir>/*.sql into <target> at build time through
# embed_sql.cmake (see there for the two modes). STATEMENTS also generates
# <name>.h, on a private include path of <target>.
include_guard(GLOBAL)

function(uspc_embed_sql target)
  set(script ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/embed_sql.cmake)
  cmake_parse_arguments(E "MIGRATIONS;STATEMENTS" "NAME;DIR" "" ${ARGN})
  file(GLOB files CONFIGURE_DEPENDS ${E_DIR}/*.sql)
  list(SORT files)
  set(out_c ${CMAKE_CURRENT_BINARY_DIR}/${E_NAME}.c)
  if(E_MIGRATIONS)
    set(mode migrations)
    set(outputs ${out_c})
  else()
    set(mode statements)
    set(outputs ${out_c} ${CMAKE_CURRENT_BINARY_DIR}/${E_NAME}.h)
    target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_BINARY_DIR})
  endif()
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND ${CMAKE_COMMAND} -DMODE=${mode} -DNAME=${E_NAME}
            -DOUT_DIR=${CMAKE_CURRENT_BINARY_DIR} "-DFILES=${files}"
            -P ${script}
    DEPENDS ${files} ${script}
    COMMENT "Embedding ${E_DIR}"
    VERBATIM)
  target_sources(${target} PRIVATE ${outputs})
endfunction()
