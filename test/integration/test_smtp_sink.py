"""The smtp sink against a real SMTP server (aiosmtpd, started by each test on a loopback port
through support_smtp_server.py): headers and byte-identical attachments, batch mode, size limits,
STARTTLS with a throwaway certificate, AUTH with right and wrong passwords, 4xx/5xx answers and
a server that is down. Every test drives the real camrelay binary (`camrelay import`) with a
Directory Browse card of real JPEGs."""

import email
import email.policy
import glob
import hashlib
import json
import os
import socket
import subprocess
import time
import unittest

import camrelay_testlib as t

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "support_smtp_server.py")
PYTHON = "/usr/bin/python3"  # Debian's python, which has python3-aiosmtpd


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class SmtpServer:
    """support_smtp_server.py in the background, stopped by its own PID."""

    def __init__(self, folder, port, cert=None, key=None, user=None, password=None):
        self.folder = folder
        self.port = port
        os.makedirs(folder, exist_ok=True)
        args = [PYTHON, SERVER, "--port", str(port), "--dir", folder]
        if cert:
            args += ["--cert", cert, "--key", key]
        if user:
            args += ["--user", user, "--password", password]
        self.log = open(os.path.join(folder, "server.log"), "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        ready = os.path.join(folder, "ready")
        deadline = time.monotonic() + 20
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                with open(os.path.join(folder, "server.log")) as f:
                    raise AssertionError("SMTP test server did not start:\n" + f.read())
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()

    def fail_next(self, code, count):
        with open(os.path.join(self.folder, "fail"), "w") as f:
            f.write("%s %d\n" % (code, count))

    def messages(self, prefix="msg"):
        """[(email.message.EmailMessage, envelope dict or None)] in arrival order."""
        out = []
        paths = glob.glob(os.path.join(self.folder, prefix + "-*.eml"))
        for p in sorted(paths, key=lambda x: int(x.rsplit("-", 1)[1].split(".")[0])):
            with open(p, "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            meta = None
            if os.path.exists(p[:-4] + ".json"):
                with open(p[:-4] + ".json") as f:
                    meta = json.load(f)
            out.append((msg, meta))
        return out

    def auth_log(self):
        path = os.path.join(self.folder, "auth.log")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return f.read().split("\n")[:-1]


def attachments(msg):
    """[(filename, content type, sha256 of the decoded bytes)]"""
    out = []
    for part in msg.iter_attachments():
        data = part.get_payload(decode=True)
        out.append((part.get_filename(), part.get_content_type(), hashlib.sha256(data).hexdigest()))
    return out


class SmtpSink(t.CamrelayTestCase):

    def setUp(self):
        super().setUp()
        self.port = free_port()
        self.spool_dir = os.path.join(self.tmp, "smtp")
        self._servers = []
        self.addCleanup(self._stop_servers)

    def _stop_servers(self):
        for s in self._servers:
            s.stop()

    def server(self, **kw):
        s = SmtpServer(self.spool_dir, self.port, **kw)
        self._servers.append(s)
        return s

    def make_cert(self):
        cert = os.path.join(self.tmp, "cert.pem")
        key = os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
        return cert, key

    def password_file(self, password, mode=0o600):
        path = os.path.join(self.tmp, "smtp-password")
        with open(path, "w") as f:
            f.write(password + "\n")
        os.chmod(path, mode)
        return path

    def config(self, extra="", url=None):
        url = url or "smtp://127.0.0.1:%d" % self.port
        return self.write_config(f"""\
[camrelay]
data_dir = "{self.data}"

[[source]]
type = "usb"
port = "disk:{self.card}"

[sink.mail]
type = "smtp"
url = "{url}"
from = "Camera Relay <camera@example.org>"
to = ["me@example.org", "Zoë <zoe@example.org>"]
cc = "archive@example.org"
bcc = ["hidden@example.org"]
retry_min = 1
retry_max = 2
# Generous: a TLS handshake on a loaded CI machine under ASan can take long; a timeout would be
# (rightly) transient and hide the certificate verdict these tests look for.
connect_timeout = 120
{extra}

[[route]]
to = ["mail"]
""")

    def import_(self, cfg):
        return t.run(["import", "-c", cfg])

    def jobs(self):
        return t.query(self.data, "SELECT state, last_error, receipt FROM jobs ORDER BY id")

    # ------------------------------------------------------------------------- plain SMTP

    def test_each_photo_is_one_message_with_its_exact_bytes(self):
        srv = self.server()
        photos = self.photos(3)
        p = self.import_(self.config('starttls = "never"'))
        self.assertExit(p, 0)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (3, 3, 0))

        msgs = srv.messages()
        self.assertEqual(len(msgs), 3)
        want = {os.path.basename(path): sha for path, sha, _d in photos}
        seen = {}
        ids = set()
        for msg, meta in msgs:
            (sender,) = msg["From"].addresses
            self.assertEqual((sender.display_name, sender.addr_spec),
                             ("Camera Relay", "camera@example.org"))
            self.assertEqual([(a.display_name, a.addr_spec) for a in msg["To"].addresses],
                             [("", "me@example.org"), ("Zoë", "zoe@example.org")])
            self.assertEqual(msg["Cc"], "archive@example.org")
            self.assertIsNone(msg["Bcc"], "Bcc recipients must not appear in the headers")
            self.assertEqual(meta["mail_from"], "camera@example.org")
            self.assertEqual(sorted(meta["rcpt_tos"]),
                             sorted(["me@example.org", "zoe@example.org", "archive@example.org",
                                     "hidden@example.org"]))
            self.assertTrue(msg["Date"])
            self.assertRegex(msg["Message-ID"], r"^<camrelay\.\d+\.[0-9a-f]{16}@example\.org>$")
            ids.add(msg["Message-ID"])
            att = attachments(msg)
            self.assertEqual(len(att), 1)
            name, ctype, sha = att[0]
            self.assertEqual(ctype, "image/jpeg")
            self.assertEqual(msg["Subject"], "Photo %s from card" % name)
            self.assertIn(name + " from card, taken 2024-05-01 12:00:0",
                          msg.get_body(("plain",)).get_content())
            seen[name] = sha
        self.assertEqual(seen, want, "attachments differ from the photos")
        self.assertEqual(len(ids), 3)
        for state, _err, receipt in self.jobs():
            self.assertEqual(state, "delivered")
            self.assertRegex(receipt, r"^<camrelay\.\d+\.[0-9a-f]{16}@example\.org> via "
                                      r"smtp://127\.0\.0\.1:%d to " % self.port)

    def test_hostile_camera_names_cannot_inject_headers(self):
        srv = self.server()
        names = ["evil\r\nBcc: victim@example.org\r\nX-Injected: yes.JPG",
                 "写真 \"quoted\" back\\slash.JPG"]
        photos = self.photos(names)
        p = self.import_(self.config('starttls = "never"'))
        self.assertExit(p, 0)
        msgs = srv.messages()
        self.assertEqual(len(msgs), 2)
        by_sha = {sha: os.path.basename(path) for path, sha, _d in photos}
        for msg, meta in msgs:
            self.assertNotIn("victim@example.org", meta["rcpt_tos"])
            self.assertIsNone(msg["X-Injected"])
            self.assertIsNone(msg["Bcc"])
            (name, _ctype, sha), = attachments(msg)
            original = by_sha[sha]
            clean = " ".join(original.replace("\r", " ").replace("\n", " ").split())
            self.assertEqual(msg["Subject"], "Photo %s from card" % clean)
            self.assertEqual(name, clean.replace("\\", "_"))
            self.assertNotIn("\n", msg["Subject"])
            # Camera values lose their line breaks in the text part too.
            self.assertIn(clean + " from card, taken", msg.get_body(("plain",)).get_content())
        raw = b""
        for path in glob.glob(os.path.join(self.spool_dir, "msg-*.eml")):
            with open(path, "rb") as f:
                raw += f.read()
        self.assertNotIn(b"\nX-Injected", raw)
        self.assertNotIn(b"\nBcc:", raw)

    def test_batch_mode_sends_due_photos_together_after_server_was_down(self):
        photos = self.photos(4)
        cfg = self.config('starttls = "never"\nmode = "batch"\nbatch_max = 10')
        # No server yet: connection refused is transient.
        p = self.import_(cfg)
        self.assertExit(p, 1)
        rows = self.jobs()
        self.assertEqual([r[0] for r in rows], ["failed-transient"] * 4, rows)
        for _state, err, _r in rows:
            self.assertIn("smtp://127.0.0.1:%d" % self.port, err)
            self.assertIn("connect", err.lower())
        st = t.status_json(self.data, cfg)
        self.assertEqual(st["queue"]["mail"]["failed-transient"], 4, st["queue"])

        srv = self.server()
        p = self.import_(cfg)
        self.assertExit(p, 0)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (0, 4, 0))
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1, "batch mode: one message for the photos due together")
        msg, _meta = msgs[0]
        got = sorted(sha for _n, _c, sha in attachments(msg))
        self.assertEqual(got, sorted(sha for _p, sha, _d in photos))
        self.assertEqual(msg["Subject"], "Photo IMG_0001.JPG from card and 3 more")
        self.assertRegex(msg["Message-ID"], r"^<camrelay\.\d+-\d+\.[0-9a-f]{24}@example\.org>$")
        body = msg.get_body(("plain",)).get_content()
        for i in range(1, 5):
            self.assertIn("IMG_%04d.JPG from card" % i, body)
        receipts = {r[2] for r in self.jobs()}
        self.assertEqual(len(receipts), 1)
        self.assertIn("(4 photos in one message)", receipts.pop())

    def test_batches_are_split_to_stay_under_max_message_bytes(self):
        photos = self.photos(3, big=True)
        sizes = sorted(os.path.getsize(p) for p, _s, _d in photos)

        def b64(n):
            enc = (n + 2) // 3 * 4
            return enc + 2 * ((enc + 75) // 76)
        # Room for two photos per message, not three.
        limit = 8192 + 2 * (b64(sizes[-1]) + 1024) + 2048
        self.assertLess(limit, 8192 + 3 * b64(sizes[0]))
        cfg = self.config('starttls = "never"\nmode = "batch"\nmax_message_bytes = %d' % limit)
        # Down first, so all three are due together on the second import.
        p = self.import_(cfg)
        self.assertExit(p, 1)
        srv = self.server()
        p = self.import_(cfg)
        self.assertExit(p, 0)
        msgs = srv.messages()
        self.assertEqual([len(attachments(m)) for m, _ in msgs], [2, 1])
        got = sorted(sha for m, _ in msgs for _n, _c, sha in attachments(m))
        self.assertEqual(got, sorted(sha for _p, sha, _d in photos))
        for m, _ in msgs:
            self.assertLessEqual(len(m.as_bytes()), limit)

    def test_photo_over_max_message_bytes_fails_permanently(self):
        srv = self.server()
        big = self.photos(["BIG_0001.JPG"], big=True)
        small = self.photos(["SMALL_0002.JPG"], first_index=2)
        size = os.path.getsize(big[0][0])
        p = self.import_(self.config('starttls = "never"\nmax_message_bytes = 100000'))
        self.assertExit(p, 1)
        rows = {state: (err, receipt) for state, err, receipt in self.jobs()}
        self.assertEqual(sorted(rows), ["delivered", "failed-permanent"])
        err = rows["failed-permanent"][0]
        self.assertIn("BIG_0001.JPG is too large to mail", err)
        self.assertIn("(%d bytes)" % size, err)
        self.assertIn("max_message_bytes 0.1 MiB (100000 bytes)", err)
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(attachments(msgs[0][0])[0][2], small[0][1])

    def test_451_is_retried_with_the_same_message_id(self):
        srv = self.server()
        srv.fail_next("451", 1)
        photos = self.photos(1)
        cfg = self.config('starttls = "never"')
        p = self.import_(cfg)
        self.assertExit(p, 1)
        (state, err, _r), = self.jobs()
        self.assertEqual(state, "failed-transient")
        self.assertIn("answered: 451 4.0.0 try again later", err)
        st = t.status_json(self.data, cfg)
        self.assertEqual(st["queue"]["mail"]["failed-transient"], 1)
        self.assertEqual(srv.messages(), [])

        p = self.import_(cfg)
        self.assertExit(p, 0)
        self.assertEqual(t.parse_summary(p.stdout)["delivered"], 1)
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(attachments(msgs[0][0])[0][2], photos[0][1])
        refused = srv.messages("refused")
        self.assertEqual(len(refused), 1)
        self.assertEqual(refused[0][0]["Message-ID"], msgs[0][0]["Message-ID"],
                         "a retry must carry the same Message-ID")
        self.assertEqual(t.job_states(self.data), {"delivered": 1})

    def test_5xx_is_permanent(self):
        srv = self.server()
        srv.fail_next("554", 1)
        self.photos(1)
        p = self.import_(self.config('starttls = "never"'))
        self.assertExit(p, 1)
        (state, err, _r), = self.jobs()
        self.assertEqual(state, "failed-permanent")
        self.assertIn("answered: 554 5.0.0 refused by test server", err)
        self.assertEqual(srv.messages(), [])

    def test_starttls_required_never_sends_in_clear(self):
        srv = self.server()  # plain server: offers no STARTTLS
        self.photos(1)
        p = self.import_(self.config())  # starttls defaults to required
        self.assertExit(p, 1)
        (state, err, _r), = self.jobs()
        self.assertEqual(state, "failed-permanent")
        self.assertIn("offers no STARTTLS", err)
        self.assertEqual(srv.messages(), [])

    # ------------------------------------------------------------------------- STARTTLS + AUTH

    def tls_config(self, password, extra=""):
        return self.config('username = "photos"\npassword_file = "%s"\nca_file = "%s"\n%s'
                           % (self.password_file(password), self.cert, extra))

    def tls_server(self):
        self.cert, key = self.make_cert()
        return self.server(cert=self.cert, key=key, user="photos", password="right horse")

    def test_starttls_and_auth_deliver(self):
        srv = self.tls_server()
        photos = self.photos(2)
        p = self.import_(self.tls_config("right horse"))
        self.assertExit(p, 0)
        msgs = srv.messages()
        self.assertEqual(len(msgs), 2)
        for msg, meta in msgs:
            self.assertTrue(meta["tls"], "message was not sent over TLS")
            self.assertEqual(meta["user"], "photos")
        got = sorted(attachments(m)[0][2] for m, _ in msgs)
        self.assertEqual(got, sorted(sha for _p, sha, _d in photos))
        self.assertEqual(srv.auth_log(), ["ok photos", "ok photos"])
        self.assertNotIn("right horse", p.stdout + p.stderr)

    def test_wrong_password_is_a_permanent_auth_failure(self):
        srv = self.tls_server()
        self.photos(1)
        cfg = self.tls_config("wrong horse")
        p = self.import_(cfg)
        self.assertExit(p, 1)
        (state, err, _r), = self.jobs()
        self.assertEqual(state, "failed-permanent")
        self.assertIn("authentication failed", err)
        self.assertIn("answered: 535", err)
        self.assertIn("password_file", err)
        self.assertNotIn("wrong horse", err + p.stdout + p.stderr)
        self.assertEqual(srv.messages(), [])
        self.assertEqual(srv.auth_log(), ["fail photos"])
        st = t.status_json(self.data, cfg)
        self.assertEqual(st["queue"]["mail"]["failed-permanent"], 1)

        # Fixed password, `camrelay retry`, next import delivers.
        self.password_file("right horse")
        r = t.run(["retry", "-c", cfg])
        self.assertExit(r, 0)
        p = self.import_(cfg)
        self.assertExit(p, 0)
        self.assertEqual(len(srv.messages()), 1)

    def test_untrusted_certificate_is_refused_before_login(self):
        srv = self.tls_server()
        self.photos(1)
        cfg = self.config('username = "photos"\npassword_file = "%s"'
                          % self.password_file("right horse"))  # no ca_file: system CAs
        p = self.import_(cfg)
        self.assertExit(p, 1)
        (state, err, _r), = self.jobs()
        self.assertEqual(state, "failed-permanent")
        self.assertIn("certificate", err.lower())
        self.assertEqual(srv.auth_log(), [], "the password was sent to an unverified server")
        self.assertEqual(srv.messages(), [])

    def test_password_file_readable_by_others_is_refused(self):
        self.photos(1)
        self.cert = os.path.join(self.tmp, "none.pem")
        open(self.cert, "w").close()
        cfg = self.tls_config("right horse")
        os.chmod(os.path.join(self.tmp, "smtp-password"), 0o644)
        r = t.run(["config", "check", cfg])
        self.assertExit(r, 2)
        self.assertIn("chmod 600", r.stdout + r.stderr)
        self.assertIn("0644", r.stdout + r.stderr)
        p = self.import_(cfg)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("chmod 600", p.stderr)
        self.assertFalse(os.path.exists(t.ledger_path(self.data)) and self.jobs(),
                         "nothing may be fetched for a sink that cannot start")


if __name__ == "__main__":
    unittest.main()
