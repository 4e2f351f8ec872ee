#!/usr/bin/env bash
# Bounded memory: peak RSS of `camrelay import` moving one big file (default 2 GiB) from a
# Directory Browse card through the spool into a folder, next to the daemon's idle RSS.
# Usage: bench/memory.sh [SIZE_MB]     (CAMRELAY_BIN selects the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb="${1:-2048}"
bin="${CAMRELAY_BIN:-}"
for candidate in build-bench/src/camrelay build/src/camrelay; do
    [ -n "$bin" ] && break
    [ -x "$candidate" ] && bin="$candidate"
done
[ -x "$bin" ] || { echo "build camrelay first (scripts/build.sh)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/card/DCIM/100TEST" "$work/empty"

# Idle: the daemon with nothing to do (a card folder with no photo), after it settled.
"$bin" run --camera "disk:$work/empty" --data-dir "$work/idle" --log-level warn &
pid=$!
sleep 3
idle_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
kill -INT "$pid"
wait "$pid"

# Big file: random content so nothing compresses or dedups; .MOV like a camera video.
head -c "$((size_mb * 1024 * 1024))" /dev/urandom > "$work/card/DCIM/100TEST/MVI_0001.MOV"
src_sha=$(sha256sum "$work/card/DCIM/100TEST/MVI_0001.MOV" | cut -d' ' -f1)
/usr/bin/time -f '%e %U %S %M' -o "$work/time" \
    "$bin" import -q --camera "disk:$work/card" --data-dir "$work/data" --to "$work/out" >/dev/null
read -r wall user sys peak_kb < "$work/time"
dst_sha=$(sha256sum "$work/out/MVI_0001.MOV" | cut -d' ' -f1)
[ "$src_sha" = "$dst_sha" ] || { echo "MISMATCH: delivered copy differs" >&2; exit 1; }

printf '%-44s %10s\n' "measure" "value"
printf '%-44s %10s\n' "file size (MiB)" "$size_mb"
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }
printf '%-44s %10s\n' "daemon idle RSS (MiB)" "$(mib "$idle_kb")"
printf '%-44s %10s\n' "import peak RSS (MiB)" "$(mib "$peak_kb")"
printf '%-44s %10s\n' "peak RSS - idle RSS (MiB)" "$(mib "$((peak_kb - idle_kb))")"
printf '%-44s %10s\n' "import wall / user / sys (s)" "$wall / $user / $sys"
printf '%-44s %10s\n' "throughput, camera -> spool -> folder (MB/s)" \
    "$(awk -v mb="$size_mb" -v s="$wall" 'BEGIN { printf "%.1f", mb * 1.048576 / s }')"
echo "delivered copy sha256 matches the source: yes"
