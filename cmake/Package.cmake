# `cpack -G DEB` (through `./dev package`): a Debian package of the binary, the
# bundled scripts, the example configuration and the systemd unit (CMakeLists.txt).
# Configure with -DCMAKE_INSTALL_PREFIX=/usr so that the binary looks for its
# scripts where the package puts them.

install(FILES ${CMAKE_SOURCE_DIR}/contrib/baton.yaml
  DESTINATION /etc/baton-twingate
  PERMISSIONS OWNER_READ OWNER_WRITE)   # it will hold the API key: 0600

set(CPACK_PACKAGE_NAME ${PROJECT_NAME})
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "baton-twingate maintainers <baton-twingate@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "ConductorOne baton connector for Twingate (C runtime, Lua mappings)")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)        # <name>_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
# Library dependencies come from the built binary (dpkg-shlibdeps); the Lua
# module loaded at run time is not linked, so it is named here.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "lua-cjson")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_SOURCE_DIR}/contrib/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
