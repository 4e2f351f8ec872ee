"""A Mastodon API stub for tests (Python stdlib only), following the documented API
(https://docs.joinmastodon.org/methods/): the parts a client that registers itself, logs in and
posts photos uses.

  POST /api/v1/apps                       register a client (form or JSON)
  GET  /oauth/authorize                   a page showing a code (what a browser would see)
  POST /oauth/token                       authorization_code grant -> Bearer access token
  GET  /api/v1/accounts/verify_credentials
  GET  /api/v1/instance                   version (clients such as Mastodon.py ask)
  POST /api/v2/media                      multipart: file + description; 200 with url, or 202
                                          with url null while "processing"
  GET  /api/v1/media/:id                  206 (url null) while processing, then 200 with url
  POST /api/v1/statuses                   form (media_ids[]) or JSON; Bearer required (401);
                                          422 on unknown, unprocessed or already attached media
                                          and on more than 4; Idempotency-Key: a repeated key
                                          returns the status made the first time

Fault injection: `fail(method, path, status, times, error, headers)` answers the next `times`
matching requests with `status` (e.g. 429 with X-RateLimit-Reset, 500) before any processing.
`dump()` is everything the stub received, as JSON-able data.

In a test:   stub = MastodonStub(); stub.start(); ... stub.base_url ...; stub.stop()
Standalone:  /usr/bin/python3 mastodon_stub.py --port 8089   (GET /_stub/dump shows the state)
"""

import argparse
import datetime
import hashlib
import json
import re
import secrets
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCOUNT = {"id": "1", "username": "camrelay_test", "acct": "camrelay_test",
           "display_name": "camrelay test", "locked": False, "bot": False,
           "created_at": "2024-01-01T00:00:00.000Z", "note": "", "followers_count": 0,
           "following_count": 0, "statuses_count": 0, "emojis": [], "fields": []}


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_multipart(body, content_type):
    """[(name, filename or None, part content type, bytes)] of a multipart/form-data body."""
    m = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', content_type)
    if not m:
        raise ValueError("multipart without boundary")
    boundary = (m.group(1) or m.group(2)).encode()
    parts = []
    for chunk in body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("multipart part without header end")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        disp = headers.get("content-disposition", "")
        name = re.search(r'\bname="((?:[^"\\]|\\.)*)"', disp)
        filename = re.search(r'\bfilename="((?:[^"\\]|\\.)*)"', disp)
        parts.append((name.group(1) if name else "",
                      filename.group(1) if filename else None,
                      headers.get("content-type", "text/plain"), content))
    return parts


class MastodonStub:
    def __init__(self, port=0, processing_polls=0, host="127.0.0.1"):
        self.lock = threading.RLock()
        self.processing_polls = processing_polls   # 206 answers before a medium is ready
        self.apps = {}           # client_id -> app dict
        self.codes_issued = []   # (client_id, code) received at /oauth/token
        self.tokens = set()      # valid access tokens
        self.verify_calls = 0
        self.media = {}          # id -> dict
        self.statuses = []       # dicts, in creation order
        self.idempotency = {}    # (token, key) -> status id
        self.status_posts = []   # every POST /api/v1/statuses, answered how
        self.requests = []       # (method, path, status)
        self.faults = []         # dicts: method, path, status, times, error, headers
        self._next_id = 100
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                stub._handle(self, "GET")

            def do_POST(self):
                stub._handle(self, "POST")

            def do_PUT(self):
                stub._handle(self, "PUT")

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = "http://%s:%d" % (host, self.port)
        self.thread = None

    # ------------------------------------------------------------------ control

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.thread is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)
        self.thread = None

    def add_token(self, token=None):
        token = token or "stub-token-" + secrets.token_hex(8)
        with self.lock:
            self.tokens.add(token)
        return token

    def revoke_all(self):
        with self.lock:
            self.tokens.clear()

    def fail(self, method, path, status, times=1, error=None, headers=None, after=False):
        """The next `times` requests `method path` get `status` with {"error": error}. With
        after=True the request is carried out first and only its answer replaced (an answer
        lost on the way back)."""
        with self.lock:
            self.faults.append({"method": method, "path": path, "status": status, "times": times,
                                "error": error or "injected failure %d" % status,
                                "headers": dict(headers or {}), "after": after})

    def clear_faults(self):
        with self.lock:
            self.faults = []

    def dump(self):
        with self.lock:
            return json.loads(json.dumps({
                "apps": list(self.apps.values()), "codes": self.codes_issued,
                "verify_calls": self.verify_calls,
                "media": {k: {x: v[x] for x in v if x != "data"} for k, v in self.media.items()},
                "statuses": self.statuses, "status_posts": self.status_posts,
                "requests": self.requests}))

    def media_bytes(self, media_id):
        with self.lock:
            return self.media[media_id]["data"]

    # ------------------------------------------------------------------ HTTP

    def _new_id(self):
        self._next_id += 1
        return str(self._next_id)

    def _send(self, h, status, obj, headers=None):
        fault = getattr(h, "replace_answer", None)
        if fault:
            status, obj, headers = fault["status"], {"error": fault["error"]}, fault["headers"]
        data = json.dumps(obj).encode() if obj is not None else b""
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
        with self.lock:
            self.requests.append((h.command, urllib.parse.urlsplit(h.path).path, status))

    def _params(self, h, body):
        """Form, JSON or query parameters as {name: value or [values]} (name[] -> list)."""
        ctype = h.headers.get("Content-Type", "")
        out = {}
        if ctype.startswith("application/json"):
            return json.loads(body.decode("utf-8") or "{}")
        if ctype.startswith("multipart/form-data"):
            for name, filename, ptype, content in parse_multipart(body, ctype):
                if filename is not None:
                    out[name] = {"filename": filename, "content_type": ptype, "data": content}
                else:
                    out[name] = content.decode("utf-8")
            return out
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        pairs += urllib.parse.parse_qsl(urllib.parse.urlsplit(h.path).query, keep_blank_values=True)
        for k, v in pairs:
            if k.endswith("[]"):
                out.setdefault(k[:-2], []).append(v)
            else:
                out[k] = v
        return out

    def _token(self, h):
        auth = h.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        token = auth[len("Bearer "):]
        with self.lock:
            return token if token in self.tokens else None

    def _media_json(self, m):
        ready = m["polls_left"] <= 0
        url = "%s/system/media/%s/%s" % (self.base_url, m["id"], m["filename"] or "file")
        return {"id": m["id"], "type": "image" if m["content_type"].startswith("image/")
                else "video" if m["content_type"].startswith("video/") else "unknown",
                "url": url if ready else None, "preview_url": url if ready else None,
                "remote_url": None, "text_url": None, "meta": {}, "description": m["description"],
                "blurhash": None}

    def _handle(self, h, method):
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        # Rails routes take a trailing slash too (Mastodon.py asks for /api/v1/instance/).
        path = urllib.parse.urlsplit(h.path).path.rstrip("/") or "/"
        with self.lock:
            fault = next((f for f in self.faults if f["method"] == method and f["path"] == path
                          and f["times"] > 0), None)
            if fault:
                fault["times"] -= 1
                if path == "/api/v1/statuses" and not fault["after"]:
                    self.status_posts.append({"answer": fault["status"],
                                              "idempotency_key": h.headers.get("Idempotency-Key")})
        if fault and not fault["after"]:
            return self._send(h, fault["status"], {"error": fault["error"]}, fault["headers"])
        h.replace_answer = fault  # None, or carry the request out and answer this instead
        try:
            params = self._params(h, body)
        except (ValueError, UnicodeDecodeError) as e:
            return self._send(h, 400, {"error": "bad request: %s" % e})
        route = (method, path)
        if route == ("GET", "/_stub/dump"):
            return self._send(h, 200, self.dump())
        if route == ("GET", "/api/v1/instance"):
            return self._send(h, 200, {"uri": "127.0.0.1", "title": "camrelay stub",
                                       "version": "4.1.0", "urls": {}, "stats": {},
                                       "languages": ["en"], "contact_account": None, "rules": []})
        if route == ("POST", "/api/v1/apps"):
            return self._apps(h, params)
        if route == ("GET", "/oauth/authorize"):
            return self._send(h, 200, {"code": "stub-code-" + secrets.token_hex(4)})
        if route == ("POST", "/oauth/token"):
            return self._oauth_token(h, params)
        # Everything below needs a valid token.
        token = self._token(h)
        if token is None:
            return self._send(h, 401, {"error": "The access token is invalid"})
        if route == ("GET", "/api/v1/accounts/verify_credentials"):
            with self.lock:
                self.verify_calls += 1
            return self._send(h, 200, dict(ACCOUNT, source={"privacy": "public"}))
        if route == ("POST", "/api/v2/media"):
            return self._media_post(h, params)
        m = re.fullmatch(r"/api/v1/media/([^/]+)", path)
        if m and method == "GET":
            return self._media_get(h, m.group(1))
        if route == ("POST", "/api/v1/statuses"):
            return self._status_post(h, params, token)
        return self._send(h, 404, {"error": "Record not found"})

    def _apps(self, h, p):
        if not p.get("client_name") or not p.get("redirect_uris"):
            return self._send(h, 422, {"error": "Validation failed: Application name can't be "
                                                "blank, Redirect URI can't be blank"})
        app = {"id": self._new_id(), "name": p["client_name"], "website": p.get("website"),
               "redirect_uri": p["redirect_uris"], "scopes": p.get("scopes", "read"),
               "client_id": "cid-" + secrets.token_hex(8),
               "client_secret": "csecret-" + secrets.token_hex(8), "vapid_key": ""}
        with self.lock:
            self.apps[app["client_id"]] = app
        return self._send(h, 200, app)

    def _oauth_token(self, h, p):
        with self.lock:
            app = self.apps.get(p.get("client_id"))
        if not app or app["client_secret"] != p.get("client_secret"):
            return self._send(h, 401, {"error": "invalid_client",
                                       "error_description": "Client authentication failed due "
                                       "to unknown client, no client authentication included, "
                                       "or unsupported authentication method."})
        code = p.get("code", "")
        with self.lock:
            self.codes_issued.append((app["client_id"], code))
        if p.get("grant_type") != "authorization_code" or not code or code == "bad-code" or \
                p.get("redirect_uri") != app["redirect_uri"]:
            return self._send(h, 400, {"error": "invalid_grant",
                                       "error_description": "The provided authorization grant "
                                       "is invalid, expired, revoked, does not match the "
                                       "redirection URI used in the authorization request, or "
                                       "was issued to another client."})
        token = self.add_token()
        return self._send(h, 200, {"access_token": token, "token_type": "Bearer",
                                   "scope": p.get("scope", app["scopes"]),
                                   "created_at": 1714564800})

    def _media_post(self, h, p):
        f = p.get("file")
        if not isinstance(f, dict):
            return self._send(h, 422, {"error": "Validation failed: File can't be blank"})
        with self.lock:
            mid = self._new_id()
            m = {"id": mid, "filename": f["filename"], "content_type": f["content_type"],
                 "size": len(f["data"]), "sha256": hashlib.sha256(f["data"]).hexdigest(),
                 "data": f["data"], "description": p.get("description"),
                 "polls_left": self.processing_polls, "polls": 0, "attached_to": None}
            self.media[mid] = m
            answer = self._media_json(m)
        return self._send(h, 200 if answer["url"] else 202, answer)

    def _media_get(self, h, mid):
        with self.lock:
            m = self.media.get(mid)
            if m is None:
                answer = None
            else:
                m["polls"] += 1
                if m["polls_left"] > 0:
                    m["polls_left"] -= 1
                    # This answer still says "processing"; the next one may be ready.
                    answer = self._media_json(dict(m, polls_left=1))
                else:
                    answer = self._media_json(m)
        if answer is None:
            return self._send(h, 404, {"error": "Record not found"})
        return self._send(h, 200 if answer["url"] else 206, answer)

    def _status_post(self, h, p, token):
        key = h.headers.get("Idempotency-Key")
        media_ids = p.get("media_ids") or []
        if not isinstance(media_ids, list):
            media_ids = [media_ids]
        media_ids = [str(x) for x in media_ids]
        with self.lock:
            record = {"answer": None, "idempotency_key": key, "media_ids": media_ids}
            self.status_posts.append(record)
            if key and (token, key) in self.idempotency:
                sid = self.idempotency[(token, key)]
                status = next(s for s in self.statuses if s["id"] == sid)
                record["answer"] = 200
                record["repeated"] = True
                return self._send(h, 200, self._status_json(status))
            error = None
            if len(media_ids) > 4:
                error = "Validation failed: Media attachments can't be more than 4"
            elif any(m not in self.media for m in media_ids):
                error = "Media with IDs %s not found or already attached to another post" % \
                    ",".join(m for m in media_ids if m not in self.media)
            elif any(self.media[m]["attached_to"] for m in media_ids):
                error = "Media with IDs %s not found or already attached to another post" % \
                    ",".join(m for m in media_ids if self.media[m]["attached_to"])
            elif any(self.media[m]["polls_left"] > 0 for m in media_ids):
                error = "Cannot attach files that have not finished processing. Try again in " \
                        "a moment!"
            elif p.get("visibility", "public") not in ("public", "unlisted", "private", "direct"):
                error = "Validation failed: Visibility is not included in the list"
            elif not p.get("status") and not media_ids:
                error = "Validation failed: Text can't be blank"
            if error:
                record["answer"] = 422
                answer = None
            else:
                status = {"id": self._new_id(), "text": p.get("status", ""),
                          "media_ids": media_ids, "visibility": p.get("visibility", "public"),
                          "language": p.get("language"), "spoiler_text": p.get("spoiler_text", ""),
                          "sensitive": bool(p.get("sensitive")) or bool(p.get("spoiler_text")),
                          "idempotency_key": key, "created_at": now_iso()}
                for m in media_ids:
                    self.media[m]["attached_to"] = status["id"]
                self.statuses.append(status)
                if key:
                    self.idempotency[(token, key)] = status["id"]
                record["answer"] = 200
                answer = self._status_json(status)
        if error:
            return self._send(h, 422, {"error": error})
        return self._send(h, 200, answer)

    def _status_json(self, s):
        url = "%s/@%s/%s" % (self.base_url, ACCOUNT["username"], s["id"])
        return {"id": s["id"], "created_at": s["created_at"], "in_reply_to_id": None,
                "in_reply_to_account_id": None, "sensitive": s["sensitive"],
                "spoiler_text": s["spoiler_text"], "visibility": s["visibility"],
                "language": s["language"], "uri": url.replace("/@", "/users/", 1), "url": url,
                "replies_count": 0, "reblogs_count": 0, "favourites_count": 0,
                "content": "<p>%s</p>" % s["text"], "reblog": None, "account": ACCOUNT,
                "media_attachments": [self._media_json(self.media[m]) for m in s["media_ids"]],
                "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8089)
    ap.add_argument("--processing-polls", type=int, default=0)
    ap.add_argument("--token", help="an access token to accept from the start")
    args = ap.parse_args()
    stub = MastodonStub(args.port, args.processing_polls)
    if args.token:
        stub.add_token(args.token)
    print("mastodon stub on", stub.base_url, flush=True)
    try:
        stub.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
