#!/usr/bin/env bash
# The main job, from a fresh Debian 12 / Ubuntu machine: installs what is missing, builds, and
# runs the camrelay daemon on its embedded defaults with a simulated camera, so photos visibly
# flow. The simulated camera is a memory card folder read through libgphoto2's Directory Browse
# driver; a background "photographer" adds a new photo to it every few seconds.
# Stop with Ctrl-C (the daemon drains and exits cleanly). Set DEMO_SECONDS=N to stop after N s.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh demo
scripts/build.sh default

demo="$PWD/build/demo"
card="$demo/card/DCIM/100CAMRL"
data="$demo/data"
mkdir -p "$card" "$data"

make_photo() {  # make_photo N: a real JPEG with EXIF, like a camera writes
    local n file stamp
    n=$(printf '%04d' "$1")
    file="$card/IMG_$n.JPG"
    [ -e "$file" ] && return 0
    stamp=$(date -u +'%Y:%m:%d %H:%M:%S')
    # Made next to the card, then renamed in: the camera never lists a half-written photo.
    local tmp="$demo/making-$n.jpg"
    convert -size 640x480 "plasma:fractal" -seed "$1" -quality 85 "$tmp" 2>/dev/null ||
        convert -size 640x480 "xc:rgb($((n % 255)),120,200)" "$tmp"
    exiftool -q -overwrite_original -Make=camrelay -Model="Demo Camera" \
        -DateTimeOriginal="$stamp" "$tmp"
    mv "$tmp" "$file"
}

existing=$(find "$card" -name 'IMG_*.JPG' | wc -l)
if [ "$existing" -lt 5 ]; then
    for i in 1 2 3 4 5; do make_photo "$i"; done
    existing=5
fi

echo "camrelay demo: camera card $demo/card, photos are delivered under $data/photos"
echo "camrelay demo: a new photo is taken every 3 s; Ctrl-C stops the daemon cleanly"

(
    n=$existing
    while sleep 3; do
        n=$((n + 1))
        make_photo "$n"
    done
) &
photographer=$!

build/src/camrelay run --camera "disk:$demo/card" --data-dir "$data" &
daemon=$!
trap 'kill -INT $daemon 2>/dev/null || true' INT TERM
if [ -n "${DEMO_SECONDS:-}" ]; then
    ( sleep "$DEMO_SECONDS"; kill -INT $daemon 2>/dev/null || true ) &
fi
status=0
wait $daemon || status=$?
# A second wait: the first returns early when the INT trap runs.
wait $daemon 2>/dev/null || true
kill $photographer 2>/dev/null || true
wait $photographer 2>/dev/null || true
echo
build/src/camrelay status --data-dir "$data" | head -20
exit $status
