# Issue 24: outputs never lost, inputs bounded before they are read (docs/robustness.md).
cimsim_add_test(test_checkpoint_guard SOURCES core/checkpoint_guard_test.cpp core/export_limits_test.cpp
  LIBS cimsim_enos_runtime)
if(TARGET cimsim)
  set(robust_cases run_outputs_checked_first run_bad_csv_keeps_report dev_zero_inputs fifo_inputs
      yaml_alias_bomb second_yaml_document deep_export sweep_total_points gmm_mean_1e300
      options_without_effect layers_beyond_1024)
  foreach(c ${robust_cases})
    add_test(NAME robust_cli.${c} COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/core/robust_cli_test.sh $<TARGET_FILE:cimsim> ${c})
    set_tests_properties(robust_cli.${c} PROPERTIES TIMEOUT 120
      ENVIRONMENT "CIMSIM_DATA_SRC=${PROJECT_SOURCE_DIR}/data;CIMSIM_TRACES=${CMAKE_BINARY_DIR}/test-traces")
  endforeach()
  if(CIMSIM_WITH_TORCH AND EXISTS /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz)
    add_test(NAME robust_cli.search_out_dir COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/core/search_outdir_test.sh
      $<TARGET_FILE:cimsim> ${CMAKE_CURRENT_BINARY_DIR}/search-outdir)
    set_tests_properties(robust_cli.search_out_dir PROPERTIES TIMEOUT 300
      PASS_REGULAR_EXPRESSION "all cases pass")
  endif()
endif()
