#!/usr/bin/env bash
# Cross-builds camrelay and its unit tests for a small target, then runs `camrelay --version` and
# the unit tests in user-mode qemu (no binfmt needed).
# Usage: scripts/cross-build.sh aarch64|mipsel
#   aarch64  Raspberry Pi (64-bit OS): Debian arm64 multiarch -dev packages
#   mipsel   MT7620/MT7628 routers: a Debian bookworm mipsel sysroot from debootstrap --foreign
#            (multiarch mipsel fails on version skew), in $CAMRELAY_SYSROOT
#            (default /opt/camrelay-cross/mipsel)
# Installs what is missing with apt (Debian packages only; idempotent: a second run installs
# nothing and rebuilds incrementally). Output in build-ARCH/: a MinSizeRel build with
# -ffunction-sections/--gc-sections, and a stripped install tree in build-ARCH/stage/.
# CAMRELAY_LTO=1 adds link-time optimisation. JOBS (default 2) caps the parallel jobs;
# CAMRELAY_BUILD_DIR replaces build-ARCH.
# These are glibc binaries for Debian targets; OpenWrt (musl) builds in its SDK with
# packaging/openwrt/.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

arch="${1:-}"
case "$arch" in
    aarch64) triplet=aarch64-linux-gnu; qemu="qemu-aarch64-static"; sysroot=/ ;;
    mipsel) triplet=mipsel-linux-gnu; qemu="qemu-mipsel-static"
        sysroot="${CAMRELAY_SYSROOT:-/opt/camrelay-cross/mipsel}" ;;
    *) echo "usage: $0 aarch64|mipsel" >&2; exit 2 ;;
esac
jobs="${JOBS:-2}"
build="${CAMRELAY_BUILD_DIR:-$repo/build-$arch}"
start=$SECONDS
phase_start=$SECONDS
timings=()
phase_done() {  # phase_done NAME: record how long the phase took
    timings+=("$(printf '%-28s %5d s' "$1" $((SECONDS - phase_start)))")
    phase_start=$SECONDS
}

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
apt_updated=0
apt_install() {  # apt_install PKG...: install those not yet installed (PKG may be name:arch)
    local missing=() p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "cross-build: installing ${missing[*]}"
    if [ "$apt_updated" = 0 ]; then
        $sudo apt-get update -qq
        apt_updated=1
    fi
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The target's -dev packages (architecture-specific ones; nlohmann-json3-dev and libcli11-dev are
# "all" and come from the host). Keep in step with scripts/deps.sh.
target_dev=(libboost1.81-dev libgphoto2-dev libcurl4-openssl-dev libsqlite3-dev libtomlplusplus-dev
    libssl-dev libexif-dev libspdlog-dev libfmt-dev libgtest-dev)
host_tools=(cmake ninja-build pkg-config ccache file qemu-user-static nlohmann-json3-dev libcli11-dev
    "g++-$triplet")

if [ "$arch" = aarch64 ]; then
    apt_install "${host_tools[@]}" crossbuild-essential-arm64
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        $sudo dpkg --add-architecture arm64
        apt_updated=0
    fi
    apt_install "${target_dev[@]/%/:arm64}"
else
    apt_install "${host_tools[@]}" debootstrap
    # The sysroot's packages: the -dev list, the C++ runtime, libatomic (64-bit atomics).
    sysroot_packages="libc6-dev,libstdc++-12-dev,libatomic1,nlohmann-json3-dev,libcli11-dev,$(
        IFS=,; echo "${target_dev[*]}")"
    stamp="$sysroot/.camrelay-sysroot"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sysroot_packages" ]; then
        # (Re)made from scratch: only a folder this script made (or an empty one) is removed.
        if [ -d "$sysroot" ] && [ -n "$(ls -A "$sysroot")" ]; then
            if [ ! -d "$sysroot/debootstrap" ] && [ ! -f "$stamp" ]; then
                echo "cross-build: $sysroot is not a sysroot made by this script" >&2
                exit 1
            fi
            $sudo rm -rf "$sysroot"
        fi
        $sudo mkdir -p "$sysroot"
        # --foreign: download and unpack only (no mipsel code runs); the -dev packages and their
        # dependencies are downloaded into var/cache/apt/archives.
        $sudo debootstrap --arch=mipsel --foreign --variant=minbase \
            --include="$sysroot_packages" bookworm "$sysroot" http://deb.debian.org/debian
        echo "cross-build: extracting $(find "$sysroot/var/cache/apt/archives" -name '*.deb' |
            wc -l) packages into $sysroot"
        for deb in "$sysroot"/var/cache/apt/archives/*.deb; do
            # Keep the merged-/usr symlinks (/lib -> usr/lib) of the first stage.
            dpkg-deb --fsys-tarfile "$deb" | $sudo tar -x --keep-directory-symlink -C "$sysroot"
        done
        # Absolute symlinks (libm.so -> /lib/mipsel-linux-gnu/libm.so.6) would point into the
        # host: make them relative inside the sysroot.
        find "$sysroot" -type l -lname '/*' | while read -r link; do
            target=$(readlink "$link")
            $sudo ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$sysroot$target")" \
                "$link"
        done
        echo "$sysroot_packages" | $sudo tee "$stamp" >/dev/null
    fi
fi
phase_done "dependencies"

# A build folder configured from another source tree (a copy, an export) cannot be reused.
if [ -f "$build/CMakeCache.txt" ] &&
    ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$repo" "$build/CMakeCache.txt"; then
    rm -rf "$build"
fi
cmake -S "$repo" -B "$build" -G Ninja \
    -DCMAKE_TOOLCHAIN_FILE="$repo/cmake/toolchains/$triplet.cmake" \
    -DCAMRELAY_SYSROOT="$sysroot" \
    -DCMAKE_BUILD_TYPE=MinSizeRel \
    -DCMAKE_INSTALL_PREFIX=/usr \
    -DCMAKE_C_FLAGS="-ffunction-sections -fdata-sections" \
    -DCMAKE_CXX_FLAGS="-ffunction-sections -fdata-sections" \
    -DCMAKE_EXE_LINKER_FLAGS="-Wl,--gc-sections -Wl,--as-needed" \
    -DCMAKE_INTERPROCEDURAL_OPTIMIZATION="$([ "${CAMRELAY_LTO:-0}" = 1 ] && echo ON || echo OFF)" \
    -DCAMRELAY_BUILD_TESTS=ON >/dev/null
phase_done "configure"
cmake --build "$build" -j "$jobs" --target camrelay camrelay_default_config
phase_done "build camrelay"
cmake --build "$build" -j "$jobs" --target camrelay_unit_tests
phase_done "build unit tests"
rm -rf "$build/stage"
DESTDIR="$build/stage" cmake --install "$build" --strip >/dev/null
phase_done "install --strip"

run() { "$qemu" -L "$sysroot" "$@"; }
echo "== $arch: $(file -b "$build/stage/usr/bin/camrelay" | cut -d, -f1-2)"
echo "== $arch: stripped size $(stat -c %s "$build/stage/usr/bin/camrelay") bytes"
run "$build/stage/usr/bin/camrelay" --version

# Unit tests excluded under qemu-user, each for a reason that is qemu's, not camrelay's:
#   (none so far)
gtest_exclude=""
(cd "$build/test" && run ./camrelay_unit_tests --gtest_brief=1 ${gtest_exclude:+--gtest_filter=-$gtest_exclude})
phase_done "qemu: --version + unit tests"

echo "== $arch: timings"
printf '%s\n' "${timings[@]}"
printf '%-28s %5d s\n' "total" $((SECONDS - start))
