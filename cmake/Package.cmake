# `cpack -G DEB` (through `./dev package`): a Debian package of the binary, the
# bundled scripts, the configuration templates, the systemd unit (CMakeLists.txt)
# and the documents Debian asks for. Configure with -DCMAKE_INSTALL_PREFIX=/usr
# -DBT_DEB_LAYOUT=ON (configuration in /etc) and Debian's hardening flags
# (dpkg-buildflags); `./dev package` does.

set(BT_PACKAGE_MAINTAINER "baton-twingate maintainers <baton-twingate@users.noreply.github.com>"
  CACHE STRING "The Maintainer field of the Debian package")
set(BT_PACKAGE_DATE "Mon, 07 Dec 2026 00:00:00 +0000"
  CACHE STRING "The date of the Debian changelog entry")

# /usr/share/doc/baton-twingate: copyright, changelog.gz (gzip -9n: reproducible),
# the README the unit's Documentation= points at.
set(_bt_doc ${CMAKE_BINARY_DIR}/debian-doc)
file(MAKE_DIRECTORY ${_bt_doc})
configure_file(${CMAKE_SOURCE_DIR}/contrib/debian/changelog.in ${_bt_doc}/changelog @ONLY)
add_custom_command(OUTPUT ${_bt_doc}/changelog.gz
  COMMAND gzip -9nf -k ${_bt_doc}/changelog
  DEPENDS ${_bt_doc}/changelog)
add_custom_target(debian_changelog ALL DEPENDS ${_bt_doc}/changelog.gz)
install(FILES ${CMAKE_SOURCE_DIR}/contrib/debian/copyright ${_bt_doc}/changelog.gz
  ${CMAKE_SOURCE_DIR}/README.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR}
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

set(CPACK_PACKAGE_NAME ${PROJECT_NAME})
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${BT_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "ConductorOne baton connector for Twingate (C runtime, Lua mappings)")
# The extended description: CPack puts the summary first and indents each line.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"baton-twingate reads the users, groups, roles, service accounts and network
resources of a Twingate network through its GraphQL API and writes them, with
their entitlements and grants, to a baton sync file (c1z) for ConductorOne.

It runs once from the command line, or as a ConductorOne connector daemon
(service mode, systemd unit included) that also grants, revokes, creates and
deletes when provisioning is enabled. The Twingate mapping is a set of Lua
scripts that an operator can override.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)        # <name>_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from the built binary (dpkg-shlibdeps); the Lua
# module loaded at run time is not linked, so it is named here.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "lua-cjson")
set(CPACK_STRIP_FILES ON)
# conffiles, and the maintainer scripts: daemon-reload on install, stop and
# disable on removal.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/contrib/debian/conffiles
  ${CMAKE_SOURCE_DIR}/contrib/debian/postinst
  ${CMAKE_SOURCE_DIR}/contrib/debian/prerm
  ${CMAKE_SOURCE_DIR}/contrib/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
