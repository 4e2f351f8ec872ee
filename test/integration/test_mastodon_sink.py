"""The mastodon sink and `camrelay login mastodon`, through the real camrelay binary, against the
Mastodon API stub (mastodon_stub.py, checked against Mastodon.py in test_mastodon_stub.py) on
127.0.0.1. The camera is a Directory Browse card of real JPEGs."""

import datetime
import json
import os
import stat

import camrelay_testlib as t
from mastodon_stub import MastodonStub


class MastodonCase(t.CamrelayTestCase):

    def setUp(self):
        super().setUp()
        self.stub = MastodonStub().start()
        self.addCleanup(self.stub.stop)
        self.token = self.stub.add_token()
        self.secret = os.path.join(self.tmp, "mastodon.json")
        self.write_secret(self.token)

    def write_secret(self, token, mode=0o600, base_url=None):
        fd = os.open(self.secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"base_url": base_url or self.stub.base_url, "client_id": "cid",
                       "client_secret": "csecret", "access_token": token}, f)
        os.chmod(self.secret, mode)

    def config(self, options="", retry_min=10):
        return self.write_config(f"""\
[camrelay]
data_dir = "{self.data}"

[[source]]
type = "usb"
port = "disk:{self.card}"

[sink.toot]
type = "mastodon"
secret_file = "{self.secret}"
retry_min = {retry_min}
{options}

[[route]]
to = ["toot"]
""")

    def import_(self, cfg):
        return t.run(["import", "-q", "-c", cfg])

    def summary(self, p):
        s = t.parse_summary(p.stdout)
        return s["new"], s["delivered"], s["failed"]

    def jobs(self):
        return t.query(self.data, "SELECT a.name, j.state, j.attempts, j.last_error, j.receipt, "
                                  "j.next_attempt_at, j.updated_at FROM jobs j "
                                  "JOIN assets a ON a.id = j.asset_id ORDER BY a.name")

    def statuses(self):
        return self.stub.dump()["statuses"]

    def queue_while_down(self, cfg, count):
        """Imports `count` new photos while the instance fails every upload (503), so they wait
        as failed-transient and are due together on the next run: photos due together share a
        post (photos that arrive one by one at an idle sink go out one by one)."""
        self.stub.fail("POST", "/api/v2/media", 503, times=1000, error="Service Unavailable")
        p = self.import_(cfg)
        self.assertExit(p, 1)
        self.assertEqual(self.summary(p), (count, 0, count))
        self.assertEqual(t.job_states(self.data), {"failed-transient": count})
        self.stub.clear_faults()


class MastodonSink(MastodonCase):

    def test_photos_arrive_byte_identical_with_alt_texts_four_per_post(self):
        photos = self.photos(6)
        cfg = self.config('''
visibility = "private"
language = "de"
spoiler_text = "Urlaubsfotos"
status = "{camera}: {name} ({date:%Y-%m-%d})"
alt_text = "{name} taken with {model} at {date:%Y-%m-%d %H:%M:%S}"
postscript = "#camrelay #photo"
''')
        self.queue_while_down(cfg, 6)
        p = self.import_(cfg)
        self.assertExit(p, 0)
        self.assertEqual(self.summary(p), (0, 6, 0))
        d = self.stub.dump()

        # Every photo reached the instance once, byte-identical, with its own alt text.
        self.assertEqual(len(d["media"]), 6)
        by_name = {m["filename"]: (mid, m) for mid, m in d["media"].items()}
        self.assertEqual(sorted(by_name), ["IMG_%04d.JPG" % i for i in range(1, 7)])
        for path, sha, date in photos:
            name = os.path.basename(path)
            mid, m = by_name[name]
            with open(path, "rb") as f:
                self.assertEqual(self.stub.media_bytes(mid), f.read(), name)
            self.assertEqual(m["sha256"], sha)
            self.assertEqual(m["content_type"], "image/jpeg")
            self.assertEqual(m["description"], "%s taken with Directory Browse at %s"
                             % (name, date.strftime("%Y-%m-%d %H:%M:%S")))
            self.assertIsNotNone(m["attached_to"], name + " is in no status")

        # Two statuses: the first four photos (oldest first), then the other two.
        st = d["statuses"]
        self.assertEqual(len(st), 2, st)
        names = [[d["media"][i]["filename"] for i in s["media_ids"]] for s in st]
        self.assertEqual(names, [["IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG", "IMG_0004.JPG"],
                                 ["IMG_0005.JPG", "IMG_0006.JPG"]])
        for s in st:
            self.assertEqual(s["visibility"], "private")
            self.assertEqual(s["language"], "de")
            self.assertEqual(s["spoiler_text"], "Urlaubsfotos")
            self.assertTrue(s["idempotency_key"])
        dir_name = os.path.basename(self.card)
        self.assertEqual(st[0]["text"], "%s: IMG_0001.JPG (2024-05-01)\n#camrelay #photo"
                         % dir_name)
        self.assertEqual(st[1]["text"], "%s: IMG_0005.JPG (2024-05-01)\n#camrelay #photo"
                         % dir_name)
        self.assertNotEqual(st[0]["idempotency_key"], st[1]["idempotency_key"])

        # The receipt of each photo is its status URL.
        url = {self.stub.media[m]["filename"]: "%s/@camrelay_test/%s" % (self.stub.base_url,
                                                                          s["id"])
               for s in st for m in s["media_ids"]}
        for name, state, _att, _err, receipt, _n, _u in self.jobs():
            self.assertEqual((state, receipt), ("delivered", url[name]))

        # Nothing is posted again by the next import.
        p = self.import_(cfg)
        self.assertExit(p, 0)
        self.assertEqual(self.summary(p), (0, 0, 0))
        self.assertEqual(len(self.statuses()), 2)

    def test_defaults_and_media_per_post(self):
        self.photos(3)
        cfg = self.config("media_per_post = 2")
        self.queue_while_down(cfg, 3)
        p = self.import_(cfg)
        self.assertExit(p, 0)
        d = self.stub.dump()
        st = d["statuses"]
        self.assertEqual([len(s["media_ids"]) for s in st], [2, 1])
        for s in st:
            self.assertEqual(s["visibility"], "unlisted")
            self.assertIsNone(s["language"])
            self.assertEqual(s["spoiler_text"], "")
        self.assertEqual([s["text"] for s in st], ["IMG_0001.JPG", "IMG_0003.JPG"])
        # {model} is what the camera reports: Directory Browse for a disk: card.
        self.assertEqual({m["description"] for m in d["media"].values()},
                         {"Photo taken with Directory Browse on 2024-05-01"})

    def test_media_still_processing_is_waited_for(self):
        self.stub.processing_polls = 3
        photos = self.photos(2)
        p = self.import_(self.config())
        self.assertExit(p, 0)
        d = self.stub.dump()
        # The stub refuses (422) a status with unprocessed media: each was only posted after its
        # photo was processed.
        self.assertEqual(len(d["statuses"]), 2)
        self.assertEqual([x["answer"] for x in d["status_posts"]], [200, 200])
        for m in d["media"].values():
            self.assertGreaterEqual(m["polls"], 4, "202, then three 206, then 200")
        posts = [r for r in d["requests"] if r[0] == "POST" and r[1] == "/api/v2/media"]
        self.assertEqual([r[2] for r in posts], [202, 202])
        self.assertEqual(sorted(m["sha256"] for m in d["media"].values()),
                         sorted(sha for _p, sha, _d in photos))

    def test_rate_limit_is_transient_with_reset_time_then_posted_once(self):
        self.photos(3)
        cfg = self.config()
        reset = (datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
                 + datetime.timedelta(seconds=600))
        reset_text = reset.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        self.stub.fail("POST", "/api/v1/statuses", 429, times=100, error="Too many requests",
                       headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                                "X-RateLimit-Reset": reset_text})
        p = self.import_(cfg)
        self.assertExit(p, 1)
        self.assertEqual(self.summary(p), (3, 0, 3))
        self.assertEqual(self.statuses(), [])
        for _name, state, attempts, err, _r, next_at, _u in self.jobs():
            self.assertEqual((state, attempts), ("failed-transient", 1))
            self.assertIn("HTTP 429", err)
            self.assertIn("Too many requests", err)
            self.assertIn("the limit resets at " + reset.strftime("%Y-%m-%dT%H:%M:%SZ"), err)
            # retry_min is 10 s, but the scheduler waits for the instance's reset time.
            self.assertEqual(next_at, int(reset.timestamp()))

        # The next import runs them again (a one-shot run retries whatever the retry time), all
        # three due together: one post.
        self.stub.clear_faults()
        p = self.import_(cfg)
        self.assertExit(p, 0)
        self.assertEqual(self.summary(p), (0, 3, 0))
        self.assertEqual(len(self.statuses()), 1)
        self.assertEqual(len(self.statuses()[0]["media_ids"]), 3)

    def test_lost_answer_is_retried_without_a_second_status(self):
        # The instance makes the status, but the answer is lost (a 502 from a proxy): the retry
        # sends the same Idempotency-Key and gets the same status back.
        self.photos(2)
        cfg = self.config()
        self.queue_while_down(cfg, 2)
        self.stub.fail("POST", "/api/v1/statuses", 502, error="Bad Gateway", after=True)
        p = self.import_(cfg)
        self.assertExit(p, 1)
        self.assertEqual(self.summary(p), (0, 0, 2))
        self.assertEqual(len(self.statuses()), 1, "the stub made the status")
        for _name, state, _a, err, _r, _n, _u in self.jobs():
            self.assertEqual(state, "failed-transient")
            self.assertIn("HTTP 502", err)

        p = self.import_(cfg)
        self.assertExit(p, 0)
        self.assertEqual(self.summary(p), (0, 2, 0))
        d = self.stub.dump()
        self.assertEqual(len(d["statuses"]), 1, "a retry must not post twice")
        posts = d["status_posts"]
        self.assertEqual(len(posts), 2)
        self.assertEqual(posts[0]["idempotency_key"], posts[1]["idempotency_key"])
        self.assertTrue(posts[1].get("repeated"))
        url = "%s/@camrelay_test/%s" % (self.stub.base_url, d["statuses"][0]["id"])
        self.assertEqual({r for (r,) in t.query(self.data, "SELECT receipt FROM jobs")}, {url})

    def test_server_error_is_transient(self):
        self.photos(1)
        cfg = self.config()
        self.stub.fail("POST", "/api/v2/media", 500, error="Internal Server Error")
        p = self.import_(cfg)
        self.assertExit(p, 1)
        rows = self.jobs()
        self.assertEqual(rows[0][1], "failed-transient")
        self.assertIn("HTTP 500", rows[0][3])
        p = self.import_(cfg)
        self.assertExit(p, 0)
        self.assertEqual(len(self.statuses()), 1)

    def test_refused_token_is_a_permanent_auth_failure(self):
        self.photos(2)
        cfg = self.config()
        self.stub.revoke_all()
        p = self.import_(cfg)
        self.assertExit(p, 1)
        self.assertEqual(self.summary(p), (2, 0, 2))
        for _name, state, _a, err, _r, _n, _u in self.jobs():
            self.assertEqual(state, "failed-permanent")
            self.assertIn("HTTP 401", err)
            self.assertIn("The access token is invalid", err)
            self.assertIn("camrelay login mastodon %s" % self.stub.base_url, err)
        self.assertNotIn(self.token, p.stderr, "the token must never be printed")
        self.assertEqual(self.statuses(), [])
        # Not retried by itself...
        p = self.import_(cfg)
        self.assertEqual(self.summary(p), (0, 0, 0))
        # ...but after a new login and `camrelay retry`.
        self.write_secret(self.stub.add_token())
        self.assertExit(t.run(["retry", "-c", cfg]), 0)
        p = self.import_(cfg)
        self.assertExit(p, 0)
        self.assertEqual(self.summary(p), (0, 2, 0))
        self.assertEqual(len(self.statuses()), 1)

    def test_validation_error_is_permanent_with_the_servers_text(self):
        self.photos(2)
        cfg = self.config()
        text = "Validation failed: Text character limit of 500 exceeded"
        self.stub.fail("POST", "/api/v1/statuses", 422, error=text, times=10)
        p = self.import_(cfg)
        self.assertExit(p, 1)
        for _name, state, attempts, err, _r, _n, _u in self.jobs():
            self.assertEqual((state, attempts), ("failed-permanent", 1))
            self.assertIn("HTTP 422", err)
            self.assertIn(text, err)
        self.assertIn(text, p.stderr)
        p = self.import_(cfg)
        self.assertEqual(self.summary(p), (0, 0, 0))
        self.assertEqual(self.statuses(), [])

    def test_unreachable_instance_is_transient(self):
        self.photos(1)
        self.stub.stop()
        p = self.import_(self.config())
        self.assertExit(p, 1)
        rows = self.jobs()
        self.assertEqual(rows[0][1], "failed-transient")
        self.assertIn("/api/v2/media", rows[0][3])

    def test_stop_while_waiting_for_processing_puts_the_job_back(self):
        self.stub.processing_polls = 10 ** 6  # never ready
        self.photos(1)
        with open(self.config()) as f:
            text = f.read()
        cfg = self.write_config(text.replace('data_dir = "%s"' % self.data,
                                             'data_dir = "%s"\nshutdown_grace = 0' % self.data))
        d = self.daemon(["-c", cfg])
        t.wait_for(lambda: any(m["polls"] >= 2 for m in self.stub.dump()["media"].values()),
                   30, what="the sink to poll the processing upload")
        rc, took = d.stop()
        self.assertEqual(rc, 0, d.output())
        self.assertLess(took, 5, "the poll loop must stop within about a second\n" + d.output())
        self.assertEqual(t.job_states(self.data), {"pending": 1}, d.output())
        self.assertEqual(self.statuses(), [])

    def test_settings_problems_are_reported_with_their_lines(self):
        os.chmod(self.secret, 0o644)
        cfg = self.config('''
visibility = "friends"
language = "German"
media_per_post = 5
status = "{nope}"
''')
        p = t.run(["config", "check", cfg])
        self.assertExit(p, 2)
        for needle in ["secret_file: secret file %s is readable or writable by group or "
                       "others (mode 0644)" % self.secret, "chmod 600 " + self.secret,
                       "visibility: must be public, unlisted, private or direct",
                       "language: must be an ISO 639 code", "media_per_post: must be 1 to 4",
                       "status: unknown placeholder {nope}"]:
            self.assertIn(needle, p.stderr)
        self.assertRegex(p.stderr, r":13: \[sink\.toot\]: visibility")
        # A readable-by-others secret file stops the run before anything is fetched.
        os.chmod(self.secret, 0o600)
        self.write_secret(self.token, base_url="http://example.com")
        p = t.run(["config", "check", self.config()])
        self.assertExit(p, 2)
        self.assertIn("must use https://", p.stderr)


class MastodonLogin(MastodonCase):

    def login(self, *args, input=None):
        import subprocess
        return subprocess.run([t.BIN, "login", "mastodon"] + list(args), input=input,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=60, env=t.env_for())

    def test_login_with_code_writes_a_private_secret_file_that_the_sink_uses(self):
        secret = os.path.join(self.tmp, "conf", "new.json")
        p = self.login(self.stub.base_url + "/", "--code", "stub-code-1", "--secret-file", secret)
        self.assertExit(p, 0)
        self.assertEqual(stat.S_IMODE(os.stat(secret).st_mode), 0o600)
        self.assertFalse(os.path.exists(secret + ".tmp"))
        with open(secret) as f:
            saved = json.load(f)
        d = self.stub.dump()
        self.assertEqual(len(d["apps"]), 1)
        app = d["apps"][0]
        self.assertEqual(app["name"], "camrelay")
        self.assertEqual(app["redirect_uri"], "urn:ietf:wg:oauth:2.0:oob")
        self.assertIn("write:statuses", app["scopes"].split())
        self.assertIn("write:media", app["scopes"].split())
        self.assertEqual(saved["base_url"], self.stub.base_url)
        self.assertEqual((saved["client_id"], saved["client_secret"]),
                         (app["client_id"], app["client_secret"]))
        self.assertIn(saved["access_token"], self.stub.tokens)
        self.assertEqual(d["codes"], [[app["client_id"], "stub-code-1"]])
        self.assertEqual(d["verify_calls"], 1)
        self.assertIn("as @camrelay_test@127.0.0.1", p.stdout)
        self.assertNotIn(saved["access_token"], p.stdout + p.stderr)

        # The sink posts with what login wrote.
        self.secret = secret
        self.photos(1)
        p = self.import_(self.config())
        self.assertExit(p, 0)
        self.assertEqual(len(self.statuses()), 1)

    def test_login_reads_the_code_from_stdin_after_showing_the_authorize_url(self):
        secret = os.path.join(self.tmp, "s.json")
        p = self.login(self.stub.base_url, "--secret-file", secret, input="  the-code \n")
        self.assertExit(p, 0)
        app = self.stub.dump()["apps"][0]
        self.assertIn("%s/oauth/authorize?response_type=code&client_id=%s"
                      "&redirect_uri=urn%%3Aietf%%3Awg%%3Aoauth%%3A2.0%%3Aoob&scope=write%%3Astatuses"
                      "%%20write%%3Amedia" % (self.stub.base_url, app["client_id"]), p.stdout)
        self.assertEqual(self.stub.dump()["codes"], [[app["client_id"], "the-code"]])

    def test_refused_code_fails_clearly_and_a_later_code_reuses_the_client(self):
        secret = os.path.join(self.tmp, "s.json")
        p = self.login(self.stub.base_url, "--secret-file", secret, "--code", "bad-code")
        self.assertExit(p, 1)
        self.assertIn("HTTP 400: invalid_grant", p.stderr)
        self.assertIn("get a new one", p.stderr)
        self.assertEqual(stat.S_IMODE(os.stat(secret).st_mode), 0o600)
        with open(secret) as f:
            self.assertEqual(json.load(f)["access_token"], "")
        self.assertEqual(self.stub.dump()["verify_calls"], 0)
        p = self.login(self.stub.base_url, "--secret-file", secret, "--code", "good-code")
        self.assertExit(p, 0)
        d = self.stub.dump()
        self.assertEqual(len(d["apps"]), 1, "the client registered first is reused")
        self.assertEqual(d["verify_calls"], 1)
        # No code on stdin: a clear message, no hang.
        p = self.login(self.stub.base_url, "--secret-file", secret, input="")
        self.assertExit(p, 1)
        self.assertIn("no code given", p.stderr)

    def test_login_refuses_plain_http_except_to_loopback_and_unreachable_instances(self):
        p = self.login("http://mastodon.example", "--code", "x", "--secret-file",
                       os.path.join(self.tmp, "x.json"))
        self.assertExit(p, 1)
        self.assertIn("must use https://", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x.json")))
        p = self.login("ftp://mastodon.example", "--code", "x")
        self.assertExit(p, 1)
        self.assertIn("https://", p.stderr)
        port = self.stub.port
        self.stub.stop()
        p = self.login("http://127.0.0.1:%d" % port, "--code", "x", "--secret-file",
                       os.path.join(self.tmp, "y.json"))
        self.assertExit(p, 1)
        self.assertIn("registering the app at http://127.0.0.1:%d/api/v1/apps" % port, p.stderr)


if __name__ == "__main__":
    import unittest
    unittest.main()
