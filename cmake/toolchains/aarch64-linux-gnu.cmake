# Cross build for 64-bit ARM (Raspberry Pi 3/4/5 with a 64-bit OS) on Debian, with the target's
# -dev packages installed through multiarch (`dpkg --add-architecture arm64`, `apt-get install
# libcurl4-openssl-dev:arm64 ...`): headers in /usr/include, libraries in
# /usr/lib/aarch64-linux-gnu. scripts/cross-build.sh aarch64 sets this up and uses it.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Multiarch: search the host's prefixes, but only the target's library directories.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
unset(ENV{PKG_CONFIG_PATH})

# Runs target binaries (gtest discovery, `camrelay config defaults`) in user-mode qemu; binfmt
# need not be registered. libc6:arm64 puts the loader in /lib, so the root serves as -L.
find_program(CAMRELAY_QEMU_AARCH64 qemu-aarch64-static)
if(CAMRELAY_QEMU_AARCH64)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${CAMRELAY_QEMU_AARCH64} -L /)
endif()
