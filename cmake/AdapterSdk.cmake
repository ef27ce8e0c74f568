# The adapter SDK as an installed CMake package: the public headers of broker/include/ozghub/
# (the C ABI, the C++17 SDK, the test kit) and OzgHubAdapterSdkConfig.cmake, so that a vendor
# writes
#   find_package(OzgHubAdapterSdk 1 REQUIRED)
#   add_library(my_adapter MODULE my_adapter.cpp)
#   target_link_libraries(my_adapter PRIVATE OzgHub::AdapterSdk)
# and, for tests with the fake host, links OzgHub::AdapterTestKit.
# The package version's major number is the ABI version: a plugin built against SDK 1.x loads
# into every ozg-hub speaking ABI 1 (SameMajorVersion).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(OZGHUB_SDK_INCLUDE_DIR ${PROJECT_SOURCE_DIR}/broker/include)
file(STRINGS ${OZGHUB_SDK_INCLUDE_DIR}/ozghub/adapter_abi.h abi_line
     REGEX "^#define OZGHUB_ADAPTER_ABI_VERSION_CURRENT [0-9]+u$")
string(REGEX REPLACE ".* ([0-9]+)u$" "\\1" OZGHUB_ADAPTER_ABI_VERSION "${abi_line}")
if(NOT OZGHUB_ADAPTER_ABI_VERSION MATCHES "^[0-9]+$")
  message(FATAL_ERROR "cannot read OZGHUB_ADAPTER_ABI_VERSION_CURRENT from adapter_abi.h")
endif()
set(OZGHUB_ADAPTER_SDK_VERSION ${OZGHUB_ADAPTER_ABI_VERSION}.0.0)

add_library(ozghub_adapter_sdk INTERFACE)
target_include_directories(ozghub_adapter_sdk INTERFACE
  $<BUILD_INTERFACE:${OZGHUB_SDK_INCLUDE_DIR}> $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(ozghub_adapter_sdk INTERFACE cxx_std_17)
set_target_properties(ozghub_adapter_sdk PROPERTIES EXPORT_NAME AdapterSdk)
add_library(OzgHub::AdapterSdk ALIAS ozghub_adapter_sdk)

add_library(ozghub_adapter_testkit INTERFACE)
target_link_libraries(ozghub_adapter_testkit INTERFACE ozghub_adapter_sdk ${CMAKE_DL_LIBS})
set_target_properties(ozghub_adapter_testkit PROPERTIES EXPORT_NAME AdapterTestKit)
add_library(OzgHub::AdapterTestKit ALIAS ozghub_adapter_testkit)

set(OZGHUB_SDK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/OzgHubAdapterSdk)
install(FILES ${OZGHUB_SDK_INCLUDE_DIR}/ozghub/adapter_abi.h
              ${OZGHUB_SDK_INCLUDE_DIR}/ozghub/adapter_host_views.hpp
              ${OZGHUB_SDK_INCLUDE_DIR}/ozghub/adapter_sdk.hpp
              ${OZGHUB_SDK_INCLUDE_DIR}/ozghub/adapter_testkit.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ozghub COMPONENT adapter_sdk)
install(TARGETS ozghub_adapter_sdk ozghub_adapter_testkit EXPORT OzgHubAdapterSdkTargets
        COMPONENT adapter_sdk)
install(EXPORT OzgHubAdapterSdkTargets NAMESPACE OzgHub:: DESTINATION ${OZGHUB_SDK_CMAKE_DIR}
        COMPONENT adapter_sdk)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/OzgHubAdapterSdkConfig.cmake.in
  ${PROJECT_BINARY_DIR}/OzgHubAdapterSdkConfig.cmake INSTALL_DESTINATION ${OZGHUB_SDK_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/OzgHubAdapterSdkConfigVersion.cmake
  VERSION ${OZGHUB_ADAPTER_SDK_VERSION} COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES ${PROJECT_BINARY_DIR}/OzgHubAdapterSdkConfig.cmake
              ${PROJECT_BINARY_DIR}/OzgHubAdapterSdkConfigVersion.cmake
        DESTINATION ${OZGHUB_SDK_CMAKE_DIR} COMPONENT adapter_sdk)
