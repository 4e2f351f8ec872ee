#!/usr/bin/env bash
# Footprint figures for docs/benchmarks.md: stripped binary size, idle RSS of `camrelay run` on
# the embedded defaults, time until the daemon logs that it runs, and `camrelay --version` wall
# time. One line per binary given:
#   bench/footprint.sh [--runs N] [--idle S] LABEL=BINARY[@QEMU[@SYSROOT]] ...
#   e.g. bench/footprint.sh x86_64=build-pkg/stage/usr/bin/camrelay \
#          aarch64=build-aarch64/stage/usr/bin/camrelay@qemu-aarch64-static@/ \
#          mipsel=build-mipsel/stage/usr/bin/camrelay@qemu-mipsel-static@/opt/camrelay-cross/mipsel
# Under qemu-user the RSS is the qemu process's (translator and code cache included), and times
# include translation: neither is what the target board would show.
# The daemon runs `camrelay run --data-dir TMP` with no config (embedded defaults: one `usb`
# source, one folder sink); with no camera attached it idles, polling for cameras.
# Needs python3, bc and hyperfine (Debian packages).
set -euo pipefail

runs=10
idle=120
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --idle) idle="$2"; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
if [ ${#args[@]} -eq 0 ]; then
    echo "usage: $0 [--runs N] [--idle S] LABEL=BINARY[@QEMU[@SYSROOT]] ..." >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# measure_daemon CMD...: start the daemon RUNS times; print the median seconds until it logged
# "running", then (last run) VmRSS 1 s after "running", VmRSS and VmHWM (peak) after IDLE
# seconds, in KiB. RSS grows over the first camera polls (libgphoto2), hence both points.
measure_daemon() {
    python3 - "$runs" "$idle" "$work" "$@" <<'EOF'
import os, signal, statistics, subprocess, sys, tempfile, time
runs, idle, work, cmd = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4:]
def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out
times, mem = [], {}
for i in range(runs):
    data = tempfile.mkdtemp(dir=work)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd + ["run", "--data-dir", data], stderr=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, text=True)
    for line in p.stderr:
        if " running: " in line:
            times.append(time.monotonic() - t0)
            break
    else:
        sys.exit(f"daemon exited before logging 'running' (code {p.wait()})")
    if i == runs - 1:
        time.sleep(1)
        early = status(p.pid)["VmRSS"]
        time.sleep(max(idle - 1, 0))
        mem = status(p.pid)
    p.send_signal(signal.SIGTERM)
    p.stderr.close()
    if p.wait(timeout=60) != 0:
        sys.exit(f"daemon exit code {p.returncode} after SIGTERM")
print(f"{statistics.median(times):.3f} {early} {mem['VmRSS']} {mem['VmHWM']}")
EOF
}

echo "RSS after 1 s and after $idle s of idling; peak = VmHWM at $idle s; start = median of $runs"
printf '%-8s %12s %9s %10s %12s %9s %10s\n' "binary" "size bytes" "size MiB" "RSS@1s MiB" \
    "RSS@idle MiB" "peak MiB" "start s"
results=()
for spec in "${args[@]}"; do
    label="${spec%%=*}"
    rest="${spec#*=}"
    IFS=@ read -r bin qemu sysroot <<<"$rest"
    cmd=("$bin")
    if [ -n "${qemu:-}" ]; then
        cmd=("$qemu" -L "${sysroot:-/}" "$bin")
    fi
    size=$(stat -c %s "$bin")
    read -r start early rss hwm < <(measure_daemon "${cmd[@]}")
    mib() { echo "$1 / 1048576" | bc -l; }
    printf '%-8s %12d %9.2f %10.1f %12.1f %9.1f %10.3f\n' "$label" "$size" "$(mib "$size")" \
        "$(mib $((early * 1024)))" "$(mib $((rss * 1024)))" "$(mib $((hwm * 1024)))" "$start"
    results+=("$label" "${cmd[*]}")
done

echo
echo "camrelay --version wall time (hyperfine, $runs runs after 3 warm-ups, no shell):"
i=0
while [ $i -lt ${#results[@]} ]; do
    label="${results[$i]}"
    line="${results[$((i + 1))]}"
    hyperfine -N --warmup 3 --runs "$runs" --style basic "$line --version" 2>/dev/null |
        sed -n 's/^ *Time (mean ± σ): */  '"$label"': mean ± σ /p'
    i=$((i + 2))
done
