# USP path parser (controller/usp/usp_path.c). calloc is wrapped so the test
# can make the parser's single allocation fail.
uspc_unit_test(test_usp_path
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_usp_path.c
  LIBS uspc_codec)
target_link_options(test_usp_path PRIVATE -Wl,--wrap=calloc)
