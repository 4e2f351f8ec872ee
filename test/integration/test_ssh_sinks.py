"""The sftp and scp sinks against a real OpenSSH sshd started by the test on 127.0.0.1 (throwaway
ed25519 host and client keys): byte-identical files in templated folders, host keys always
verified (pinned fingerprint, known_hosts, `camrelay trust`), a server that is down, a resumed
upload, a folder the login cannot write to, and a refused key."""

import os
import shutil
import signal
import socket
import stat
import subprocess
import time
import unittest

import camrelay_testlib as t

SSHD = "/usr/sbin/sshd"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path):
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "camrelay-test", "-f", path],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    return path


def fingerprint(pub_path):
    out = subprocess.run([SSH_KEYGEN, "-lf", pub_path], check=True, capture_output=True,
                         text=True, timeout=30).stdout
    return out.split()[1]  # "SHA256:..."


class Sshd:
    """A real sshd on 127.0.0.1:port, stopped by its own PID."""

    def __init__(self, root, port):
        self.root = root
        self.port = port
        self.host_key = keygen(os.path.join(root, "host_key"))
        self.client_key = keygen(os.path.join(root, "client_key"))
        self.authorized = os.path.join(root, "authorized_keys")
        shutil.copyfile(self.client_key + ".pub", self.authorized)
        os.chmod(self.authorized, 0o644)  # read as the login user (nobody in one test)
        self.config = os.path.join(root, "sshd_config")
        self.log_path = os.path.join(root, "sshd.log")
        with open(self.config, "w") as f:
            f.write(f"""\
ListenAddress 127.0.0.1
HostKey {self.host_key}
AuthorizedKeysFile {self.authorized}
PidFile {os.path.join(root, "sshd.pid")}
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin yes
Subsystem sftp internal-sftp
LogLevel VERBOSE
""")
        self.proc = None

    def start(self):
        os.makedirs("/run/sshd", exist_ok=True)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", self.config, "-p", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT)

        def listening():
            if self.proc.poll() is not None:
                raise AssertionError("sshd exited: " + self.output())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        t.wait_for(listening, 20, interval=0.1, what="sshd to listen")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)
        if self.proc:
            self.log.close()
        self.proc = None
        # sshd -D forks one process per connection; they end with their connection, but a
        # test must not see the old server answer: wait until the port is closed.
        def closed():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return False
            except OSError:
                return True
        t.wait_for(closed, 20, interval=0.1, what="sshd to stop listening")

    def output(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()


@unittest.skipUnless(os.access(SSHD, os.X_OK) and os.geteuid() == 0,
                     "needs OpenSSH's sshd and root (to run it on a loopback port)")
class SshSinks(t.CamrelayTestCase):

    def setUp(self):
        super().setUp()
        os.chmod(self.tmp, 0o755)  # the login "nobody" must reach authorized_keys and the remote
        self.ssh_dir = os.path.join(self.tmp, "ssh")
        os.makedirs(self.ssh_dir)
        self.port = free_port()
        self.sshd = Sshd(self.ssh_dir, self.port)
        self.addCleanup(self.sshd.stop)
        self.sshd.start()
        self.remote = os.path.join(self.tmp, "remote")
        os.makedirs(self.remote)
        # camrelay's copy of the client key: 0600, as the sink demands.
        self.key = os.path.join(self.tmp, "id_ed25519")
        shutil.copyfile(self.sshd.client_key, self.key)
        os.chmod(self.key, 0o600)
        self.pin = fingerprint(self.sshd.host_key + ".pub")
        self.known_hosts = os.path.join(self.tmp, "known_hosts")
        with open(self.sshd.host_key + ".pub") as f:
            kind, b64 = f.read().split()[:2]
        with open(self.known_hosts, "w") as f:
            f.write("[127.0.0.1]:%d %s %s\n" % (self.port, kind, b64))

    def config(self, sinks, name="camrelay.toml", general=""):
        routes = "\n".join('[[route]]\nto = ["%s"]\n' % n for n in sinks)
        body = "\n".join("[sink.%s]\n%s\nretry_min = 1\nretry_max = 1\n" % (n, text)
                         for n, text in sinks.items())
        return self.write_config(f"""\
[camrelay]
data_dir = "{self.data}"
{general}

[[source]]
type = "usb"
port = "disk:{self.card}"

{body}
{routes}
""", name)

    def sink(self, scheme, base, path="{camera}/{date:%Y-%m-%d}/{name}", host_check=None,
             user="root", key=None):
        if host_check is None:
            host_check = 'known_hosts = "%s"' % self.known_hosts
        return f"""type = "{scheme}"
url = "{scheme}://{user}@127.0.0.1:{self.port}{base}"
key = "{key or self.key}"
{host_check}
path = "{path}"
connect_timeout = 10"""

    def import_(self, cfg, *extra):
        return t.run(["import", "-q", "-c", cfg] + list(extra), timeout=120)

    def jobs(self):
        return t.query(self.data, "SELECT state, last_error FROM jobs ORDER BY id")

    def assert_dated_paths(self, root, photos):
        for path, _sha, date in photos:
            want = os.path.join(root, "card", date.strftime("%Y-%m-%d"), os.path.basename(path))
            self.assertTrue(os.path.isfile(want), "missing " + want)

    # ------------------------------------------------------------------ delivery

    def test_sftp_and_scp_deliver_identical_files_in_created_folders(self):
        photos = self.photos(3) + self.photos(["BIG_0001.JPG"], big=True, first_index=9)
        sftp_root = os.path.join(self.remote, "sftp")
        scp_root = os.path.join(self.remote, "scp dest")  # a space: escaped in URL and quoting
        cfg = self.config({
            "phone": self.sink("sftp", sftp_root),
            "nas": self.sink("scp", scp_root.replace(" ", "%20"),
                             host_check='host_key_sha256 = "%s"' % self.pin),
        })
        p = self.import_(cfg)
        self.assertExit(p, 0)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (4, 8, 0), p.stdout)
        for root in (sftp_root, scp_root):
            self.assertDeliveredExactly(root, photos)
            self.assert_dated_paths(root, photos)
            self.assertEqual([n for n in os.listdir(root)], ["card"])
        receipts = sorted(r for (r,) in t.query(self.data, "SELECT receipt FROM jobs"))
        self.assertTrue(any(r.startswith("sftp://127.0.0.1:%d%s/card/" % (self.port, sftp_root))
                            for r in receipts), receipts)
        self.assertTrue(any(r.startswith("scp://127.0.0.1:%d" % self.port) for r in receipts))

        # Again: nothing new, nothing sent twice.
        p = self.import_(cfg)
        self.assertExit(p, 0)
        for root in (sftp_root, scp_root):
            self.assertDeliveredExactly(root, photos)

    def test_retry_after_crash_finds_the_copy_and_sends_nothing_new(self):
        # A delivery that reached the server but whose success was never recorded (a crash):
        # the retry must count the file there as delivered, not make IMG_0001-1.JPG.
        photos = self.photos(2)
        root = os.path.join(self.remote, "r")
        cfg = self.config({"phone": self.sink("sftp", root, path="{name}"),
                           "nas": self.sink("scp", root + "-scp", path="{name}")},
                          general='spool_keep = "always"')
        p = self.import_(cfg)
        self.assertExit(p, 0)
        before = {p: os.stat(p).st_mtime_ns for p in t.files_under(self.remote)}
        conn = __import__("sqlite3").connect(t.ledger_path(self.data))
        conn.execute("UPDATE jobs SET state = 'failed-transient', attempts = 1")
        conn.commit()
        conn.close()
        p = self.import_(cfg)
        self.assertExit(p, 0)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["delivered"], s["failed"]), (4, 0), p.stdout)
        self.assertDeliveredExactly(root, photos)
        self.assertDeliveredExactly(root + "-scp", photos)
        after = {p: os.stat(p).st_mtime_ns for p in t.files_under(self.remote)}
        self.assertEqual(before, after, "an existing identical copy was written again")
        # A different photo under a taken name gets a numbered name (sftp), never overwrites.
        with open(os.path.join(root, "IMG_0003.JPG"), "wb") as f:
            f.write(b"someone else's file")
        more = self.photos(["IMG_0003.JPG"], first_index=3)
        p = self.import_(cfg)
        self.assertExit(p, 0)
        with open(os.path.join(root, "IMG_0003.JPG"), "rb") as f:
            self.assertEqual(f.read(), b"someone else's file")
        self.assertEqual(t.sha256_file(os.path.join(root, "IMG_0003-1.JPG")), more[0][1])

    def test_interrupted_upload_is_resumed(self):
        photos = self.photos(["BIG_0001.JPG"], big=True)
        root = os.path.join(self.remote, "resume")
        cfg = self.config({"phone": self.sink("sftp", root, path="{name}")})
        self.sshd.stop()
        p = self.import_(cfg)
        self.assertExit(p, 1)
        (job_id,) = t.query(self.data, "SELECT id FROM jobs")[0]
        # What an upload cut off half-way leaves: the first half under the job's temp name.
        os.makedirs(root)
        with open(photos[0][0], "rb") as f:
            data = f.read()
        half = len(data) // 2
        temp = os.path.join(root, ".BIG_0001.JPG.camrelay-job%d.part" % job_id)
        with open(temp, "wb") as f:
            f.write(data[:half])
        self.sshd.start()
        p = self.import_(cfg, "--log-level", "info")
        self.assertExit(p, 0)
        self.assertIn("resuming", p.stderr)
        self.assertIn("at byte %d" % half, p.stderr)
        # Byte-identical: the half already there was kept and only the rest appended (an
        # append of the whole file would leave 1.5 times its size, and fail the size check).
        self.assertDeliveredExactly(root, photos)
        self.assertFalse(os.path.exists(temp))

    # ------------------------------------------------------------------ host keys

    def test_wrong_pin_and_changed_key_are_refused_permanently(self):
        self.photos(1)
        other = keygen(os.path.join(self.tmp, "other_host_key"))
        wrong_kh = os.path.join(self.tmp, "known_hosts_other")
        with open(other + ".pub") as f:
            kind, b64 = f.read().split()[:2]
        with open(wrong_kh, "w") as f:
            f.write("[127.0.0.1]:%d %s %s\n" % (self.port, kind, b64))
        cfg = self.config({
            "pinned": self.sink("sftp", os.path.join(self.remote, "a"),
                                host_check='host_key_sha256 = "%s"' % fingerprint(other + ".pub")),
            "changed": self.sink("scp", os.path.join(self.remote, "b"),
                                 host_check='known_hosts = "%s"' % wrong_kh),
        })
        p = self.import_(cfg)
        self.assertExit(p, 1)
        rows = self.jobs()
        self.assertEqual([r[0] for r in rows], ["failed-permanent"] * 2, rows)
        errors = " | ".join(r[1] for r in rows)
        self.assertIn("does not match host_key_sha256", errors)
        self.assertIn("does NOT match the key in " + wrong_kh, errors)
        self.assertIn("man-in-the-middle", errors)
        self.assertIn("camrelay trust scp://127.0.0.1:%d --known-hosts %s" % (self.port, wrong_kh),
                      errors)
        for _state, err in rows:
            self.assertIn(self.pin, err, "the message shows the fingerprint the server offered")
        self.assertEqual(t.files_under(self.remote), [], "nothing may reach an unverified host")

    def test_unknown_host_is_refused_until_trusted(self):
        photos = self.photos(2)
        kh = os.path.join(self.tmp, "new", "known_hosts")
        root = os.path.join(self.remote, "t")
        cfg = self.config({"phone": self.sink("sftp", root,
                                              host_check='known_hosts = "%s"' % kh)})
        p = self.import_(cfg)
        self.assertExit(p, 1)
        rows = self.jobs()
        self.assertEqual([r[0] for r in rows], ["failed-permanent"] * 2, rows)
        how = "camrelay trust sftp://127.0.0.1:%d --known-hosts %s" % (self.port, kh)
        for _state, err in rows:
            self.assertIn("is not in " + kh, err)
            self.assertIn(how, err)
            self.assertIn(self.pin, err)
        self.assertEqual(t.files_under(self.remote), [])

        # Without a terminal and without --yes, trust asks nobody and records nothing.
        p = t.run(["trust", "sftp://127.0.0.1:%d" % self.port, "--known-hosts", kh])
        self.assertExit(p, 1)
        self.assertIn(self.pin, p.stdout)
        self.assertFalse(os.path.exists(kh))

        p = t.run(["trust", "sftp://127.0.0.1:%d" % self.port, "--known-hosts", kh, "--yes"])
        self.assertExit(p, 0)
        self.assertIn("ssh-ed25519 " + self.pin, p.stdout)
        self.assertEqual(stat.S_IMODE(os.stat(kh).st_mode), 0o600)
        with open(kh) as f:
            lines = f.read().splitlines()
        with open(self.sshd.host_key + ".pub") as f:
            kind, b64 = f.read().split()[:2]
        self.assertEqual(lines, ["[127.0.0.1]:%d %s %s" % (self.port, kind, b64)])
        # OpenSSH reads what trust wrote.
        found = subprocess.run([SSH_KEYGEN, "-F", "[127.0.0.1]:%d" % self.port, "-f", kh],
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(found.returncode, 0, found.stdout + found.stderr)
        p = t.run(["trust", "sftp://127.0.0.1:%d" % self.port, "--known-hosts", kh, "--yes"])
        self.assertExit(p, 0)
        self.assertIn("already trusted", p.stdout)
        with open(kh) as f:
            self.assertEqual(len(f.read().splitlines()), 1)

        p = t.run(["retry", "-c", cfg])
        self.assertExit(p, 0)
        p = self.import_(cfg)
        self.assertExit(p, 0)
        self.assertDeliveredExactly(root, photos)

        # A changed key is never trusted over the old one.
        other = keygen(os.path.join(self.tmp, "other_host_key"))
        with open(other + ".pub") as f:
            kind, b64 = f.read().split()[:2]
        with open(kh, "w") as f:
            f.write("[127.0.0.1]:%d %s %s\n" % (self.port, kind, b64))
        p = t.run(["trust", "sftp://127.0.0.1:%d" % self.port, "--known-hosts", kh, "--yes"])
        self.assertExit(p, 1)
        self.assertIn("man-in-the-middle", p.stderr)
        with open(kh) as f:
            self.assertEqual(len(f.read().splitlines()), 1)

    # ------------------------------------------------------------------ failures

    def test_server_down_is_transient_then_delivered_once(self):
        photos = self.photos(3)
        sftp_root = os.path.join(self.remote, "s")
        scp_root = os.path.join(self.remote, "c")
        os.makedirs(scp_root)
        cfg = self.config({"phone": self.sink("sftp", sftp_root),
                           "nas": self.sink("scp", scp_root, path="{name}")})
        self.sshd.stop()
        p = self.import_(cfg)
        self.assertExit(p, 1)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (3, 0, 6), p.stdout)
        self.assertEqual(t.job_states(self.data), {"failed-transient": 6})
        self.sshd.start()
        p = self.import_(cfg)
        self.assertExit(p, 0)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (0, 6, 0), p.stdout)
        self.assertDeliveredExactly(sftp_root, photos)
        self.assertDeliveredExactly(scp_root, photos)
        self.assertEqual(t.job_states(self.data), {"delivered": 6})

    def test_folder_without_write_permission_is_permanent(self):
        # Log in as "nobody" (a real account whose password is "*", i.e. not locked) so file
        # permissions apply: root would write anywhere.
        self.photos(1)
        ro = os.path.join(self.remote, "readonly")
        os.makedirs(ro)
        os.chmod(self.remote, 0o755)
        os.chmod(ro, 0o555)
        cfg = self.config({
            "flat": self.sink("sftp", ro, path="{name}", user="nobody"),
            "deep": self.sink("sftp", ro, path="{camera}/{name}", user="nobody"),
        })
        p = self.import_(cfg)
        self.assertExit(p, 1)
        rows = self.jobs()
        self.assertEqual([r[0] for r in rows], ["failed-permanent"] * 2,
                         "%s\n%s" % (rows, self.sshd.output()[-2000:]))
        for _state, err in rows:
            self.assertIn("Permission denied", err)
        self.assertIn("creating the folder %s/card: mkdir command failed: Permission denied" % ro,
                      rows[1][1])
        self.assertEqual(os.listdir(ro), [])

    def test_refused_key_is_an_auth_failure(self):
        self.photos(1)
        stranger = keygen(os.path.join(self.tmp, "stranger"))
        os.chmod(stranger, 0o600)
        cfg = self.config({"phone": self.sink("sftp", os.path.join(self.remote, "k"),
                                              key=stranger)})
        p = self.import_(cfg)
        self.assertExit(p, 1)
        rows = self.jobs()
        self.assertEqual(rows[0][0], "failed-permanent")
        self.assertIn("refused user 'root' with key " + stranger, rows[0][1])

    def test_key_readable_by_others_is_refused_at_startup(self):
        os.chmod(self.key, 0o644)
        cfg = self.config({"phone": self.sink("sftp", "/x")})
        p = t.run(["config", "check", cfg])
        self.assertExit(p, 2)
        self.assertIn("is readable or writable by group or others (mode 0644)", p.stdout + p.stderr)
        self.assertIn("chmod 600 " + self.key, p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
