#!/usr/bin/env bash
# Samsung SNS e-mail upload throughput: CAMERAS simulated cameras (default 8) each send MAILS
# e-mails (default 4) of 3 x 6 MiB photos at once, shaped like an NX300's request
# (bench/samsung_load.py), to `camrelay run` with a samsung source whose recipient goes to a
# `store:` folder sink, and again with `drop` (received and spooled durably, no delivery).
# Reports requests/s, MB/s, p50/p99 latency and camrelay's peak RSS (VmHWM), next to the same
# client against nginx on the same machine (client_max_body_size 0, every body read into its temp
# files, no fsync, then 200): the anchor for raw HTTP upload throughput. camrelay answers a camera
# only after its photos are fsynced into the spool and recorded in the ledger.
# Usage: bench/samsung.sh [CAMERAS] [MAILS]     (CAMRELAY_BIN selects the binary)
set -euo pipefail
cd "$(dirname "$0")/.."
cameras="${1:-8}"
mails="${2:-4}"
bin="${CAMRELAY_BIN:-}"
for candidate in build-bench/src/camrelay build/src/camrelay; do
    [ -n "$bin" ] && break
    [ -x "$candidate" ] && bin="$candidate"
done
[ -x "$bin" ] || { echo "build camrelay first (scripts/build.sh), or set CAMRELAY_BIN" >&2; exit 2; }
command -v nginx >/dev/null || { echo "nginx is needed for the anchor (apt-get install nginx)" >&2; exit 2; }

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
    for _ in $(seq 100); do
        python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),timeout=0.2)" \
            2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}
load() {
    python3 bench/samsung_load.py --port "$1" --cameras "$cameras" --mails "$mails" \
        --run-id "$2"
}

# --- anchor: nginx reads every body and answers 200 -------------------------------------------
nport=$(free_port)
mkdir -p "$work/nginx/tmp"
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;" # the worker must reach the private temp folder
cat >"$work/nginx/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
$user_line
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $work/nginx/tmp;
    client_max_body_size 0;
    client_body_buffer_size 256k;
    server {
        listen 127.0.0.1:$nport;
        location / {
            # The echo module (nginx-extras) reads the whole body (large ones into
            # client_body_temp_path, as camrelay spools them), then answers 200.
            echo_read_request_body;
            echo -n '<Response Status="succ" />';
        }
    }
}
EOF
(exec nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" >"$work/nginx/out.log" 2>&1) &
pids+=($!)
nginx_pid=$!
wait_port "$nport"
anchor=$(load "$nport" anchor)
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true

# --- camrelay: MODE store (recipient -> folder sink) or drop (received, spooled, released) ------
run_camrelay() {
    local mode=$1 dir="$work/$1" port
    port=$(free_port)
    mkdir -p "$dir/data" "$dir/out"
    local action="store:files"
    [ "$mode" = drop ] && action="drop"
    cat >"$dir/camrelay.toml" <<EOF
[camrelay]
data_dir = "$dir/data"
log_level = "warn"

[[source]]
type = "samsung"
listen = "127.0.0.1:$port"
senders = ["Camera@samsungcamera.com"]
secret = "bench-secret"
actions = ["store@bench.example = $action"]
email_default = "drop"
max_body_bytes = 1073741824

[sink.files]
type = "folder"
path = "$dir/out/{camera}/{name}"
concurrency = 4

# Routes only steer pulled photos; Samsung messages go where their actions say.
[[route]]
source = ["samsung"]
to = ["files"]
EOF
    "$bin" config check "$dir/camrelay.toml" >/dev/null
    (exec "$bin" run -c "$dir/camrelay.toml" >"$dir/camrelay.log" 2>&1) &
    local pid=$!
    pids+=($pid)
    wait_port "$port"
    local result hwm delivered
    result=$(load "$port" "camrelay-$mode")
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    delivered=$(find "$dir/out" -type f -name 'SAM_*.JPG' | wc -l)
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$result $hwm $delivered"
}
store=$(run_camrelay store)
drop=$(run_camrelay drop)

python3 - "$anchor" "$store" "$drop" "$cameras" "$mails" <<'EOF'
import json, sys
anchor, store, drop, cameras, mails = sys.argv[1:6]
a = json.loads(anchor)
runs = [("nginx", a, None, None)]
for name, text in (("camrelay store", store), ("camrelay drop", drop)):
    js, hwm, delivered = text.rsplit(" ", 2)
    runs.append((name, json.loads(js), int(hwm), int(delivered)))
print("samsung e-mail upload: %s cameras x %s mails x 3 x 6 MiB photos, loopback" % (cameras, mails))
print("%-15s %7s %8s %8s %8s %8s %8s  %s" % ("", "ok", "req/s", "MB/s", "p50 s", "p99 s",
                                           "x nginx", "peak RSS"))
for name, r, hwm, delivered in runs:
    ratio = r["mb_per_s"] / a["mb_per_s"] if a["mb_per_s"] else 0
    print("%-15s %3d/%-3d %8.2f %8.1f %8.3f %8.3f %8.2f  %s" % (
        name, r["ok"], r["requests"], r["req_per_s"], r["mb_per_s"], r["p50_s"], r["p99_s"],
        ratio, "" if hwm is None else "%.1f MiB" % (hwm / 1024)))
    if r["errors"]:
        print("  errors:", r["errors"])
    if name.endswith("store"):
        print("  photos in the folder sink when the load ended: %d of %d"
              % (delivered, r["ok"] * 3))
EOF
