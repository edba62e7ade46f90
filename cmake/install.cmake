# Install rules and the CMake package (docs/integration.md "Installing and linking"):
#   include/cimsim/...          model and driver headers (testbench headers excluded)
#   include/cimsim_fw/...       firmware C driver headers + generated register headers
#   lib/libcimsim_*.a           libraries, exported as cimsim::<name>
#   lib/cmake/cimsim/           cimsimConfig.cmake, cimsimConfigVersion.cmake, cimsimTargets.cmake
#   lib/pkgconfig/cimsim.pc     pkg-config file
#   share/cimsim/               data/ (tech/ energy tables, arch/ architecture files, configs/), cimsim.svd,
#                               firmware driver sources (share/cimsim/firmware)
include(CMakePackageConfigHelpers)

# name in the cimsim:: namespace for every installed library
set(_cimsim_exports
  cimsim_core:core cimsim_soc:soc
  cimsim_accel_datapath:accel_datapath cimsim_accel_regs:accel_regs cimsim_accel:accel
  cimsim_mc2ram_datapath:mc2ram_datapath cimsim_mc2ram:mc2ram
  cimsim_accel_sw:accel_driver cimsim_diag:diag cimsim_mc2ram_sw:mc2ram_driver cimsim_fw:firmware)
set(_cimsim_targets)
foreach(pair ${_cimsim_exports})
  string(REPLACE ":" ";" pair "${pair}")
  list(GET pair 0 tgt)
  list(GET pair 1 exp)
  if(TARGET ${tgt})
    set_target_properties(${tgt} PROPERTIES EXPORT_NAME ${exp})
    list(APPEND _cimsim_targets ${tgt})
    add_library(cimsim::${exp} ALIAS ${tgt})
  endif()
endforeach()

install(TARGETS ${_cimsim_targets} EXPORT cimsimTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET cimsim)
  install(TARGETS cimsim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} OPTIONAL)
endif()

# Headers: the models, SoC pieces and drivers; not the testbench assembly (accel/soc.hpp) nor the ENOS search
# and data-set loaders, which are not part of the library.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/cimsim DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp"
  PATTERN "soc.hpp" EXCLUDE PATTERN "enos" EXCLUDE PATTERN "data" EXCLUDE)
if(NOT TARGET cimsim_diag)
  install(CODE "file(REMOVE_RECURSE \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_INCLUDEDIR}/cimsim/diag\")")
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/firmware/include/cimsim_fw ${PROJECT_BINARY_DIR}/firmware/include/cimsim_fw
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/firmware/driver/ DESTINATION ${CIMSIM_INSTALL_DATADIR}/firmware)
install(FILES ${PROJECT_BINARY_DIR}/firmware/cimsim.svd DESTINATION ${CIMSIM_INSTALL_DATADIR})
# Data: the whole data/ tree (energy tables, architecture files, configs) as share/cimsim/<sub>/...
install(DIRECTORY ${PROJECT_SOURCE_DIR}/data/ DESTINATION ${CIMSIM_INSTALL_DATADIR})

install(EXPORT cimsimTargets NAMESPACE cimsim:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cimsim)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/cimsimConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cimsimConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cimsim
  PATH_VARS CIMSIM_INSTALL_DATADIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cimsimConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cimsimConfig.cmake ${PROJECT_BINARY_DIR}/cimsimConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cimsim)

# pkg-config: one package, every model library (static archives: dependencies listed in Requires/Libs).
set(_pc_libs "")
foreach(tgt cimsim_mc2ram_sw cimsim_diag cimsim_accel_sw cimsim_accel cimsim_accel_regs cimsim_accel_datapath
        cimsim_mc2ram cimsim_mc2ram_datapath cimsim_soc cimsim_core)
  if(TARGET ${tgt})
    string(APPEND _pc_libs " -l${tgt}")
  endif()
endforeach()
# relocatable: the prefix is taken relative to the .pc file's own folder
file(RELATIVE_PATH _pc_up "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
string(REGEX REPLACE "/$" "" _pc_up "${_pc_up}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/cimsim.pc.in ${PROJECT_BINARY_DIR}/cimsim.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cimsim.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
