# The Debian package (CPack): `cpack -G DEB` in the build tree makes ozg-hub_<version>_<arch>.deb
# with the daemon, ozg-hubctl, the systemd unit, the default configuration (conffiles in
# /etc/ozg-hub), the schemas, the Grafana dashboard and alert rules, the documentation and the
# adapter SDK (headers and CMake package, cmake/AdapterSdk.cmake). Runtime dependencies come
# from dpkg-shlibdeps (Debian 12 bookworm).
# deploy/README.md says how to build and install it.
include(GNUInstallDirs)

set(OZGHUB_DEPLOY_DIR ${PROJECT_SOURCE_DIR}/deploy)

# Paths of the installed system: absolute, as the package lays them out (the unit and the
# default configuration name them).
install(FILES ${OZGHUB_DEPLOY_DIR}/systemd/ozg-hub.service DESTINATION /lib/systemd/system
        COMPONENT hub)
install(FILES ${PROJECT_SOURCE_DIR}/config/package/ozg-hub.yaml
              ${PROJECT_SOURCE_DIR}/config/package/routing.yaml
        DESTINATION /etc/ozg-hub COMPONENT hub)
# Secrets (root only; systemd's LoadCredential= reads them) and public TLS material.
install(DIRECTORY DESTINATION /etc/ozg-hub/credentials
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE COMPONENT hub)
install(DIRECTORY DESTINATION /etc/ozg-hub/tls COMPONENT hub)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/schemas/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/ozg-hub/schemas COMPONENT hub
        FILES_MATCHING PATTERN "*.xsd" PATTERN "*.md")
# docs/ as a whole, so that its relative links hold in /usr/share/doc/ozg-hub.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT hub FILES_MATCHING PATTERN "*.md")
# For the monitoring stack: the Grafana dashboard and the Prometheus alert rules.
install(FILES ${OZGHUB_DEPLOY_DIR}/grafana/ozg-hub-dashboard.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/ozg-hub/grafana COMPONENT hub)
install(FILES ${OZGHUB_DEPLOY_DIR}/prometheus/ozg-hub-alerts.yaml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/ozg-hub/prometheus COMPONENT hub)
install(FILES ${PROJECT_SOURCE_DIR}/config/ozg-hub.example.yaml
              ${PROJECT_SOURCE_DIR}/config/routing.demo.yaml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT hub)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ozg-hub)
set(CPACK_PACKAGE_VENDOR "ozg-hub")
set(CPACK_PACKAGE_CONTACT "ozg-hub maintainers <ozg-hub@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "transfer broker for online applications (OZG)")
set(CPACK_PACKAGE_DESCRIPTION
    "ozg-hub receives online applications over AMQP 1.0, commits them durably, validates them\n"
    "against their XSD, routes them by area and service to the responsible office, encrypts\n"
    "them for that office and delivers them (transfer directory, HTTP, mail, adapter plugins).\n"
    "Includes the ozg-hubctl admin CLI, a hardened systemd unit and the adapter SDK.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# adduser for postinst; the rest is added by dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "softhsm2, opensc")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${OZGHUB_DEPLOY_DIR}/debian/postinst ${OZGHUB_DEPLOY_DIR}/debian/prerm
    ${OZGHUB_DEPLOY_DIR}/debian/postrm ${OZGHUB_DEPLOY_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# One package; the SDK's install rules live in the component adapter_sdk.
set(CPACK_DEB_COMPONENT_INSTALL OFF)
set(CPACK_SOURCE_IGNORE_FILES "/build[^/]*/" "/\\\\.git/")
include(CPack)
