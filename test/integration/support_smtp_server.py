"""A real SMTP server for the smtp sink's tests: aiosmtpd (Debian's python3-aiosmtpd) on
127.0.0.1, saving every accepted message to a folder. Run with /usr/bin/python3.

  support_smtp_server.py --port P --dir D [--cert C --key K] [--user U --password PW]

With --cert/--key the server offers STARTTLS and requires it before MAIL (require_starttls);
with --user/--password it requires AUTH (PLAIN or LOGIN, only over TLS).

In D it writes:
  ready                 once it accepts connections (holds its PID)
  msg-N.eml             each accepted message, as received (bytes of DATA)
  refused-N.eml         each message refused through D/fail
  msg-N.json            its envelope: mail_from, rcpt_tos, tls (bool), user
  auth.log              one line per AUTH attempt: "ok USER" or "fail USER"
It reads D/fail before each DATA: "451 3" answers 451 to the next 3 messages (counting down in
the file), "554 1" a permanent refusal, and so on. SIGTERM stops it.
"""

import argparse
import json
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class SavingHandler:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    def _take_failure(self):
        path = os.path.join(self.folder, "fail")
        try:
            with open(path) as f:
                parts = f.read().split()
        except FileNotFoundError:
            return None
        if len(parts) != 2 or int(parts[1]) <= 0:
            return None
        code, left = parts[0], int(parts[1])
        with open(path + ".tmp", "w") as f:
            f.write("%s %d\n" % (code, left - 1))
        os.replace(path + ".tmp", path)
        return code

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            code = self._take_failure()
            self.count += 1
            n = self.count
        if code is not None:
            # Kept, so a test can compare the Message-ID of the retry with the refused one.
            with open(os.path.join(self.folder, "refused-%d.eml" % n), "wb") as f:
                f.write(envelope.original_content or envelope.content)
            text = "try again later" if code.startswith("4") else "refused by test server"
            return "%s %s.0.0 %s" % (code, code[0], text)
        base = os.path.join(self.folder, "msg-%d" % n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None and bool(session.ssl),
            "user": (session.auth_data.login.decode()
                     if isinstance(session.auth_data, LoginPassword) else None),
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        os.replace(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 OK queued as test-%d" % n


def make_authenticator(folder, user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        who = auth_data.login.decode(errors="replace") if isinstance(auth_data, LoginPassword) else "?"
        with open(os.path.join(folder, "auth.log"), "a") as f:
            f.write("%s %s\n" % ("ok" if ok else "fail", who))
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        # handled=False lets aiosmtpd answer 535 itself; handled=True without a reply hangs.
        return AuthResult(success=False, handled=False)
    return authenticate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--user")
    ap.add_argument("--password")
    args = ap.parse_args()

    kwargs = {}
    if args.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if args.user:
        kwargs.update(authenticator=make_authenticator(args.dir, args.user, args.password),
                      auth_required=True, auth_require_tls=bool(args.cert))
    controller = Controller(SavingHandler(args.dir), hostname="127.0.0.1", port=args.port,
                            **kwargs)
    controller.start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with open(os.path.join(args.dir, "ready.tmp"), "w") as f:
        f.write(str(os.getpid()))
    os.replace(os.path.join(args.dir, "ready.tmp"), os.path.join(args.dir, "ready"))
    while not stop.wait(0.5):
        pass
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
