"""End to end through `camrelay run`: what Samsung cameras push becomes deliveries. Three photos
in one e-mail -> aiosmtpd receives ONE message with the three byte-identical attachments; the
same e-mail to a `store` and a normal recipient gives both the complete files; a social upload
batch -> the Mastodon stub gets the media with their alt texts and one status; `store` ->
files under DEST/<HMAC folder>/; `drop` and a refused sender keep nothing."""

import hashlib
import os
import unittest

import camrelay_testlib as t
import samsung_testlib as s
from test_smtp_sink import attachments


def photo(seed, size=150000):
    """Distinct JPEG-looking bytes (the sinks do not decode them)."""
    h = hashlib.sha256(seed.encode()).digest()
    body = (h * (size // len(h) + 1))[:size]
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + body + b"\xff\xd9"


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Actions(s.SamsungCase):

    def settled(self, jobs):
        """Waits until `jobs` jobs exist and every one is final (delivered or given up)."""
        def done():
            st = t.job_states(self.data)
            busy = st.get("pending", 0) + st.get("running", 0) + st.get("failed-transient", 0)
            return sum(st.values()) >= jobs and not busy and st
        return t.wait_for(done, 30, what="%d deliveries to settle" % jobs)

    def ok(self, response):
        self.assertTrue(response.startswith(b"HTTP/1.0 200 OK\r\n"),
                        "%r\n--- log\n%s" % (response[:300], self.log_text()[-3000:]))

    def test_three_photos_make_one_mail(self):
        files = [("SAM_%04d.JPG" % i, photo("mail%d" % i)) for i in range(1, 4)]
        self.ok(self.send(s.email_request("My Cam <Camera@samsungcamera.com>",
                                          ["friend@example.com"], "Greetings", files)))
        self.settled(3)
        msgs = self.smtp.messages()
        self.assertEqual(len(msgs), 1, [attachments(m) for m, _ in msgs])
        msg, _meta = msgs[0]
        self.assertEqual(msg["Subject"], "[Samsung Smart Camera] sent you files.")
        self.assertIn("friend@example.com", msg["To"])
        self.assertEqual([(n, sha_) for n, _ct, sha_ in attachments(msg)],
                         [(n, sha(d)) for n, d in files])
        self.assertIn("Greetings", msg.get_body(("plain",)).get_content())

    def test_store_and_mail_both_get_complete_files(self):
        files = [("SAM_0001.JPG", photo("mixed1")), ("SAM_0002.JPG", photo("mixed2"))]
        self.ok(self.send(s.email_request("Camera@samsungcamera.com",
                                          ["store@mydomain.com", "friend@example.com",
                                           "drop@mydomain.com"], "Both", files)))
        folder = os.path.join(self.dest, "yZXbyiz-pZX2DqmBjoRl")  # HMAC of the sender address
        t.wait_for(lambda: len(t.files_under(self.dest)) == 2, 30, what="stored files")
        self.assertEqual(sorted(os.listdir(folder)), ["SAM_0001.JPG", "SAM_0002.JPG"])
        for name, data in files:
            self.assertEqual(t.sha256_file(os.path.join(folder, name)), sha(data))
        self.settled(4)
        msgs = self.smtp.messages()
        self.assertEqual(len(msgs), 1, [attachments(m) for m, _ in msgs])
        self.assertEqual([sha_ for _n, _ct, sha_ in attachments(msgs[0][0])],
                         [sha(d) for _n, d in files])

    def test_email_to_mastodon(self):
        raw = s.read_vector("14_email_to_mastodon", "request")
        self.ok(self.send(raw))
        self.settled(2)
        d = self.stub.dump()
        self.assertEqual(len(d["statuses"]), 1)
        status = d["statuses"][0]
        # test_vectors.json mastodon_status_text, e-mail variant
        self.assertEqual(status.get("text") or status.get("status"),
                         "Holiday shot!\n\n #photography #SamsungNX")
        alts = sorted(m.get("description") for m in d["media"].values())
        self.assertEqual(alts, ["fancy flower bed", "traffic sign"])

    def test_social_batch_makes_one_post(self):
        sid = s.session_key(self.send(s.login_request("facebook")))
        self.assertIsNotNone(sid)
        content = "Holiday shot!~fancy flower bed~traffic sign"
        shots = [("SAM_0001.JPG", photo("fb1")), ("SAM_0002.JPG", photo("fb2"))]
        for name, data in shots:
            self.ok(self.send(s.photo_request(sid, "facebook", name, content)))
            self.ok(self.send(s.http_request("PUT", "/upload/%s/%s" % (sid.decode(), name), data,
                                             headers={"Content-Type": "image/pjpeg"})))
        self.settled(2)
        d = self.stub.dump()
        self.assertEqual(len(d["statuses"]), 1)
        status = d["statuses"][0]
        text = status.get("text") or status.get("status") or str(status)
        # test_vectors.json mastodon_status_text, social-upload variant
        self.assertEqual(text, "Holiday shot!\n\n\U0001F4F7\uFE0F NX300\n\n #photography #SamsungNX")
        self.assertEqual(len(d["media"]), 2)
        by_alt = {m["description"]: k for k, m in d["media"].items()}
        self.assertEqual(sorted(by_alt), ["fancy flower bed", "traffic sign"])
        self.assertEqual(sha(self.stub.media_bytes(by_alt["fancy flower bed"])), sha(shots[0][1]))
        self.assertEqual(sha(self.stub.media_bytes(by_alt["traffic sign"])), sha(shots[1][1]))
        self.assertTrue(all(m.get("mime", "image/jpeg") == "image/jpeg"
                            for m in d["media"].values()))

    def test_social_store_goes_to_the_user_folder(self):
        sid = s.session_key(self.send(s.login_request("picasa")))
        data = photo("picasa")
        self.ok(self.send(s.photo_request(sid, "picasa", "SAM_0003.JPG", "x")))
        self.ok(self.send(s.http_request("PUT", "/upload/%s/SAM_0003.JPG" % sid.decode(), data,
                                         headers={"Content-Type": "image/jpeg"})))
        path = os.path.join(self.dest, "ypH9rgUTwVTBcEwItMuV", "SAM_0003.JPG")  # HMAC of "f"
        t.wait_for(lambda: os.path.exists(path), 30, what=path)
        self.assertEqual(t.sha256_file(path), sha(data))

    def test_refused_sender_and_drop_keep_nothing(self):
        got = self.send(s.email_request("Evil <evil@example.com>", ["friend@example.com"], "x",
                                        [("A.JPG", photo("evil"))]))
        self.assertTrue(got.startswith(b"HTTP/1.0 401 UNAUTHORIZED"), got[:200])
        self.ok(self.send(s.email_request("Camera@samsungcamera.com", ["drop@mydomain.com"], "x",
                                          [("B.JPG", photo("drop"))])))
        self.assertEqual(t.files_under(self.dest) if os.path.exists(self.dest) else [], [])
        self.assertEqual(self.smtp.messages(), [])
        spool = os.path.join(self.data, "spool")
        self.assertEqual([p for p in t.files_under(spool)] if os.path.exists(spool) else [], [])


if __name__ == "__main__":
    unittest.main()
