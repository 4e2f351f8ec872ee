# Install layout (`cmake --install`) and the Debian package (`cpack -G DEB`).
#
#   bin/camrelay                          the daemon and command line
#   share/doc/camrelay/                   README.md and docs/*.md
#   lib/systemd/system/camrelay.service   hardened unit (packaging/systemd/)
#   lib/sysusers.d/camrelay.conf          the camrelay system user
#   lib/udev/rules.d/60-camrelay.rules    group camrelay gets USB still-image cameras
#   SYSCONFDIR/camrelay/camrelay.toml     `camrelay config defaults` (SYSCONFDIR is /etc for
#                                         the prefix /usr, PREFIX/etc otherwise)
#
# The .deb (prefix /usr, MinSizeRel, no tests: the `minsize` preset):
#   cmake --preset minsize && cmake --build --preset minsize && (cd build-pkg && cpack -G DEB)
include(GNUInstallDirs)

set(CAMRELAY_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Where camrelay.service goes, relative to the prefix (or absolute)")
set(CAMRELAY_SYSUSERS_DIR "lib/sysusers.d" CACHE STRING
    "Where the sysusers.d snippet goes, relative to the prefix (or absolute)")
# udev reads /usr/lib/udev/rules.d and /etc/udev/rules.d only: with a prefix other than /usr,
# pass -DCAMRELAY_UDEV_RULES_DIR=/etc/udev/rules.d (systemd does search /usr/local/lib/...).
set(CAMRELAY_UDEV_RULES_DIR "lib/udev/rules.d" CACHE STRING
    "Where 60-camrelay.rules goes, relative to the prefix (or absolute)")

set(camrelay_packaging_dir ${PROJECT_SOURCE_DIR}/packaging)

install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
file(GLOB camrelay_docs ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${camrelay_docs} DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)

# The unit names /usr/bin/camrelay; follow the actual prefix.
file(READ ${camrelay_packaging_dir}/systemd/camrelay.service camrelay_unit)
string(REPLACE "/usr/bin/camrelay" "${CMAKE_INSTALL_FULL_BINDIR}/camrelay" camrelay_unit
    "${camrelay_unit}")
string(REPLACE "/etc/camrelay/" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/camrelay/" camrelay_unit
    "${camrelay_unit}")
file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/packaging/camrelay.service CONTENT "${camrelay_unit}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
    ${camrelay_packaging_dir}/systemd/camrelay.service)
install(FILES ${PROJECT_BINARY_DIR}/packaging/camrelay.service
    DESTINATION ${CAMRELAY_SYSTEMD_UNIT_DIR})
install(FILES ${camrelay_packaging_dir}/systemd/camrelay.sysusers
    DESTINATION ${CAMRELAY_SYSUSERS_DIR} RENAME camrelay.conf)
install(FILES ${camrelay_packaging_dir}/udev/60-camrelay.rules
    DESTINATION ${CAMRELAY_UDEV_RULES_DIR})

# The example config is what the binary itself prints, so it never drifts from the embedded
# defaults. A cross build runs it through CMAKE_CROSSCOMPILING_EMULATOR (qemu-user).
if(NOT CMAKE_CROSSCOMPILING OR CMAKE_CROSSCOMPILING_EMULATOR)
    add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/packaging/camrelay.toml
        COMMAND ${CMAKE_COMMAND} "-DCOMMAND=${CMAKE_CROSSCOMPILING_EMULATOR};$<TARGET_FILE:camrelay>"
            -DOUTPUT=${PROJECT_BINARY_DIR}/packaging/camrelay.toml
            -P ${PROJECT_SOURCE_DIR}/cmake/WriteDefaultConfig.cmake
        DEPENDS camrelay ${PROJECT_SOURCE_DIR}/cmake/WriteDefaultConfig.cmake
        COMMENT "camrelay config defaults > packaging/camrelay.toml" VERBATIM)
    add_custom_target(camrelay_default_config ALL
        DEPENDS ${PROJECT_BINARY_DIR}/packaging/camrelay.toml)
    install(FILES ${PROJECT_BINARY_DIR}/packaging/camrelay.toml
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/camrelay)
    set(camrelay_conffiles ${PROJECT_BINARY_DIR}/packaging/debian/conffiles)
    configure_file(${camrelay_packaging_dir}/debian/conffiles.in ${camrelay_conffiles} @ONLY)
else()
    message(STATUS "camrelay: cross build without CMAKE_CROSSCOMPILING_EMULATOR, "
        "no example camrelay.toml is installed")
    set(camrelay_conffiles "")
endif()

# CPack: a Debian package.
set(CPACK_PACKAGE_NAME camrelay)
set(CPACK_PACKAGE_VENDOR camrelay)
set(CPACK_PACKAGE_CONTACT "camrelay maintainers <camrelay@localhost>" CACHE STRING
    "Maintainer field of the .deb")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "gets photos off cameras and delivers them where their owner wants them")
set(CPACK_PACKAGE_DESCRIPTION
    "One small daemon that fetches new photos from USB cameras (libgphoto2) and Wi-Fi cameras \
(PTP/IP, Fujifilm) and delivers each one, verified and only once, to folders, commands, e-mail, \
SFTP/SCP, WebDAV or Mastodon.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION graphics)
# adduser: the postinst fallback when systemd-sysusers is missing.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "gphoto2")
if(CMAKE_CROSSCOMPILING)
    # dpkg-shlibdeps needs the target's libraries registered with dpkg; give the Depends by hand
    # (CAMRELAY_DEB_DEPENDS) for a cross-built package.
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
    if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
        set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
    elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^mips")
        set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE mipsel)
    endif()
    if(CAMRELAY_DEB_DEPENDS)
        string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS ", ${CAMRELAY_DEB_DEPENDS}")
    endif()
else()
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Maintainer scripts; dpkg keeps local edits of /etc/camrelay/camrelay.toml (conffiles).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${camrelay_packaging_dir}/debian/postinst
    ${camrelay_packaging_dir}/debian/prerm
    ${camrelay_packaging_dir}/debian/postrm
    ${camrelay_conffiles})
include(CPack)
