#!/usr/bin/env bash
# Wi-Fi camera download over standard PTP/IP, from camrelay's own camera simulator on loopback,
# camrelay vs gphoto2 ("PTP/IP Camera") against the same simulator, in one run:
#   A. full download of N photos of M MB (default 200 x 8): wall, CPU, peak RSS, ratios;
#   B. incremental re-sync of K objects with 10 new (default 5000): camrelay import vs
#      gphoto2 -P --skip-existing (which re-reads every ObjectInfo).
# Usage: bench/ptpip.sh [N] [MB] [K]
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-200}"
mb="${2:-8}"
incr="${3:-5000}"
bin="${CAMRELAY_BIN:-}"
for candidate in build-bench/src/camrelay build/src/camrelay; do
    [ -n "$bin" ] && break
    [ -x "$candidate" ] && bin="$candidate"
done
[ -x "$bin" ] || { echo "build camrelay first (scripts/build.sh)" >&2; exit 2; }
"$bin" sim --help >/dev/null 2>&1 || { echo "$bin has no 'sim' command" >&2; exit 2; }

work=$(mktemp -d)
sim_pid=""
cleanup() {
    [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_sim() {  # start_sim DIR -> sets sim_pid and port; waits until it listens
    port=$(free_port)
    "$bin" sim ptpip --dir "$1" --port "$port" >"$work/sim.log" 2>&1 &
    sim_pid=$!
    for _ in $(seq 50); do
        grep -q "serving" "$work/sim.log" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "simulator did not start:"; cat "$work/sim.log"; exit 1
}
stop_sim() { kill "$sim_pid"; wait "$sim_pid" 2>/dev/null || true; sim_pid=""; }

measure() {  # measure NAME COMMAND... (in the current directory)
    local name=$1
    shift
    sync
    /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >"$work/out" 2>&1 ||
        { echo "$name failed:"; tail -20 "$work/out"; exit 1; }
    echo "$name $(cat "$work/time")" >> "$work/results"
}
# gphoto2 as a plain command line in an array (time(1) cannot run a shell function, and
# "PTP/IP Camera" must stay one argument); HOME is a throwaway. Call after start_sim.
set_gphoto() { gp=(env HOME="$work/gphoto-home" gphoto2 --camera "PTP/IP Camera" --port "ptpip:127.0.0.1:$port:$port"); }
mkdir -p "$work/gphoto-home"

# A. Full download.
mkdir -p "$work/a-card" "$work/a-cam" "$work/a-gp"
for i in $(seq -f '%04g' 1 "$count"); do
    head -c "$((mb * 1024 * 1024))" /dev/urandom > "$work/a-card/DSC_$i.JPG"
done
(cd "$work/a-card" && sha256sum DSC_*.JPG | sort) > "$work/a.sha"
start_sim "$work/a-card"
measure "A camrelay" "$bin" import -q --camera "ptpip://127.0.0.1:$port" --data-dir "$work/a-data" --to "$work/a-cam"
set_gphoto
(cd "$work/a-gp" && measure "A gphoto2" "${gp[@]}" --get-all-files)
stop_sim
for d in a-cam a-gp; do
    [ "$(cd "$work/$d" && sha256sum DSC_*.JPG | sort)" = "$(cat "$work/a.sha")" ] ||
        { echo "MISMATCH in $d" >&2; exit 1; }
done
rm -rf "$work/a-card" "$work/a-cam" "$work/a-gp"

# B. Incremental: both tools first take the old photos (untimed), then 10 new ones appear.
mkdir -p "$work/b-card" "$work/b-cam" "$work/b-gp"
/usr/bin/python3 - "$work/b-card" "$((incr - 10))" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(1, n + 1):
    with open(os.path.join(d, "DSC_%05d.JPG" % i), "wb") as f:
        f.write(b"\xff\xd8photo %d\xff\xd9" % i)
PY
start_sim "$work/b-card"
"$bin" import -q --camera "ptpip://127.0.0.1:$port" --data-dir "$work/b-data" --to "$work/b-cam" >/dev/null
set_gphoto
(cd "$work/b-gp" && "${gp[@]}" -P --skip-existing >/dev/null 2>&1)
stop_sim
/usr/bin/python3 - "$work/b-card" "$((incr - 9))" "$incr" <<'PY'
import os, sys
d, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(a, b + 1):
    with open(os.path.join(d, "DSC_%05d.JPG" % i), "wb") as f:
        f.write(b"\xff\xd8new photo %d\xff\xd9" % i)
PY
start_sim "$work/b-card"
measure "B camrelay" "$bin" import -q --camera "ptpip://127.0.0.1:$port" --data-dir "$work/b-data" --to "$work/b-cam"
set_gphoto
(cd "$work/b-gp" && measure "B gphoto2" "${gp[@]}" -P --skip-existing)
stop_sim
for d in b-cam b-gp; do
    n=$(ls "$work/$d" | wc -l)
    [ "$n" -eq "$incr" ] || { echo "$d has $n files, expected $incr" >&2; exit 1; }
done

echo "PTP/IP over loopback from 'camrelay sim ptpip', $(nproc) cores"
echo "A: $count photos x $mb MiB, full download (both copies verified by sha256)"
echo "B: $incr objects on the camera, 10 new (both tools ended with all $incr files)"
printf '%-12s %8s %8s %9s %8s %14s\n' "run" "wall s" "cpu s" "RSS MiB" "MiB/s" "gphoto2/cam"
awk -v mb="$((count * mb))" '
    { n = $1 " " $2; wall[n] = $3; cpu[n] = $4 + $5; rss[n] = $6 / 1024; order[NR] = n }
    END {
        for (i = 1; i <= NR; i++) {
            n = order[i]; split(n, p, " ")
            rate = (p[1] == "A") ? sprintf("%.1f", mb / wall[n]) : "-"
            ratio = ""
            if (p[2] == "gphoto2") {
                c = p[1] " camrelay"
                ratio = sprintf("%.2f wall %.2f cpu", wall[n] / wall[c], cpu[c] > 0 ? cpu[n] / cpu[c] : 0)
            }
            printf "%-12s %8.2f %8.2f %9.1f %8s %14s\n", n, wall[n], cpu[n], rss[n], rate, ratio
        }
    }' "$work/results"
echo "(gphoto2/cam above 1: camrelay was faster or used less CPU)"
