"""The webdav sink against three real WebDAV servers started here on 127.0.0.1 high ports:
rclone `serve webdav`, nginx with dav_ext, and Apache httpd with mod_dav_fs. Each answers a PUT
under a missing collection differently (404, 500, 409); the sink must create the collections,
upload under a temp name, MOVE it into place without overwriting, check the size, and never
leave a second copy or a temp file behind. Also TLS (nginx with a self-signed certificate,
trusted through ca_file) and the password file's permissions."""

import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

import camrelay_testlib as t

RCLONE = shutil.which("rclone") or "/usr/bin/rclone"
NGINX = "/usr/sbin/nginx"
APACHE = "/usr/sbin/apache2"
APACHE_MODULES = "/usr/lib/apache2/modules"
NGINX_DAV_EXT = "/usr/lib/nginx/modules/ngx_http_dav_ext_module.so"
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

USER = "photo-user"
PASSWORD = "s3cret pass:word"
BASE = "Photos"  # the sink's base collection; it does not exist before the first delivery
ODD_NAMES = ["IMG_0001.JPG", "a b#c?.jpg", "100% ünï 写真.JPG"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(port, proc, log_path, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            if proc.poll() is not None:
                with open(log_path, errors="replace") as f:
                    raise AssertionError("server exited with %s:\n%s" % (proc.returncode, f.read()))
            time.sleep(0.05)
    raise AssertionError("server did not listen on %d within %d s" % (port, timeout))


def htpasswd(path, user, password):
    """An Apache-MD5 ($apr1$) entry: nginx and Apache both read it."""
    h = subprocess.run([OPENSSL, "passwd", "-apr1", "-stdin"], input=password, check=True,
                       stdout=subprocess.PIPE, text=True, timeout=30).stdout.strip()
    with open(path, "w") as f:
        f.write("%s:%s\n" % (user, h))


class DavServer:
    """One real WebDAV server serving `root`, with its config and logs in `home`."""

    kind = None

    def __init__(self, home, tls=None):
        self.home = home
        self.root = os.path.join(home, "root")
        self.port = free_port()
        self.tls = tls  # (cert, key) or None
        self.proc = None
        os.makedirs(self.root)
        self.log_path = os.path.join(home, self.kind + ".log")

    def url(self, path=""):
        scheme = "https" if self.tls else "http"
        return "%s://127.0.0.1:%d/%s" % (scheme, self.port, path)

    def command(self):
        raise NotImplementedError

    def start(self):
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.home)
        finally:
            log.close()
        wait_listening(self.port, self.proc, self.log_path)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        # The port must be free again before a restart on it.
        t.wait_for(lambda: self._port_free(), 10, what="port %d to close" % self.port)

    def _port_free(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), 0.2).close()
            return False
        except OSError:
            return True

    def logs(self):
        out = []
        for n in sorted(os.listdir(self.home)):
            if n.endswith(".log"):
                with open(os.path.join(self.home, n), errors="replace") as f:
                    out.append("--- %s\n%s" % (n, f.read()[-4000:]))
        return "\n".join(out)


class RcloneServer(DavServer):
    kind = "rclone"

    def command(self):
        return [RCLONE, "serve", "webdav", self.root, "--addr", "127.0.0.1:%d" % self.port,
                "--user", USER, "--pass", PASSWORD,
                "--config", os.path.join(self.home, "rclone.conf")]


class NginxServer(DavServer):
    kind = "nginx"
    dav_methods = "PUT DELETE MKCOL COPY MOVE"

    def command(self):
        h = self.home
        htpasswd(os.path.join(h, "htpasswd"), USER, PASSWORD)
        os.makedirs(os.path.join(h, "body"), exist_ok=True)
        listen = "127.0.0.1:%d" % self.port
        tls = ""
        if self.tls:
            listen += " ssl"
            tls = "ssl_certificate %s;\n    ssl_certificate_key %s;" % self.tls
        conf = os.path.join(h, "nginx.conf")
        with open(conf, "w") as f:
            # master_process off: one process with our own uid, stopped by its PID.
            f.write(f"""daemon off;
master_process off;
pid {h}/nginx.pid;
error_log {h}/nginx-error.log info;
load_module {NGINX_DAV_EXT};
events {{ worker_connections 64; }}
http {{
  access_log {h}/nginx-access.log;
  client_body_temp_path {h}/body;
  proxy_temp_path {h}/body;
  fastcgi_temp_path {h}/body;
  uwsgi_temp_path {h}/body;
  scgi_temp_path {h}/body;
  server {{
    listen {listen};
    {tls}
    root {self.root};
    location / {{
      dav_methods {self.dav_methods};
      dav_ext_methods PROPFIND OPTIONS;
      create_full_put_path off;
      client_max_body_size 0;
      auth_basic "camrelay";
      auth_basic_user_file {h}/htpasswd;
    }}
  }}
}}
""")
        return [NGINX, "-p", h, "-c", conf, "-e", os.path.join(h, "nginx-error.log")]


class ApacheServer(DavServer):
    kind = "apache"
    modules = ["mpm_prefork", "authn_core", "authn_file", "authz_core", "authz_user",
               "auth_basic", "dav", "dav_fs"]

    def command(self):
        h = self.home
        htpasswd(os.path.join(h, "htpasswd"), USER, PASSWORD)
        run_as = ""
        if os.geteuid() == 0:
            # httpd refuses to serve as root: its files belong to www-data here.
            run_as = "User www-data\nGroup www-data\n"
            import pwd
            pw = pwd.getpwnam("www-data")
            for dirpath, _dirs, files in os.walk(h):
                os.chown(dirpath, pw.pw_uid, pw.pw_gid)
                for n in files:
                    os.chown(os.path.join(dirpath, n), pw.pw_uid, pw.pw_gid)
            p = h
            while p != "/":  # www-data must reach its folder through the test's temp dirs
                os.chmod(p, os.stat(p).st_mode | 0o011)
                p = os.path.dirname(p)
        conf = os.path.join(h, "apache.conf")
        with open(conf, "w") as f:
            for m in self.modules:
                f.write("LoadModule %s_module %s/mod_%s.so\n" % (m, APACHE_MODULES, m))
            f.write(f"""ServerRoot {h}
ServerName 127.0.0.1
Listen 127.0.0.1:{self.port}
PidFile {h}/apache.pid
ErrorLog {h}/apache-error.log
DavLockDB {h}/davlock
{run_as}DocumentRoot {self.root}
<Directory {self.root}>
  Dav On
  AuthType Basic
  AuthName camrelay
  AuthUserFile {h}/htpasswd
  Require valid-user
</Directory>
""")
        # -X: one process in the foreground, stopped by its PID.
        return [APACHE, "-X", "-f", conf]


class WebdavSinkMixin:
    """The same checks for every server; subclasses set `server_class`."""

    server_class = None

    def setUp(self):
        super().setUp()
        self.server = self.server_class(os.path.join(self.tmp, "server"))
        self.server.start()
        self.addCleanup(self.server.stop)
        self.password_file = self.secret(PASSWORD)
        self.store = os.path.join(self.server.root, BASE)

    def secret(self, text, name="dav-password", mode=0o600):
        p = os.path.join(self.tmp, name)
        with open(p, "w") as f:
            f.write(text + "\n")
        os.chmod(p, mode)
        return p

    def config(self, password_file=None, path=None, extra="", data=None, url=None):
        path_line = 'path = "%s"' % path if path else ""
        return self.write_config(f"""\
[camrelay]
data_dir = "{data or self.data}"

[[source]]
type = "usb"
port = "disk:{self.card}"

[sink.cloud]
type = "webdav"
url = "{url or self.server.url(BASE)}"
user = "{USER}"
password_file = "{password_file or self.password_file}"
{path_line}
{extra}
retry_min = 1
retry_max = 1

[[route]]
to = ["cloud"]
""")

    def import_(self, cfg, expect=0):
        p = t.run(["import", "-q", "-c", cfg], timeout=120)
        self.assertExit(p, expect, self.server.logs())
        return p, t.parse_summary(p.stdout)

    def expected_paths(self, photos):
        return {os.path.join(self.store, d.strftime("%Y"), d.strftime("%Y-%m-%d"),
                             os.path.basename(p)): sha for p, sha, d in photos}

    def assert_store(self, photos, extra=None):
        """Exactly the photos, byte-identical, at their templated paths; no temp files."""
        want = self.expected_paths(photos)
        if extra:
            want.update(extra)
        got = {p: t.sha256_file(p) for p in t.files_under(self.store)}
        self.assertEqual(got, want, self.server.logs())

    def test_delivers_under_templated_path_once(self):
        photos = self.photos(ODD_NAMES, big=True)
        cfg = self.config()
        _p, s = self.import_(cfg)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (3, 3, 0))
        self.assert_store(photos)
        self.assertEqual(t.job_states(self.data), {"delivered": 3})
        receipts = sorted(r for (r,) in t.query(self.data, "SELECT receipt FROM jobs"))
        self.assertIn(self.server.url(BASE + "/2024/2024-05-01/a%20b%23c%3F.jpg"), receipts)

        # The same card again: nothing new, nothing sent.
        _p, s = self.import_(cfg)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (0, 0, 0))
        self.assert_store(photos)

        # A fresh ledger (as after losing the data folder, or a crash after the MOVE): every
        # photo is delivered "again", found at its URL with the same size, and not copied twice.
        fresh = os.path.join(self.tmp, "data2")
        _p, s = self.import_(self.config(data=fresh))
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (3, 3, 0))
        self.assert_store(photos)

    def test_a_different_file_at_the_name_is_kept(self):
        photos = self.photos(["IMG_0007.JPG"])
        target = os.path.join(self.store, "cam", "IMG_0007.JPG")
        os.makedirs(os.path.dirname(target))
        with open(target, "wb") as f:
            f.write(b"someone else's file")
        if os.geteuid() == 0 and self.server.kind == "apache":
            shutil.chown(self.store, "www-data", "www-data")
            shutil.chown(os.path.dirname(target), "www-data", "www-data")
        cfg = self.config(path="cam/{name}")
        _p, s = self.import_(cfg)
        self.assertEqual(s["delivered"], 1)
        numbered = os.path.join(self.store, "cam", "IMG_0007-1.JPG")
        got = {p: t.sha256_file(p) for p in t.files_under(self.store)}
        self.assertEqual(got, {target: t.sha256_file(target), numbered: photos[0][1]})

    def test_wrong_password_is_a_permanent_auth_failure(self):
        self.photos(2)
        cfg = self.config(password_file=self.secret("not the password", name="wrong"))
        p, s = self.import_(cfg, expect=1)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (2, 0, 2))
        self.assertNotIn("not the password", p.stdout + p.stderr)
        st = t.status_json(self.data, cfg)
        self.assertEqual(st["queue"]["cloud"]["failed-permanent"], 2, st["queue"])
        for e in st["recent_failures"]:
            self.assertIn("HTTP 401", e["message"])
            self.assertIn("credentials of user '%s' refused" % USER, e["message"])
            self.assertNotIn("not the password", e["message"])
        self.assertEqual(t.files_under(self.server.root), [])
        # A permanent failure is not tried again by the next import.
        _p, s = self.import_(cfg)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (0, 0, 0))

    def test_server_down_is_transient_then_delivered_once(self):
        photos = self.photos(2)
        cfg = self.config()
        self.server.stop()
        _p, s = self.import_(cfg, expect=1)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (2, 0, 2))
        self.assertEqual(t.job_states(self.data), {"failed-transient": 2})
        errors = [e for (e,) in t.query(self.data, "SELECT last_error FROM jobs")]
        for e in errors:
            self.assertIn("PROPFIND " + self.server.url(BASE), e)
        self.server.start()
        _p, s = self.import_(cfg)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (0, 2, 0))
        self.assert_store(photos)
        _p, s = self.import_(cfg)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (0, 0, 0))
        self.assert_store(photos)


class Rclone(WebdavSinkMixin, t.CamrelayTestCase):
    server_class = RcloneServer


class Nginx(WebdavSinkMixin, t.CamrelayTestCase):
    server_class = NginxServer


class Apache(WebdavSinkMixin, t.CamrelayTestCase):
    server_class = ApacheServer


class NginxWithoutMove(NginxServer):
    dav_methods = "PUT DELETE MKCOL"


class ServerWithoutMove(WebdavSinkMixin, t.CamrelayTestCase):
    """MOVE answered 405: the sink drops its temp file and PUTs in place from then on."""

    server_class = NginxWithoutMove

    def test_delivers_under_templated_path_once(self):
        super().test_delivers_under_templated_path_once()
        with open(os.path.join(self.server.home, "nginx-access.log")) as f:
            moves = [l for l in f if '"MOVE ' in l]
        self.assertEqual(len(moves), 1, "MOVE is tried once per run, then no more: %s" % moves)
        self.assertIn('" 405 ', moves[0])

    # The other cases are the plain nginx ones.
    test_a_different_file_at_the_name_is_kept = None
    test_wrong_password_is_a_permanent_auth_failure = None
    test_server_down_is_transient_then_delivered_once = None


class Settings(t.CamrelayTestCase):

    def test_password_file_open_to_others_is_refused(self):
        pw = os.path.join(self.tmp, "pw")
        with open(pw, "w") as f:
            f.write("secret-value\n")
        os.chmod(pw, 0o644)
        cfg = self.write_config(f"""\
[camrelay]
data_dir = "{self.data}"

[sink.cloud]
type = "webdav"
url = "https://127.0.0.1:1/dav"
user = "u"
password_file = "{pw}"

[[route]]
to = ["cloud"]
""")
        p = t.run(["config", "check", cfg])
        self.assertExit(p, 2)
        out = p.stdout + p.stderr
        self.assertIn(":8:", out)
        self.assertIn("chmod 600 " + pw, out)
        self.assertNotIn("secret-value", out)
        os.chmod(pw, 0o600)
        self.assertExit(t.run(["config", "check", cfg]), 0)

    def test_no_literal_password_option(self):
        cfg = self.write_config(f"""\
[sink.cloud]
type = "webdav"
url = "https://127.0.0.1:1/dav"
user = "u"
password = "hunter2"

[[route]]
to = ["cloud"]
""")
        p = t.run(["config", "check", cfg])
        self.assertExit(p, 2)
        self.assertIn("password", p.stdout + p.stderr)


class Tls(t.CamrelayTestCase):
    """nginx over HTTPS with a self-signed certificate: refused until ca_file trusts it."""

    def setUp(self):
        super().setUp()
        self.cert = os.path.join(self.tmp, "cert.pem")
        key = os.path.join(self.tmp, "key.pem")
        subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", self.cert], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
        self.server = NginxServer(os.path.join(self.tmp, "server"), tls=(self.cert, key))
        self.server.start()
        self.addCleanup(self.server.stop)
        self.pw = os.path.join(self.tmp, "pw")
        with open(self.pw, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(self.pw, 0o600)

    def config(self, ca_line):
        return self.write_config(f"""\
[camrelay]
data_dir = "{self.data}"

[[source]]
type = "usb"
port = "disk:{self.card}"

[sink.cloud]
type = "webdav"
url = "{self.server.url(BASE)}"
user = "{USER}"
password_file = "{self.pw}"
path = "{{name}}"
{ca_line}

[[route]]
to = ["cloud"]
""")

    def test_certificate_is_verified_and_ca_file_trusts_it(self):
        photos = self.photos(1)
        p = t.run(["import", "-q", "-c", self.config("")])
        self.assertExit(p, 1)
        st = t.status_json(self.data)
        self.assertEqual(st["queue"]["cloud"]["failed-permanent"], 1, st)
        self.assertEqual(t.files_under(self.server.root), [])

        t.run(["retry", "-c", self.config('ca_file = "%s"' % self.cert)])
        p = t.run(["import", "-q", "-c", self.config('ca_file = "%s"' % self.cert)])
        self.assertExit(p, 0, self.server.logs())
        self.assertEqual(t.parse_summary(p.stdout)["delivered"], 1)
        got = {os.path.relpath(q, self.server.root): t.sha256_file(q)
               for q in t.files_under(self.server.root)}
        self.assertEqual(got, {BASE + "/IMG_0001.JPG": photos[0][1]})


if __name__ == "__main__":
    unittest.main()
