#!/usr/bin/env bash
# Network delivery: N photos of M MB (default 200 x 6) from a Directory Browse card to a local
# OpenSSH sshd (sftp) and to rclone's WebDAV server, `camrelay import` vs the `curl` command line
# uploading the same files, in one run: wall, CPU, peak RSS, throughput and ratios.
# camrelay's figure is end to end (card -> spool with SHA-256 and fsync -> upload -> remote size
# check); curl's is the upload alone. Usage: bench/sinks.sh [COUNT] [MB]
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-200}"
mb="${2:-6}"
bin="${CAMRELAY_BIN:-}"
for candidate in build-bench/src/camrelay build/src/camrelay; do
    [ -n "$bin" ] && break
    [ -x "$candidate" ] && bin="$candidate"
done
[ -x "$bin" ] || { echo "build camrelay first (scripts/build.sh)" >&2; exit 2; }
for tool in /usr/sbin/sshd rclone curl /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "missing $tool (scripts/deps.sh test)" >&2; exit 2; }
done

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The card: random content, so nothing compresses.
card="$work/card/DCIM/100BENCH"
mkdir -p "$card"
for i in $(seq -f '%04g' 1 "$count"); do
    head -c "$((mb * 1024 * 1024))" /dev/urandom > "$card/IMG_$i.JPG"
done
(cd "$card" && sha256sum IMG_*.JPG | sort > "$work/card.sha")
total_mb=$((count * mb))

# sshd on loopback with throwaway keys.
mkdir -p /run/sshd "$work/ssh" "$work/sftp-camrelay" "$work/sftp-curl"
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/host"
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/client"
cp "$work/ssh/client.pub" "$work/ssh/authorized_keys"
ssh_port=$(free_port)
cat > "$work/ssh/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $ssh_port
HostKey $work/ssh/host
AuthorizedKeysFile $work/ssh/authorized_keys
PidFile $work/ssh/sshd.pid
UsePAM no
StrictModes no
PasswordAuthentication no
PermitRootLogin yes
Subsystem sftp internal-sftp
CONF
/usr/sbin/sshd -D -e -f "$work/ssh/sshd_config" 2>"$work/ssh/log" &
pids+=($!)
fingerprint=$(ssh-keygen -lf "$work/ssh/host.pub" | awk '{print $2}')
user=$(id -un)

# rclone WebDAV on loopback.
dav_port=$(free_port)
mkdir -p "$work/dav"
rclone serve webdav "$work/dav" --addr "127.0.0.1:$dav_port" --user u --pass p 2>"$work/rclone.log" &
pids+=($!)
printf 'p\n' > "$work/dav.pass"
chmod 600 "$work/dav.pass"
sleep 1.5

measure() {  # measure NAME COMMAND... -> appends "NAME wall user sys rss_kb" to results
    local name=$1
    shift
    sync
    /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >"$work/out" 2>&1 ||
        { echo "$name failed:"; cat "$work/out"; exit 1; }
    echo "$name $(cat "$work/time")" >> "$work/results"
}

config() {  # config SINK_TABLE_BODY -> path of a camrelay config
    local f="$work/camrelay-$RANDOM.toml"
    printf '[camrelay]\ndata_dir = "%s"\n\n[[source]]\ntype = "usb"\nport = "disk:%s"\n\n[sink.dest]\n%s\n\n[[route]]\nto = ["dest"]\n' \
        "$work/data-$RANDOM" "$work/card" "$1" > "$f"
    echo "$f"
}

files=$(cd "$card" && ls IMG_*.JPG | paste -sd, -)

sftp_cfg=$(config "type = \"sftp\"
url = \"sftp://127.0.0.1:$ssh_port$work/sftp-camrelay\"
user = \"$user\"
key = \"$work/ssh/client\"
host_key_sha256 = \"$fingerprint\"")
measure "sftp camrelay" "$bin" import -q -c "$sftp_cfg"
(cd "$card" && measure "sftp curl" curl -sS --fail --key "$work/ssh/client" \
    --pubkey "$work/ssh/client.pub" --hostpubsha256 "${fingerprint#SHA256:}" \
    -T "{$files}" "sftp://$user@127.0.0.1:$ssh_port$work/sftp-curl/")

dav_cfg=$(config "type = \"webdav\"
url = \"http://127.0.0.1:$dav_port/camrelay\"
path = \"{name}\"
user = \"u\"
password_file = \"$work/dav.pass\"")
measure "webdav camrelay" "$bin" import -q -c "$dav_cfg"
curl -sS --fail -u u:p -X MKCOL "http://127.0.0.1:$dav_port/curl/" >/dev/null
(cd "$card" && measure "webdav curl" curl -sS --fail -u u:p -T "{$files}" \
    "http://127.0.0.1:$dav_port/curl/")

# Everything must have arrived intact, or the figures mean nothing.
for d in sftp-camrelay sftp-curl dav/camrelay dav/curl; do
    got=$(cd "$work/$d" && sha256sum IMG_*.JPG | sort)
    [ "$got" = "$(cat "$work/card.sha")" ] || { echo "MISMATCH in $d" >&2; exit 1; }
done

echo "$count photos x $mb MiB ($total_mb MiB), loopback, $(nproc) cores; all copies verified by sha256"
printf '%-16s %8s %8s %8s %8s %10s\n' "run" "wall s" "cpu s" "MiB/s" "RSS MiB" "curl/cam"
awk -v total="$total_mb" '
    { name = $1 " " $2; wall[name] = $3; cpu[name] = $4 + $5; rss[name] = $6 / 1024; order[NR] = name }
    END {
        for (i = 1; i <= NR; i++) {
            n = order[i]; split(n, p, " ")
            ratio = (p[2] == "camrelay") ? "" : sprintf("%.2f", wall[p[1] " camrelay"] > 0 ? wall[n] / wall[p[1] " camrelay"] : 0)
            printf "%-16s %8.2f %8.2f %8.1f %8.1f %10s\n", n, wall[n], cpu[n], total / wall[n], rss[n], ratio
        }
    }' "$work/results"
echo "(curl/cam = curl wall time / camrelay wall time; below 1 means curl was faster)"
