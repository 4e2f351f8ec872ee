#!/usr/bin/env bash
# Installs the Debian packages camrelay needs that are missing; does nothing when all are there.
# Usage: scripts/deps.sh [build|demo|test|all]   (default: all)
#   build: compile camrelay; demo: build + what the quick start's simulated camera needs;
#   test/all: everything the test suite talks to.
set -euo pipefail

build_packages=(
    build-essential cmake ninja-build pkg-config ccache
    libboost1.81-dev libgphoto2-dev libcurl4-openssl-dev libsqlite3-dev libtomlplusplus-dev nlohmann-json3-dev
    libssl-dev libexif-dev libspdlog-dev libfmt-dev libcli11-dev libgtest-dev
)
# Real peers the tests and the demo talk to.
test_packages=(
    gphoto2 imagemagick libimage-exiftool-perl python3 time
    python3-aiosmtpd openssh-server openssh-client rclone nginx-extras apache2 python3-mastodon
    tshark
)

# The quick start's simulated camera: photos made with ImageMagick and tagged with exiftool.
demo_packages=(
    imagemagick libimage-exiftool-perl
)

case "${1:-all}" in
    build) wanted=("${build_packages[@]}") ;;
    demo) wanted=("${build_packages[@]}" "${demo_packages[@]}") ;;
    test | all) wanted=("${build_packages[@]}" "${test_packages[@]}") ;;
    *) echo "usage: $0 [build|demo|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "camrelay: installing missing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
