#!/usr/bin/env bash
# Streaming mode footprint (spool = "none"): peak RSS (VmHWM) of `camrelay run` while it streams
# one SIZE_MIB file from a Directory Browse "camera" (a folder) to a folder sink, no spool copy.
# Also runs the same transfer with spool = "disk" for comparison.
#   bench/streaming.sh [BINARY] [SIZE_MIB]     (defaults: build/src/camrelay, 1024)
# Prints, per mode: seconds from start until the ledger records the delivery, MiB/s, VmHWM.
# The file is random data, so the destination and tmp need 2 x SIZE_MIB free (3 x for disk mode).
set -euo pipefail

bin="${1:-build/src/camrelay}"
size_mib="${2:-1024}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/card/DCIM/100TEST"
head -c "$((size_mib * 1024 * 1024))" /dev/urandom >"$work/card/DCIM/100TEST/BIG_0001.MOV"

python3 - "$bin" "$work" <<'PY'
import hashlib, os, shutil, sqlite3, subprocess, sys, time
binary, work = sys.argv[1], sys.argv[2]
card = os.path.join(work, "card")
src = os.path.join(card, "DCIM/100TEST/BIG_0001.MOV")
size = os.path.getsize(src)

def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()

want = sha(src)
print("%-6s %10s %12s %10s %14s" % ("spool", "MiB", "seconds", "MiB/s", "peak RSS MiB"))
for mode in ("none", "disk"):
    data, dest = os.path.join(work, "data-" + mode), os.path.join(work, "dest-" + mode)
    cfg = os.path.join(work, mode + ".toml")
    with open(cfg, "w") as f:
        f.write(f'[camrelay]\ndata_dir = "{data}"\nspool = "{mode}"\n\n'
                f'[[source]]\ntype = "usb"\nport = "disk:{card}"\npoll_interval = 1\n\n'
                f'[sink.out]\ntype = "folder"\npath = "{dest}/{{name}}"\n\n'
                f'[[route]]\nto = ["out"]\n')
    log = open(os.path.join(work, mode + ".log"), "w")
    t0 = time.monotonic()
    p = subprocess.Popen([binary, "run", "-c", cfg], stdout=log, stderr=log)
    hwm = 0
    db = os.path.join(data, "camrelay.db")
    done = False
    while not done and p.poll() is None and time.monotonic() - t0 < 1800:
        with open(f"/proc/{p.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = max(hwm, int(line.split()[1]))
        if os.path.exists(db):
            try:
                c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
                done = c.execute("SELECT COUNT(*) FROM jobs WHERE state='delivered'").fetchone()[0] == 1
                c.close()
            except sqlite3.Error:
                pass
        time.sleep(0.05)
    took = time.monotonic() - t0
    with open(f"/proc/{p.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = max(hwm, int(line.split()[1]))
    p.terminate()
    p.wait(60)
    if not done:
        sys.exit("spool=%s: not delivered; see %s" % (mode, log.name))
    got = os.path.join(dest, "BIG_0001.MOV")
    if sha(got) != want:
        sys.exit("spool=%s: the delivered copy differs" % mode)
    print("%-6s %10.0f %12.2f %10.1f %14.1f" % (mode, size / 2**20, took, size / 2**20 / took,
                                                hwm / 1024))
    shutil.rmtree(dest)
    shutil.rmtree(data)
PY
