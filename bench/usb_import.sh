#!/usr/bin/env bash
# USB import benchmark: camrelay vs Debian's gphoto2 CLI, both reading a libgphoto2
# "Directory Browse" camera (a folder behind the disk: port), on the same machine in one run.
#
#  A. Incremental sync: a card with --photos small photos, of which --new are new. Both tools
#     first import the old ones (untimed warm-up), then --new photos are added and the
#     incremental run is timed: `camrelay import` vs `gphoto2 -P --skip-existing`.
#  B. Full import of --big-count photos of --big-mb MiB (random content) into empty folders:
#     `camrelay import` vs `gphoto2 -P`, checked byte-identical with sha256sum.
#
# Each timed command is measured with GNU time (`/usr/bin/time -f '%e %U %S %M'`): wall
# seconds, user+sys CPU seconds and peak RSS. It is run --runs times (default 3) from the same
# starting state, alternating which tool goes first; the table shows the median of each figure.
#
# Usage: bench/usb_import.sh [--photos N] [--new N] [--big-count N] [--big-mb N] [--runs N]
#                            [--quick] [--keep-temp]
# Environment: CAMRELAY_BIN (default build-bench/src/camrelay, then build/src/camrelay),
#              CAMRELAY_COMMIT (label for a binary built from a tree without .git),
#              GPHOTO2_BIN (default gphoto2 on PATH), TMPDIR (where the temp dirs go).
set -euo pipefail

usage()
{
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
}

photos=5000
new=10
big_count=300
big_mb=6
runs=3
keep_temp=0
quick=0
declare -A given=()

while [[ $# -gt 0 ]]; do
    case "$1" in
        --photos) photos="$2"; given[photos]=1; shift 2 ;;
        --new) new="$2"; given[new]=1; shift 2 ;;
        --big-count) big_count="$2"; given[big_count]=1; shift 2 ;;
        --big-mb) big_mb="$2"; given[big_mb]=1; shift 2 ;;
        --runs) runs="$2"; given[runs]=1; shift 2 ;;
        --quick) quick=1; shift ;;
        --keep-temp) keep_temp=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "usb_import.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
done
if [[ $quick == 1 ]]; then
    # Small numbers for a smoke run; explicit options still win.
    [[ -n ${given[photos]:-} ]] || photos=300
    [[ -n ${given[new]:-} ]] || new=10
    [[ -n ${given[big_count]:-} ]] || big_count=10
    [[ -n ${given[big_mb]:-} ]] || big_mb=1
    [[ -n ${given[runs]:-} ]] || runs=1
fi
for v in photos new big_count big_mb runs; do
    if ! [[ ${!v} =~ ^[0-9]+$ ]] || [[ ${!v} -lt 1 ]]; then
        echo "usb_import.sh: --${v//_/-} needs a positive integer, not '${!v}'" >&2
        exit 2
    fi
done
if [[ $new -ge $photos ]]; then
    echo "usb_import.sh: --new ($new) must be smaller than --photos ($photos)" >&2
    exit 2
fi

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/.." && pwd)
if [[ -z ${CAMRELAY_BIN:-} ]]; then
    if [[ -x $repo/build-bench/src/camrelay ]]; then
        CAMRELAY_BIN=$repo/build-bench/src/camrelay
    else
        CAMRELAY_BIN=$repo/build/src/camrelay
    fi
fi
GPHOTO2_BIN=${GPHOTO2_BIN:-$(command -v gphoto2 || true)}
[[ -x $CAMRELAY_BIN ]] || { echo "usb_import.sh: no camrelay binary at $CAMRELAY_BIN (set CAMRELAY_BIN)" >&2; exit 2; }
[[ -n $GPHOTO2_BIN && -x $GPHOTO2_BIN ]] || { echo "usb_import.sh: gphoto2 not found (apt-get install gphoto2)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "usb_import.sh: GNU time is needed at /usr/bin/time (apt-get install time)" >&2; exit 2; }
PY=$(command -v python3 || true)
[[ -n $PY ]] || { echo "usb_import.sh: python3 is needed to generate the photos" >&2; exit 2; }
CAMRELAY_BIN=$(cd "$(dirname "$CAMRELAY_BIN")" && pwd)/$(basename "$CAMRELAY_BIN")

work=$(mktemp -d "${TMPDIR:-/tmp}/camrelay-usb-bench.XXXXXX")
cleanup()
{
    if [[ $keep_temp == 1 ]]; then
        echo "temp files kept in $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail()
{
    echo "usb_import.sh: FAILED: $*" >&2
    exit 1
}

# ---- measurement helpers ------------------------------------------------------------------

# measure KEY DIR LOG CMD...: runs CMD in DIR with a throwaway HOME under GNU time and appends
# "wall user sys maxrss_kb" to $work/results/KEY. CMD's stdout+stderr go to LOG.
measure()
{
    local key=$1 dir=$2 log=$3
    shift 3
    local tf home
    tf=$(mktemp "$work/time.XXXXXX")
    home=$(mktemp -d "$work/home.XXXXXX")
    sync  # no dirty pages of the previous step are written back during the timed command
    if ! (cd "$dir" && HOME=$home /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >"$log" 2>&1); then
        echo "--- output of: $* (in $dir)" >&2
        tail -n 30 "$log" >&2
        fail "$key: command exited with an error"
    fi
    tail -n 1 "$tf" >>"$work/results/$key"
    rm -rf "$tf" "$home"
}

# untimed DIR LOG CMD...: same environment as measure, without timing.
untimed()
{
    local dir=$1 log=$2
    shift 2
    local home
    home=$(mktemp -d "$work/home.XXXXXX")
    if ! (cd "$dir" && HOME=$home "$@" >"$log" 2>&1); then
        echo "--- output of: $* (in $dir)" >&2
        tail -n 30 "$log" >&2
        fail "warm-up command exited with an error"
    fi
    rm -rf "$home"
}

# median of column COL (1-based) over the lines of FILE; an even count gives the mean of the
# two middle values.
median()
{
    awk -v c="$2" '{print $c}' "$1" | sort -g |
        awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'
}

# figures KEY -> "wall cpu rss_mb" medians (cpu = user+sys per run, then the median).
figures()
{
    local f=$work/results/$1
    awk '{printf "%s %.2f %s\n", $1, $2+$3, $4}' "$f" >"$f.cpu"
    printf '%s %s %.1f\n' "$(median "$f.cpu" 1)" "$(median "$f.cpu" 2)" \
        "$(awk -v k="$(median "$f.cpu" 3)" 'BEGIN{print k/1024}')"
}

ratio()
{
    awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a/b; else print "n/a (camrelay 0)" }'
}

raw_runs()
{
    local key=$1 label=$2 i=0
    while read -r e u s m; do
        i=$((i + 1))
        printf '    %-28s run %d: wall %s s, user %s s, sys %s s, peak RSS %s kB\n' \
            "$label" "$i" "$e" "$u" "$s" "$m"
    done <"$work/results/$key"
}

count_files()
{
    find "$1" -type f | wc -l
}

mkdir -p "$work/results"

# ---- header ---------------------------------------------------------------------------------

# Which source the binary was built from: its build dir's CMakeCache names it. CAMRELAY_COMMIT
# labels a binary built from an exported tree (git archive) that has no .git.
cache=$(dirname "$CAMRELAY_BIN")/../CMakeCache.txt
build_type=unknown
src_dir=$repo
if [[ -f $cache ]]; then
    build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$cache")
    src_dir=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$cache")
fi
if [[ -n ${CAMRELAY_COMMIT:-} ]]; then
    commit="$CAMRELAY_COMMIT (given by CAMRELAY_COMMIT; built from $src_dir)"
elif commit=$(git -C "$src_dir" rev-parse --short HEAD 2>/dev/null); then
    if [[ -n $(git -C "$src_dir" status --porcelain -- src CMakeLists.txt cmake 2>/dev/null) ]]; then
        commit="$commit + uncommitted changes under src/ or cmake/ in $src_dir"
    fi
else
    commit="unknown (built from $src_dir, not a git checkout)"
fi
echo "camrelay USB import benchmark (libgphoto2 Directory Browse, disk: port)"
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "machine:   nproc=$(nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r)"
echo "camrelay:  $CAMRELAY_BIN ($("$CAMRELAY_BIN" --version 2>/dev/null | head -n 1), build type $build_type), git $commit"
echo "gphoto2:   $GPHOTO2_BIN: $("$GPHOTO2_BIN" --version | awk '/^gphoto2 /{g=$2} /^libgphoto2 /{l=$2} END{print "gphoto2 " g ", libgphoto2 " l}')"
echo "sizes:     A: $photos photos, $new new; B: $big_count x $big_mb MiB; $runs timed run(s) per tool"
echo "work dir:  $work ($(df -h --output=fstype "$work" | tail -n 1 | tr -d ' '))"
echo

# ---- scenario A: incremental sync --------------------------------------------------------------

a=$work/a
card_a=$a/card
mkdir -p "$card_a/DCIM/100CRBEN" "$a/logs"
old=$((photos - new))
echo "A: generating $photos small photos ($old old now, $new new later)..."
gen_small()
{
    # gen_small DIR FIRST COUNT: IMG_nnnnn.JPG, 200-711 bytes each, distinct content
    "$PY" - "$1" "$2" "$3" <<'EOF'
import os, sys
d, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(first, first + count):
    body = os.urandom(200 + (i * 7919) % 512)
    with open(os.path.join(d, "IMG_%05d.JPG" % i), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0" + i.to_bytes(4, "big") + body + b"\xff\xd9")
EOF
}
gen_small "$card_a/DCIM/100CRBEN" 1 "$old"

mkdir -p "$a/cr_dest" "$a/gp_dest" "$a/snap"
echo "A: warm-up (untimed): both tools import the $old old photos..."
untimed "$a" "$a/logs/warmup-camrelay.log" \
    "$CAMRELAY_BIN" import --camera "disk:$card_a" --to "$a/cr_dest" --data-dir "$a/cr_data" -q
untimed "$a/gp_dest" "$a/logs/warmup-gphoto2.log" \
    "$GPHOTO2_BIN" --port "disk:$card_a" --camera "Directory Browse" -P --skip-existing
n_cr=$(count_files "$a/cr_dest")
n_gp=$(count_files "$a/gp_dest")
[[ $n_cr == "$old" ]] || fail "A warm-up: camrelay delivered $n_cr files, expected $old"
[[ $n_gp == "$old" ]] || fail "A warm-up: gphoto2 saved $n_gp files, expected $old"
echo "   warm-up camrelay: $(grep '^import:' "$a/logs/warmup-camrelay.log")"
echo "   warm-up gphoto2:  $n_gp files saved"

# The state after the warm-up is kept aside and restored (cp -a, same paths) before every
# timed run, so each run starts from the same ledger and the same destination folders.
mv "$a/cr_dest" "$a/cr_data" "$a/gp_dest" "$a/snap/"

mkdir -p "$a/new"
gen_small "$a/new" "$((old + 1))" "$new"
cp -p "$a/new/"*.JPG "$card_a/DCIM/100CRBEN/"
echo "A: added $new new photos to the card ($(count_files "$card_a") on the card now)"

run_a_camrelay()
{
    local r=$1
    measure a_camrelay "$a" "$a/logs/run$r-camrelay.log" \
        "$CAMRELAY_BIN" import --camera "disk:$card_a" --to "$a/cr_dest" --data-dir "$a/cr_data" -q
}
run_a_gphoto2()
{
    local r=$1
    measure a_gphoto2 "$a/gp_dest" "$a/logs/run$r-gphoto2.log" \
        "$GPHOTO2_BIN" --port "disk:$card_a" --camera "Directory Browse" -P --skip-existing
}
verify_a()
{
    # verify_a TOOL DEST: exactly the new photos arrived, byte-identical to the card
    local tool=$1 dest=$2 n missing=0 f
    n=$(count_files "$dest")
    for f in "$a/new/"*.JPG; do
        cmp -s "$f" "$dest/$(basename "$f")" || missing=$((missing + 1))
    done
    [[ $n == "$photos" && $missing == 0 ]] ||
        fail "A: $tool: $n files in its folder (expected $photos), $missing of the $new new ones missing or different"
    echo $((n - old))
}

for r in $(seq 1 "$runs"); do
    rm -rf "$a/cr_dest" "$a/cr_data" "$a/gp_dest"
    cp -a "$a/snap/cr_dest" "$a/snap/cr_data" "$a/snap/gp_dest" "$a/"
    if (( r % 2 )); then
        run_a_camrelay "$r"; run_a_gphoto2 "$r"; order="camrelay first"
    else
        run_a_gphoto2 "$r"; run_a_camrelay "$r"; order="gphoto2 first"
    fi
    got_cr=$(verify_a camrelay "$a/cr_dest")
    got_gp=$(verify_a gphoto2 "$a/gp_dest")
    echo "A run $r ($order): camrelay got $got_cr new files ($old -> $(count_files "$a/cr_dest") in its folder)," \
        "gphoto2 got $got_gp new files ($old -> $(count_files "$a/gp_dest")); all $new identical to the card"
    echo "   camrelay said: $(grep '^import:' "$a/logs/run$r-camrelay.log")"
done
rm -rf "$a"  # free the space before B

# ---- scenario B: full import of big photos --------------------------------------------------------

b=$work/b
card_b=$b/card
mkdir -p "$card_b/DCIM/100CRBIG" "$b/logs"
big_bytes=$((big_mb * 1024 * 1024))
echo
echo "B: generating $big_count photos of $big_mb MiB ($big_bytes bytes) of random content..."
"$PY" - "$card_b/DCIM/100CRBIG" "$big_count" "$big_bytes" <<'EOF'
import os, sys
d, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(1, count + 1):
    with open(os.path.join(d, "DSCF%04d.JPG" % i), "wb") as f:
        left = size
        while left > 0:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n
EOF
(cd "$card_b/DCIM/100CRBIG" && sha256sum -- *.JPG | sort -k2) >"$b/source.sha256"
cat "$card_b/DCIM/100CRBIG/"*.JPG >/dev/null  # untimed: the card is in the page cache for both
echo "B: card ready ($(du -sh "$card_b" | cut -f1)), hashed and read once so it is in the page cache"

run_b_camrelay()
{
    local r=$1
    measure b_camrelay "$b" "$b/logs/run$r-camrelay.log" \
        "$CAMRELAY_BIN" import --camera "disk:$card_b" --to "$b/cr_dest" --data-dir "$b/cr_data" -q
}
run_b_gphoto2()
{
    local r=$1
    measure b_gphoto2 "$b/gp_dest" "$b/logs/run$r-gphoto2.log" \
        "$GPHOTO2_BIN" --port "disk:$card_b" --camera "Directory Browse" -P
}
verify_b()
{
    local tool=$1 dest=$2 n
    n=$(count_files "$dest")
    [[ $n == "$big_count" ]] || fail "B: $tool: $n files in its folder, expected $big_count"
    (cd "$dest" && sha256sum -- * | sort -k2) >"$b/$tool.sha256"
    cmp -s "$b/source.sha256" "$b/$tool.sha256" ||
        fail "B: $tool: the sha256 of its files differ from the card's (see $b/$tool.sha256)"
}

for r in $(seq 1 "$runs"); do
    rm -rf "$b/cr_dest" "$b/cr_data" "$b/gp_dest"
    mkdir -p "$b/cr_dest" "$b/gp_dest"
    if (( r % 2 )); then
        run_b_camrelay "$r"; run_b_gphoto2 "$r"; order="camrelay first"
    else
        run_b_gphoto2 "$r"; run_b_camrelay "$r"; order="gphoto2 first"
    fi
    verify_b camrelay "$b/cr_dest"
    verify_b gphoto2 "$b/gp_dest"
    echo "B run $r ($order): camrelay and gphoto2 each wrote $big_count files; sha256 of both" \
        "folders identical to the card"
    echo "   camrelay said: $(grep '^import:' "$b/logs/run$r-camrelay.log")"
done

# ---- report ---------------------------------------------------------------------------------------

echo
echo "Raw runs (GNU time: wall, user, sys, max RSS):"
raw_runs a_camrelay "A incremental camrelay"
raw_runs a_gphoto2 "A incremental gphoto2"
raw_runs b_camrelay "B full camrelay"
raw_runs b_gphoto2 "B full gphoto2"

echo
if [[ $runs -gt 1 ]]; then
    echo "Table: median of $runs runs per tool, each column's median taken on its own" \
        "(cpu = user+sys per run)."
else
    echo "Table: a single run per tool (cpu = user+sys)."
fi
echo "Page cache not dropped (no privileges): every timed command ran after the same untimed" \
    "warm-up, with the card already in the page cache and 'sync' just before it."
echo "Ratio = gphoto2 / camrelay: above 1 means camrelay was faster (wall) or used less CPU."
echo
scen_a="A incremental ($photos, $new new)"
scen_b="B full ($big_count x $big_mb MiB)"
fmt='%-28s | %-8s | %7s | %7s | %11s | %s\n'
printf "$fmt" scenario tool "wall s" "cpu s" "peak RSS MB" "ratio (gphoto2/camrelay wall, cpu)"
printf '%s\n' "-----------------------------+----------+---------+---------+-------------+-----------------------------------"
for s in a b; do
    if [[ $s == a ]]; then label=$scen_a; else label=$scen_b; fi
    read -r cw cc cm <<<"$(figures "${s}_camrelay")"
    read -r gw gc gm <<<"$(figures "${s}_gphoto2")"
    printf "$fmt" "$label" camrelay "$cw" "$cc" "$cm" ""
    printf "$fmt" "$label" gphoto2 "$gw" "$gc" "$gm" "$(ratio "$gw" "$cw"), $(ratio "$gc" "$cc")"
done
