# Cross build for little-endian 32-bit MIPS (MT7620/MT7628 routers such as the NEXX WT3020)
# against a Debian bookworm mipsel sysroot made by `debootstrap --arch=mipsel --foreign` with the
# -dev packages extracted into it (multiarch mipsel fails on version skew). scripts/cross-build.sh
# mipsel makes the sysroot and passes -DCAMRELAY_SYSROOT=DIR.
# The result is a glibc binary: it runs on Debian mipsel, not on OpenWrt (musl), for which
# packaging/openwrt/ builds in the OpenWrt SDK instead.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR mipsel)
set(CMAKE_C_COMPILER mipsel-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER mipsel-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE mipsel-linux-gnu)

set(CAMRELAY_SYSROOT "/opt/camrelay-cross/mipsel" CACHE PATH "Debian mipsel sysroot")
# try_compile projects see the sysroot too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES CAMRELAY_SYSROOT)
set(CMAKE_SYSROOT ${CAMRELAY_SYSROOT})
set(CMAKE_FIND_ROOT_PATH ${CAMRELAY_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(ENV{PKG_CONFIG_SYSROOT_DIR} ${CAMRELAY_SYSROOT})
set(ENV{PKG_CONFIG_LIBDIR}
    "${CAMRELAY_SYSROOT}/usr/lib/mipsel-linux-gnu/pkgconfig:${CAMRELAY_SYSROOT}/usr/share/pkgconfig")
unset(ENV{PKG_CONFIG_PATH})

find_program(CAMRELAY_QEMU_MIPSEL qemu-mipsel-static)
if(CAMRELAY_QEMU_MIPSEL)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${CAMRELAY_QEMU_MIPSEL} -L ${CAMRELAY_SYSROOT})
endif()
