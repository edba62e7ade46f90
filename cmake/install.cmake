# Install rules and the CMake package (docs/integration.md "Installing and linking"):
#   include/cimsim/...          model and driver headers (testbench headers excluded)
#   include/cimsim_fw/...       firmware C driver headers + generated register headers
#   lib/libcimsim_*.a           libraries, exported as cimsim::<name>
#   lib/cmake/cimsim/           cimsimConfig.cmake, cimsimConfigVersion.cmake, cimsimTargets.cmake
#   lib/pkgconfig/cimsim.pc     pkg-config file
#   share/cimsim/               data/ (tech/ energy tables, arch/ architecture files, configs/), cimsim.svd,
#                               firmware driver sources (share/cimsim/firmware)
include(CMakePackageConfigHelpers)

# The installed libraries: the public ones below and every cimsim_* library they link (found by walking the
# link graph, so a new internal library is exported without editing this list). Export names drop "cimsim_";
# the drivers get clearer names.
set(_todo cimsim_core cimsim_soc cimsim_accel cimsim_mc2ram cimsim_accel_sw cimsim_mc2ram_sw cimsim_fw)
set(_cimsim_targets)
while(_todo)
  list(POP_FRONT _todo tgt)
  if(NOT TARGET ${tgt} OR tgt IN_LIST _cimsim_targets)
    continue()
  endif()
  list(APPEND _cimsim_targets ${tgt})
  get_target_property(_libs ${tgt} LINK_LIBRARIES)
  foreach(lib ${_libs})
    if(lib MATCHES "^cimsim_[A-Za-z0-9_]+$")
      list(APPEND _todo ${lib})
    endif()
  endforeach()
endwhile()
set(_cimsim_rename cimsim_accel_sw:accel_driver cimsim_mc2ram_sw:mc2ram_driver cimsim_fw:firmware)
foreach(tgt ${_cimsim_targets})
  string(REGEX REPLACE "^cimsim_" "" exp ${tgt})
  foreach(pair ${_cimsim_rename})
    string(REPLACE ":" ";" pair "${pair}")
    list(GET pair 0 from)
    if(from STREQUAL tgt)
      list(GET pair 1 exp)
    endif()
  endforeach()
  set_target_properties(${tgt} PROPERTIES EXPORT_NAME ${exp})
  add_library(cimsim::${exp} ALIAS ${tgt})
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

# pkg-config: one package, every model and driver library (static archives, in a link group so their order
# does not matter).
set(_pc_libs " -Wl,--start-group")
foreach(tgt ${_cimsim_targets})
  if(NOT tgt STREQUAL "cimsim_fw")
    string(APPEND _pc_libs " -l${tgt}")
  endif()
endforeach()
string(APPEND _pc_libs " -Wl,--end-group")
# relocatable: the prefix is taken relative to the .pc file's own folder
file(RELATIVE_PATH _pc_up "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
string(REGEX REPLACE "/$" "" _pc_up "${_pc_up}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/cimsim.pc.in ${PROJECT_BINARY_DIR}/cimsim.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cimsim.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
