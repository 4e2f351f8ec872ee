"""The Mastodon API stub (mastodon_stub.py) is checked against a real client, Debian's
python3-mastodon (Mastodon.py 1.8): app registration, OAuth code login, verify_credentials,
media upload with processing, statuses with media and an Idempotency-Key, and the 401 / 422 /
429 answers, each as Mastodon.py understands them. What the stub records is what the client
sent: the stub the camrelay tests rely on speaks the API a real client speaks."""

import datetime
import hashlib
import os
import shutil
import tempfile
import time
import unittest

from mastodon_stub import MastodonStub

try:
    import mastodon
    from mastodon import Mastodon
except ImportError:  # pragma: no cover - python3-mastodon is in scripts/deps.sh test_packages
    mastodon = None

SCOPES = ["write:statuses", "write:media", "read:accounts"]


@unittest.skipIf(mastodon is None, "python3-mastodon (Mastodon.py) is not installed")
class StubAgainstMastodonPy(unittest.TestCase):

    def setUp(self):
        self.stub = MastodonStub(processing_polls=2).start()
        self.addCleanup(self.stub.stop)
        self.tmp = tempfile.mkdtemp(prefix="camrelay-stub-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def client(self, token=None):
        return Mastodon(access_token=token or self.stub.add_token(),
                        api_base_url=self.stub.base_url, ratelimit_method="throw",
                        request_timeout=30)

    def photo(self, name, size=50000):
        path = os.path.join(self.tmp, name)
        data = os.urandom(size)
        with open(path, "wb") as f:
            f.write(data)
        return path, hashlib.sha256(data).hexdigest()

    def test_app_registration_and_code_login(self):
        cid, csecret = Mastodon.create_app("camrelay", scopes=SCOPES,
                                           redirect_uris="urn:ietf:wg:oauth:2.0:oob",
                                           api_base_url=self.stub.base_url)
        api = Mastodon(client_id=cid, client_secret=csecret, api_base_url=self.stub.base_url)
        url = api.auth_request_url(scopes=SCOPES)
        self.assertTrue(url.startswith(self.stub.base_url + "/oauth/authorize?"), url)
        token = api.log_in(code="code-from-the-browser", scopes=SCOPES)
        me = api.account_verify_credentials()
        self.assertEqual(me.acct, "camrelay_test")
        d = self.stub.dump()
        self.assertEqual(len(d["apps"]), 1)
        self.assertEqual(d["apps"][0]["client_id"], cid)
        self.assertEqual(d["apps"][0]["scopes"], " ".join(SCOPES))
        self.assertEqual(d["codes"], [[cid, "code-from-the-browser"]])
        self.assertIn(token, self.stub.tokens)
        self.assertEqual(d["verify_calls"], 1)
        with self.assertRaises(mastodon.MastodonIllegalArgumentError):
            api.log_in(code="bad-code", scopes=SCOPES)

    def test_media_processing_status_and_idempotency_key(self):
        api = self.client()
        path, sha = self.photo("IMG_0001.JPG")
        with open(path, "rb") as f:
            m = api.media_post(f, mime_type="image/jpeg", description="Photo taken with X-T4",
                               file_name="IMG_0001.JPG")
        self.assertIsNone(m.url, "202: still processing")
        # Attaching it now is refused, as Mastodon does.
        with self.assertRaises(mastodon.MastodonAPIError) as cm:
            api.status_post("too early", media_ids=[m])
        self.assertIn("not finished processing", str(cm.exception))
        polls = 0
        while api.media(m).url is None:
            polls += 1
            self.assertLess(polls, 10)
            time.sleep(0.05)
        self.assertEqual(polls, 2)

        s = api.status_post("hello", media_ids=[m], visibility="unlisted", language="en",
                            spoiler_text="cw", idempotency_key="key-1")
        again = api.status_post("hello", media_ids=[m], visibility="unlisted", language="en",
                                spoiler_text="cw", idempotency_key="key-1")
        self.assertEqual(again.id, s.id)
        self.assertEqual(s.url, "%s/@camrelay_test/%s" % (self.stub.base_url, s.id))
        self.assertEqual([a.id for a in s.media_attachments], [m.id])

        d = self.stub.dump()
        self.assertEqual(len(d["statuses"]), 1)
        st = d["statuses"][0]
        self.assertEqual((st["text"], st["media_ids"], st["visibility"], st["language"],
                          st["spoiler_text"], st["idempotency_key"]),
                         ("hello", [str(m.id)], "unlisted", "en", "cw", "key-1"))
        medium = d["media"][str(m.id)]
        self.assertEqual((medium["sha256"], medium["description"], medium["content_type"],
                          medium["filename"]),
                         (sha, "Photo taken with X-T4", "image/jpeg", "IMG_0001.JPG"))
        with open(path, "rb") as f:
            self.assertEqual(self.stub.media_bytes(str(m.id)), f.read())
        self.assertEqual([p["answer"] for p in d["status_posts"]], [422, 200, 200])
        self.assertTrue(d["status_posts"][2].get("repeated"))
        # Mastodon.py sends media_ids[] as a form; camrelay sends JSON: the stub takes both.

    def test_synchronous_media_post(self):
        self.stub.processing_polls = 0
        api = self.client()
        path, sha = self.photo("a.jpg", 1000)
        with open(path, "rb") as f:
            m = api.media_post(f, mime_type="image/jpeg", synchronous=True)
        self.assertIsNotNone(m.url)
        self.assertEqual(self.stub.dump()["media"][str(m.id)]["sha256"], sha)

    def test_errors_as_mastodon_py_sees_them(self):
        api = self.client()
        # More than four media: 422.
        ids = []
        self.stub.processing_polls = 0
        for i in range(5):
            with open(self.photo("p%d.jpg" % i, 100)[0], "rb") as f:
                ids.append(api.media_post(f, mime_type="image/jpeg"))
        with self.assertRaises(mastodon.MastodonAPIError) as cm:
            api.status_post("five", media_ids=ids)
        self.assertIn("422", str(cm.exception))
        # A refused token: 401.
        with self.assertRaises(mastodon.MastodonUnauthorizedError):
            self.client(token="not-a-token").status_post("x")
        # Rate limited: 429 with X-RateLimit-Reset, which Mastodon.py parses.
        reset = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + \
            datetime.timedelta(seconds=300)
        self.stub.fail("POST", "/api/v1/statuses", 429, error="Too many requests",
                       headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                                "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.000Z")})
        with self.assertRaises(mastodon.MastodonRatelimitError):
            api.status_post("limited")
        self.assertEqual(int(api.ratelimit_reset), int(reset.timestamp()))
        self.assertEqual(api.ratelimit_remaining, 0)
        # Then it works, and nothing was posted twice.
        api.status_post("after the limit", idempotency_key="k2")
        self.assertEqual([s["text"] for s in self.stub.dump()["statuses"]], ["after the limit"])


if __name__ == "__main__":
    unittest.main()
