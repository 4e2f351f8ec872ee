"""Helpers for the Samsung SNS source tests: a camrelay daemon configured like the reference's
test configuration (test/data/samsung/README.md), with a folder sink for `store`, a mastodon sink
against mastodon_stub.py, an smtp sink against aiosmtpd (support_smtp_server.py) and a shell sink;
and a raw-socket client that sends camera-shaped bytes."""

import json
import os
import re
import socket
import time

import camrelay_testlib as t
from mastodon_stub import MastodonStub
from test_smtp_sink import SmtpServer, free_port

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.normpath(os.path.join(HERE, "..", "data", "samsung", "vectors"))
VECTOR_SID = b"8660418642ce45c5ae25c80a75bdb46b"
SECRET = "xiev5kaMeehaimub"


def vector_names():
    return sorted(n[:-len(".request.bin")] for n in os.listdir(VECTORS)
                  if n.endswith(".request.bin"))


def read_vector(name, kind):
    with open(os.path.join(VECTORS, "%s.%s.bin" % (name, kind)), "rb") as f:
        return f.read()


def exchange(port, data, timeout=30):
    """Sends `data`, half-closes nothing, reads until the server closes. Returns the bytes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def normalise(response):
    """Blanks what may differ (Date, the first Server value, 32-hex session keys, the ST1000
    server time); a second Server line (gld hotspot) is compared."""
    head, sep, body = response.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    seen_server = False
    for i, line in enumerate(lines):
        if line.startswith(b"Date: "):
            lines[i] = b"Date: *"
        elif line.startswith(b"Server: ") and not seen_server:
            lines[i] = b"Server: *"
            seen_server = True
    out = b"\r\n".join(lines) + sep + body
    out = re.sub(rb"[0-9a-f]{32}", b"SID", out)
    return re.sub(rb"<currentServerTime>[0-9]{13}<", b"<currentServerTime>MS<", out)


def session_key(response):
    m = re.search(rb'SessionKey="([0-9a-f]{32})"', response)
    return m.group(1) if m else None


def http_request(method, path, body=b"", host="snsgw.samsungmobile.com", headers=None,
                 version="HTTP/1.1"):
    head = "%s %s %s\r\nHost: %s\r\n" % (method, path, version, host)
    for k, v in (headers or {}).items():
        head += "%s: %s\r\n" % (k, v)
    head += "Content-Length: %d\r\n\r\n" % len(body)
    return head.encode() + body


def email_request(sender, receivers, body, files, duid="123456789033"):
    """An NX300-shaped e-mail POST (samsung-sns.md 3.5): message part first, one `binary` part per
    (name, bytes), last delimiter without the closing `--`."""
    b = b"---------------------------7d93b9550d4a"
    m = (b"--" + b + b'\r\ncontent-disposition: form-data; name="message"; fileName="sample.txt"'
         b"\r\ncontent-Type: multipart/form-data;\r\n\r\n"
         b'<?xml version="1.0" encoding="UTF-8"?>\r\n<email><sender>' + sender.encode() +
         b"</sender><receiverList>" +
         b"".join(b"<receiver>" + r.encode() + b"</receiver>" for r in receivers) +
         b"</receiverList><title><![CDATA[[Samsung Smart Camera] sent you files.]]></title> "
         b"<body><![CDATA[" + body.encode() + b"\r\nlanguage_sh100_utf8]]></body></email>\r\n")
    for name, data in files:
        m += (b"--" + b + b'\r\ncontent-disposition: form-data; name="binary"; fileName="' +
              name.encode() + b'"\r\ncontent-Type: image/jpeg;\r\n\r\n' + data + b"\r\n")
    m += b"--" + b + b"\r\n"
    path = "/social/columbus/email" + ("?DUID=" + duid if duid else "")
    return http_request("POST", path, m, host="www.ospserver.net",
                        headers={"Content-Type": "multipart/form-data; boundary=" + b.decode()},
                        version="HTTP/1.0")


def photo_request(sid, site, file_name, content, album="NX300"):
    xml = ('<Request Method="upload" Timeout="3000" SessionKey="%s"><Photo><Album Name="%s"/>'
           '<File Name="%s"/><Content>%s</Content></Photo></Request>'
           % (sid.decode(), album, file_name, content)).encode()
    return http_request("POST", "/%s/photo" % site, xml, headers={"Content-Type": "text/xml"})


def login_request(site):
    raw = read_vector("20_facebook_login", "request")
    return raw.replace(b"/facebook/auth", b"/%s/auth" % site.encode(), 1)


class SamsungCase(t.CamrelayTestCase):
    """One daemon per test with the reference test configuration."""

    limits = ""

    def setUp(self):
        super().setUp()
        self.stub = MastodonStub().start()
        self.addCleanup(self.stub.stop)
        self.secret_file = os.path.join(self.tmp, "mastodon.json")
        fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"base_url": self.stub.base_url, "client_id": "cid",
                       "client_secret": "csecret", "access_token": self.stub.add_token()}, f)
        self.smtp_port = free_port()
        self.smtp_dir = os.path.join(self.tmp, "smtp")
        self.smtp = SmtpServer(self.smtp_dir, self.smtp_port)
        self.addCleanup(self.smtp.stop)
        self.shell_log = os.path.join(self.tmp, "shell.log")
        self.port = free_port()
        cfg = self.write_config(f"""\
[camrelay]
data_dir = "{self.data}"
log_level = "debug"

[[source]]
type = "samsung"
listen = "127.0.0.1:{self.port}"
senders = ["Camera@samsungcamera.com", "f"]
secret = "{SECRET}"
actions = ["facebook = mastodon:masto", "picasa = store:files",
           "masto@mydomain.com = mastodon:masto", "masto-public@mydomain.com = mastodon:masto-pub",
           "store@mydomain.com = store:files", "drop@mydomain.com = drop",
           "shell@mydomain.com = shell:log"]
email_default = "mail:smtp"
social_default = "store:files"
{self.limits}

[sink.files]
type = "folder"
path = "{self.dest}/{{user_folder}}/{{name}}"

[sink.smtp]
type = "smtp"
url = "smtp://127.0.0.1:{self.smtp_port}"
from = "relay@example.org"
starttls = "never"
retry_min = 1

[sink.masto]
type = "mastodon"
secret_file = "{self.secret_file}"
status = "{{text}}\\n\\n #photography #SamsungNX"
alt_text = "{{alt}}"
retry_min = 1

[sink.masto-pub]
type = "mastodon"
secret_file = "{self.secret_file}"
visibility = "public"
status = "{{text}}"
alt_text = "{{alt}}"
retry_min = 1

[sink.log]
type = "shell"
command = ["/bin/sh", "-c", "echo \\"$1 $2\\" >> {self.shell_log}", "log", "{{recipient}}", "{{name}}"]

# No [[route]]: Samsung messages go where `actions` say.
""")
        self.d = self.daemon(["-c", cfg])
        t.wait_for(self.listening, 20, what="the samsung listener")

    def listening(self):
        if self.d.proc.poll() is not None:
            raise AssertionError("camrelay run exited:\n" + self.d.output())
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def send(self, data, timeout=30):
        return exchange(self.port, data, timeout)

    def log_text(self):
        return self.d.output()

    def wait_log(self, needle, timeout=10):
        t.wait_for(lambda: needle in self.log_text(), timeout, what=repr(needle))

    def status(self, response):
        return response.split(b"\r\n", 1)[0].decode()
