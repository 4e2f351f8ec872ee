"""Shared helpers for camrelay's integration tests (Python stdlib only).

The camera in these tests is libgphoto2's "Directory Browse" driver: a folder on disk read as a
camera through `--camera disk:/path` (or `port = "disk:/path"` in a config). Photos are real JPEGs
made with ImageMagick's convert and given EXIF (Make, Model, DateTimeOriginal) with exiftool.
"""

import datetime
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("CAMRELAY_BIN", "/work/main/build/src/camrelay")

# convert on PATH may be a stand-in wrapper; ImageMagick's own binary is preferred.
CONVERT = "/usr/bin/convert" if os.path.exists("/usr/bin/convert") else (shutil.which("convert") or "convert")
EXIFTOOL = shutil.which("exiftool") or "/usr/bin/exiftool"
GPHOTO2 = shutil.which("gphoto2") or "/usr/bin/gphoto2"

CARD_FOLDER = "DCIM/100TEST"


# ----------------------------------------------------------------------------- files and hashes

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def files_under(root):
    """Every regular file below root (recursive), as absolute paths, sorted."""
    out = []
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(dirpath, n)
            if os.path.isfile(p) and not os.path.islink(p):
                out.append(p)
    return sorted(out)


def hashes_under(root):
    """{sha256: [paths]} of every file below root."""
    out = {}
    for p in files_under(root):
        out.setdefault(sha256_file(p), []).append(p)
    return out


def leftovers_under(root):
    """Temp files a delivery must never leave behind at a destination."""
    bad = []
    for p in files_under(root):
        n = os.path.basename(p)
        if (n.startswith(".camrelay-job") and n.endswith(".tmp")) or n.endswith(".part"):
            bad.append(p)
    return bad


# ----------------------------------------------------------------------------- test photos

_base_cache = {}


def base_jpeg(workdir, big=False):
    """One real JPEG to copy from: 64x48 (a few hundred bytes), or with big=True a noisy
    ~640x480 image of a few hundred KiB (several of Directory Browse's 64 KiB chunks)."""
    key = (workdir, big)
    if key in _base_cache and os.path.exists(_base_cache[key]):
        return _base_cache[key]
    path = os.path.join(workdir, "base-big.jpg" if big else "base-small.jpg")
    if big:
        cmd = [CONVERT, "-size", "640x480", "xc:gray", "+noise", "Random", "-quality", "95", path]
    else:
        cmd = [CONVERT, "-size", "64x48", "gradient:red-blue", "-quality", "90", path]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    _base_cache[key] = path
    return path


_DATE_SENTINEL = b"1999:12:31 23:59:58"
_DESC_SENTINEL = b"camrelay-photo-sentinel-0000000000000000"


def exif_template(workdir, big=False, make="FUJIFILM", model="X-T4"):
    """A JPEG whose EXIF exiftool wrote once: Make, Model, and sentinel DateTimeOriginal and
    ImageDescription values of fixed length that make_photos() replaces per copy."""
    key = ("exif", workdir, big, make, model)
    if key in _base_cache and os.path.exists(_base_cache[key]):
        return _base_cache[key]
    base = base_jpeg(workdir, big)
    path = os.path.join(workdir, "template-%d-%s.jpg"
                        % (len(_base_cache), hashlib.sha1((make + model).encode()).hexdigest()[:8]))
    shutil.copyfile(base, path)
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-Make=" + make, "-Model=" + model,
                    "-DateTimeOriginal=" + _DATE_SENTINEL.decode(),
                    "-ImageDescription=" + _DESC_SENTINEL.decode(), path],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    with open(path, "rb") as f:
        data = f.read()
    if data.count(_DATE_SENTINEL) != 1 or data.count(_DESC_SENTINEL) != 1:
        raise AssertionError("exiftool's template does not hold each sentinel exactly once")
    _base_cache[key] = path
    return path


def make_photos(card, names, workdir, folder=CARD_FOLDER, big=False, make="FUJIFILM",
                model="X-T4", dates=None, first_index=1, atomic=False):
    """Creates real JPEGs named `names` (a list, or an int N for IMG_0001.JPG...) in
    card/folder, each with distinct content and its own EXIF Make/Model/DateTimeOriginal.

    Fast: exiftool runs once per (size, make, model) to write a template's EXIF with
    fixed-length sentinel values; each copy then gets its own DateTimeOriginal and a unique
    ImageDescription by replacing those bytes (same length, so the EXIF stays valid; a test
    reads them back with exiftool). `dates` is a list of datetime objects (default: one second
    apart from 2024-05-01 12:00:00). With atomic=True each file is written under a hidden
    name and renamed into place, so a camera being polled never lists a half-written photo.
    Returns [(path, sha256, datetime)] in creation order."""
    if isinstance(names, int):
        names = ["IMG_%04d.JPG" % (first_index + i) for i in range(names)]
    target = os.path.join(card, folder)
    os.makedirs(target, exist_ok=True)
    if dates is None:
        start = datetime.datetime(2024, 5, 1, 12, 0, 0)
        dates = [start + datetime.timedelta(seconds=first_index + i) for i in range(len(names))]
    with open(exif_template(workdir, big, make, model), "rb") as f:
        template = f.read()
    out = []
    for i, (n, d) in enumerate(zip(names, dates)):
        p = os.path.join(target, n)
        date = d.strftime("%Y:%m:%d %H:%M:%S").encode()
        token = hashlib.sha256(("%s|%d|%d|%s" % (p, first_index + i, time.time_ns(),
                                                 os.urandom(8).hex())).encode()).hexdigest()
        desc = ("camrelay-photo-" + token)[:len(_DESC_SENTINEL)].encode()
        assert len(date) == len(_DATE_SENTINEL) and len(desc) == len(_DESC_SENTINEL)
        data = template.replace(_DATE_SENTINEL, date).replace(_DESC_SENTINEL, desc)
        tmp = os.path.join(target, ".writing-" + n) if atomic else p
        with open(tmp, "wb") as f:
            f.write(data)
        if atomic:
            os.replace(tmp, p)
        out.append((p, hashlib.sha256(data).hexdigest(), d))
    return out


def read_exif(paths):
    """{path: {Make, Model, DateTimeOriginal}} read back with one exiftool run."""
    p = subprocess.run([EXIFTOOL, "-j", "-Make", "-Model", "-DateTimeOriginal"] + list(paths),
                       check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=120)
    return {os.path.abspath(e["SourceFile"]): e for e in json.loads(p.stdout)}


# ----------------------------------------------------------------------------- running camrelay

def env_for(faults=None, extra=None):
    env = dict(os.environ)
    env.pop("CAMRELAY_FAULTS", None)
    if faults:
        env["CAMRELAY_FAULTS"] = faults
    if extra:
        env.update(extra)
    return env


def run(args, faults=None, timeout=120, env_extra=None, cwd=None):
    """Runs camrelay to completion; returns the CompletedProcess (text, both streams captured)."""
    return subprocess.run([BIN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout, env=env_for(faults, env_extra), cwd=cwd)


SUMMARY_RE = re.compile(
    r"^import: (?P<new>\d+) new \((?P<bytes>[^)]*)\) from (?P<cameras>\d+) camera\(s\), "
    r"(?P<known>\d+) already known, (?P<unreadable>\d+) unreadable, "
    r"(?P<not_fetched>\d+) not fetched"
    r"(?:, (?P<unrouted>\d+) skipped by routes)?(?:, (?P<deferred>\d+) deferred)?"
    r"(?:, (?P<twins>\d+) same-name twin\(s\) kept)?(?:, (?P<resumed>\d+) resumed)?; "
    r"delivered (?P<delivered>\d+), failed (?P<failed>\d+)(?P<interrupted> \(interrupted\))?$",
    re.M)

# `camrelay import`'s documented exit codes (camrelay import --help).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LEFT_ON_CAMERA = 0, 1, 2, 3


def parse_summary(stdout):
    """The numbers of `camrelay import`'s one summary line, as ints (bytes stays text). Counts
    the line leaves out when 0 (unrouted, deferred, twins, resumed) are 0; `downloaded` is
    `new` (the objects fetched in this import)."""
    lines = [l for l in stdout.splitlines() if l.startswith("import: ")]
    if len(lines) != 1:
        raise AssertionError("expected exactly one summary line, got stdout:\n" + stdout)
    m = SUMMARY_RE.match(lines[0])
    if not m:
        raise AssertionError("summary line not understood: " + lines[0])
    d = {k: int(v or 0) for k, v in m.groupdict().items() if k not in ("bytes", "interrupted")}
    d["bytes"] = m.group("bytes")
    d["interrupted"] = bool(m.group("interrupted"))
    d["downloaded"] = d["new"]
    return d


def status_json(data_dir, config=None):
    args = ["status", "--json", "--data-dir", data_dir]
    if config:
        args += ["-c", config]
    p = run(args, timeout=60)
    if p.returncode != 0:
        raise AssertionError("camrelay status failed (%d): %s" % (p.returncode, p.stderr))
    return json.loads(p.stdout)


class Daemon:
    """`camrelay run ...` in the background, stopped by its own PID."""

    def __init__(self, args, log_path, faults=None, env_extra=None):
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen([BIN, "run"] + list(args), stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env_for(faults, env_extra))

    @property
    def pid(self):
        return self.proc.pid

    def send(self, sig):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is not None:
                self.log.close()

    def kill9(self):
        self.send(signal.SIGKILL)
        return self.wait(30)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Sends `sig`; returns (exit code, seconds it took)."""
        t0 = time.monotonic()
        self.send(sig)
        rc = self.wait(timeout)
        return rc, time.monotonic() - t0

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        if not self.log.closed:
            self.log.close()

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()


# ----------------------------------------------------------------------------- the ledger

def ledger_path(data_dir):
    return os.path.join(data_dir, "camrelay.db")


def ledger(data_dir):
    """A read-only connection to the ledger (the daemon may be writing: WAL lets us read)."""
    uri = "file:%s?mode=ro" % ledger_path(data_dir)
    conn = sqlite3.connect(uri, uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


def query(data_dir, sql, params=()):
    conn = ledger(data_dir)
    try:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def scalar(data_dir, sql, params=()):
    rows = query(data_dir, sql, params)
    return rows[0][0] if rows else None


def job_states(data_dir):
    """{state: count} over every job; {} while the daemon has not created its schema yet (a
    reader can open the file between its creation and the first migration's commit)."""
    try:
        return dict(query(data_dir, "SELECT state, COUNT(*) FROM jobs GROUP BY state"))
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return {}
        raise


def integrity_check(data_dir):
    conn = sqlite3.connect(ledger_path(data_dir), timeout=10)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


# ----------------------------------------------------------------------------- gphoto2

def gphoto2(args, cwd, home, timeout=60):
    """Runs the real gphoto2 CLI with its own HOME (it writes ~/.gphoto/settings)."""
    env = dict(os.environ)
    env["HOME"] = home
    return subprocess.run([GPHOTO2] + list(args), cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)


# ----------------------------------------------------------------------------- test base

def wait_for(predicate, timeout, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


class CamrelayTestCase(unittest.TestCase):
    """Gives each test its own temp dir (removed afterwards) and checks the binary exists."""

    def setUp(self):
        if not os.access(BIN, os.X_OK):
            self.fail("camrelay binary not found at %s (set CAMRELAY_BIN)" % BIN)
        self.tmp = tempfile.mkdtemp(prefix="camrelay-it-")
        self.addCleanup(self._remove_tmp)
        self.card = os.path.join(self.tmp, "card")
        self.data = os.path.join(self.tmp, "data")
        self.dest = os.path.join(self.tmp, "dest")
        self.work = os.path.join(self.tmp, "work")
        for d in (self.card, self.work):
            os.makedirs(d)
        self._daemons = []

    def _remove_tmp(self):
        for d in self._daemons:
            d.cleanup()
        # A test may have made folders read-only.
        for dirpath, dirs, _files in os.walk(self.tmp):
            for d in dirs:
                try:
                    os.chmod(os.path.join(dirpath, d), 0o755)
                except OSError:
                    pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def daemon(self, args, faults=None, env_extra=None, log_name="daemon.log"):
        d = Daemon(args, os.path.join(self.tmp, log_name), faults=faults, env_extra=env_extra)
        self._daemons.append(d)
        return d

    def write_config(self, text, name="camrelay.toml"):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def photos(self, names, **kw):
        return make_photos(self.card, names, self.work, **kw)

    def camrelay(self, args, **kw):
        return run(args, **kw)

    def assertExit(self, proc, code, msg=""):
        self.assertEqual(proc.returncode, code,
                         "%s\nexit %d, expected %d\n--- stdout\n%s--- stderr\n%s"
                         % (msg, proc.returncode, code, proc.stdout, proc.stderr))

    def assertDeliveredExactly(self, dest, photos):
        """Every photo is at the destination exactly once, byte-identical, and nothing else."""
        by_hash = hashes_under(dest)
        want = {sha for _p, sha, _d in photos}
        dups = {h: ps for h, ps in by_hash.items() if len(ps) > 1}
        self.assertEqual(dups, {}, "the same photo was delivered more than once")
        self.assertEqual(set(by_hash) - want, set(), "files at the destination that are no photo")
        self.assertEqual(want - set(by_hash), set(), "photos missing at the destination")
        self.assertEqual(leftovers_under(dest), [], "temp files left at the destination")


def free_port_pair():
    """A TCP port free on loopback now, whose +1 is free too (Fuji's event port)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 65535:
            continue
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise AssertionError("no free port pair")


# ASan keeps freed memory in its quarantine (256 MiB by default) and adds shadow memory, so a
# camrelay under ASan peaks a few hundred MiB higher whatever it does. Memory bounds in tests add
# this allowance there; it stays far below the 1 GiB the attacker tests offer, so unbounded
# buffering still fails.
ASAN_RSS_ALLOWANCE_MIB = 400 if ("asan" in os.path.basename(os.path.dirname(os.path.dirname(
    os.path.abspath(os.environ.get("CAMRELAY_BIN", ""))))) or "ASAN_OPTIONS" in os.environ) else 0
