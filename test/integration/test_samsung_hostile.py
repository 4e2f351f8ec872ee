"""The Samsung listener against attackers on the camera's network, and cameras that lie, over real
sockets (`camrelay run`, loopback). Addresses 127.0.0.x / 127.0.y.x are distinct clients on Linux
loopback without set-up: the client socket is bound to one before connecting.

Attackers (issue 16, item 8): drip-feeding connections that send a valid head and then a byte now
and then, and crowds of idle connections, must never refuse a real camera: the per-address cap
closes the surplus of one address at once, and at the global cap a newcomer takes the slot of the
worst connection. A body below min_body_rate is cut after its window.

Lying cameras (item 2, no silent skip): a body shorter than its Content-Length, a post announced
with three photos of which two come, a file announced and never sent: the camera is not told
"succ" for what did not arrive, and each lost file is an `unreadable` camera event."""

import hashlib
import os
import resource
import socket
import threading
import time
import unittest

import camrelay_testlib as t
import samsung_testlib as s

CAM = "127.0.0.2"          # the real camera's address
SENDER_FOLDER = "yZXbyiz-pZX2DqmBjoRl"  # HMAC folder of Camera@samsungcamera.com
UPLOAD_DEADLINE = 5.0      # "promptly": seconds the camera's upload may take under attack


def photo(seed, size=120000):
    h = hashlib.sha256(seed.encode()).digest()
    return b"\xff\xd8\xff\xe0" + (h * (size // len(h) + 1))[:size] + b"\xff\xd9"


def connect_from(addr, port, timeout=10):
    c = socket.socket()
    c.settimeout(timeout)
    c.bind((addr, 0))
    c.connect(("127.0.0.1", port))
    return c


def read_all(c, limit):
    """Everything until the server closes; b"" when it closed (or reset) without an answer."""
    c.settimeout(limit)
    out = b""
    try:
        while True:
            chunk = c.recv(65536)
            if not chunk:
                return out
            out += chunk
    except ConnectionResetError:
        return out


def closed_by_server(c, limit):
    c.settimeout(limit)
    try:
        return c.recv(100) == b""
    except socket.timeout:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True


def drip_head():
    """A valid e-mail head announcing a large body: the drip-feeder's opening."""
    return (b"POST /social/columbus/email?DUID=66 HTTP/1.0\r\nHost: www.ospserver.net\r\n"
            b"Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 50000000\r\n\r\n")


class Dripper:
    """Connections that sent a head and then send one body byte every `interval` seconds."""

    def __init__(self, port, addrs, interval=1.0):
        self.socks = []
        self.refused = 0
        for a in addrs:
            c = connect_from(a, port)
            try:
                c.sendall(drip_head())
                self.socks.append(c)
            except OSError:
                self.refused += 1
                c.close()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, args=(interval,), daemon=True)
        self.thread.start()

    def run(self, interval):
        while not self.stop.wait(interval):
            for c in self.socks:
                try:
                    c.send(b"-")
                except OSError:
                    pass

    def alive(self):
        return sum(1 for c in self.socks if not closed_by_server(c, 0.05))

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for c in self.socks:
            c.close()


class HostileCase(s.SamsungCase):

    def upload_from_camera(self, name, seed, addr=CAM):
        """An e-mail with one photo to the store recipient, from `addr`; returns (answer, took)."""
        data = photo(seed)
        req = s.email_request("Camera@samsungcamera.com", ["store@mydomain.com"], "hi",
                              [(name, data)])
        start = time.monotonic()
        with connect_from(addr, self.port) as c:
            c.sendall(req)
            got = read_all(c, 10)
        return got, time.monotonic() - start, data

    def assert_stored(self, name, data):
        path = os.path.join(self.dest, SENDER_FOLDER, name)
        t.wait_for(lambda: os.path.exists(path), 30, what=path)
        self.assertEqual(t.sha256_file(path), hashlib.sha256(data).hexdigest())

    def events(self, kind):
        try:
            return [m for (m,) in t.query(self.data, "SELECT message FROM events WHERE kind = ? "
                                          "ORDER BY id", (kind,))]
        except Exception:  # the ledger not there yet
            return []

    def warn_lines(self, needle):
        # "DATE TIME LEVEL [tag] text"
        return [line for line in self.log_text().splitlines()
                if needle in line and len(line.split(None, 3)) > 2 and
                line.split(None, 3)[2].startswith("warn")]


class DefaultLimits(HostileCase):
    """The shipped defaults: max_connections 32, max_connections_per_address 8, head_timeout 10,
    min_body_rate 4096 over rate_window 10, idle_timeout 30, request_timeout 3600."""

    def test_32_drippers_from_one_address_do_not_refuse_a_camera(self):
        drip = Dripper(self.port, ["127.0.0.1"] * 32)
        try:
            time.sleep(0.5)
            # 8 (the per-address cap) are held, the other 24 closed at once.
            self.assertEqual(drip.alive(), 8)
            self.assertIn("[refused_per_address]", self.log_text())
            got, took, data = self.upload_from_camera("SAM_0001.JPG", "one")
            self.assertTrue(got.startswith(b"HTTP/1.0 200 OK"), got[:200])
            self.assertLess(took, UPLOAD_DEADLINE)
            self.assert_stored("SAM_0001.JPG", data)
        finally:
            drip.close()

    def test_32_drippers_from_four_addresses_do_not_refuse_a_camera(self):
        # 4 x 8: every slot of max_connections is held by a drip-feeder.
        addrs = ["127.0.0.%d" % (10 + i // 8) for i in range(32)]
        drip = Dripper(self.port, addrs)
        try:
            time.sleep(0.5)
            self.assertEqual(drip.alive(), 32)
            got, took, data = self.upload_from_camera("SAM_0002.JPG", "two")
            self.assertTrue(got.startswith(b"HTTP/1.0 200 OK"), got[:200])
            self.assertLess(took, UPLOAD_DEADLINE)
            self.assert_stored("SAM_0002.JPG", data)
            # One drip-feeder made room; the eviction is logged by name.
            self.assertIn("to make room for client=%s (max_connections 32) [evicted]" % CAM,
                          self.log_text())
            self.assertEqual(drip.alive(), 31)
        finally:
            drip.close()

    def idle_crowd(self, addrs):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = len(addrs) + 200
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
            soft = min(want, hard)
        if soft < want:
            # Scaled to the fd limit of this machine (said in the test output).
            addrs = addrs[:soft - 200]
            print("idle crowd scaled to %d connections (RLIMIT_NOFILE %d)" % (len(addrs), soft))
        crowd = []
        for a in addrs:
            crowd.append(connect_from(a, self.port))
        return crowd

    def test_1000_idle_connections_from_many_addresses(self):
        # 125 addresses x 8: every address at its cap, 1000 connections for 32 slots.
        addrs = ["127.0.1.%d" % (1 + i // 8) for i in range(1000)]
        crowd = self.idle_crowd(addrs)
        try:
            got, took, data = self.upload_from_camera("SAM_0003.JPG", "three")
            self.assertTrue(got.startswith(b"HTTP/1.0 200 OK"), got[:200])
            self.assertLess(took, UPLOAD_DEADLINE)
            self.assert_stored("SAM_0003.JPG", data)
            # Hundreds of evictions, one warning line for them (the rest summed up later).
            t.wait_for(lambda: self.log_text().count("[evicted]") >= len(crowd) - 32, 10,
                       what="the crowd evicted")
            self.assertEqual(len(self.warn_lines("[evicted]")), 1,
                             "\n".join(self.warn_lines("[evicted]")[:5]))
        finally:
            for c in crowd:
                c.close()

    def test_1000_idle_connections_from_one_address(self):
        crowd = self.idle_crowd(["127.0.0.1"] * 1000)
        try:
            got, took, data = self.upload_from_camera("SAM_0004.JPG", "four")
            self.assertTrue(got.startswith(b"HTTP/1.0 200 OK"), got[:200])
            self.assertLess(took, UPLOAD_DEADLINE)
            self.assert_stored("SAM_0004.JPG", data)
            t.wait_for(lambda: self.log_text().count("[refused_per_address]") >= len(crowd) - 8,
                       10, what="the crowd refused")
            self.assertEqual(len(self.warn_lines("[refused_per_address]")), 1)
        finally:
            for c in crowd:
                c.close()

    def test_an_idle_crowd_is_summed_up_in_one_line(self):
        crowd = self.idle_crowd(["127.0.0.1"] * 50)
        try:
            # The first refusal at once, the other 41 in the report 10 s later.
            t.wait_for(lambda: "listener limits in the last 10 s: refused_per_address=41"
                       in self.log_text(), 15, what="the summed-up report")
            # The 8 admitted idle ones are cut at head_timeout (10 s).
            t.wait_for(lambda: self.log_text().count("head timeout") >= 8, 15,
                       what="head timeouts")
        finally:
            for c in crowd:
                c.close()


class SlowBody(HostileCase):
    limits = """min_body_rate = 4096
rate_window = 2"""

    def test_a_drip_fed_body_is_cut_after_the_window(self):
        files = [("SAM_0005.JPG", photo("five"))]
        req = s.email_request("Camera@samsungcamera.com", ["store@mydomain.com"], "x", files)
        head, _, body = req.partition(b"\r\n\r\n")
        start = time.monotonic()
        with connect_from(CAM, self.port) as c:
            # The head, the message part and the start of the photo; then a byte every 0.3 s.
            c.sendall(head + b"\r\n\r\n" + body[:2000])
            cut = False
            for i in range(40):
                try:
                    c.send(body[2000 + i:2001 + i])
                except OSError:
                    cut = True
                    break
                if closed_by_server(c, 0.3):
                    cut = True
                    break
            self.assertTrue(cut, "a drip-fed body was not cut")
        took = time.monotonic() - start
        self.assertGreater(took, 1.5)   # not before the window (the grace) is over
        self.assertLess(took, 6)        # the first window ends it, not idle/request timeouts
        self.wait_log("too slow (")
        # The camera got no "succ", and the photo it lost is an event, not a silent skip.
        t.wait_for(lambda: any("email/SAM_0005.JPG" in e and "cut short" in e
                               for e in self.events("unreadable")), 10, what="the event")
        self.assertFalse(os.path.exists(os.path.join(self.dest, SENDER_FOLDER, "SAM_0005.JPG")))

    def test_a_slow_but_steady_camera_is_not_cut(self):
        data = photo("steady", size=600000)
        req = s.email_request("Camera@samsungcamera.com", ["store@mydomain.com"], "x",
                              [("SAM_0006.JPG", data)])
        with connect_from(CAM, self.port) as c:
            # About 200 KB/s for 3 s: well above min_body_rate, over more than one window.
            for i in range(0, len(req), 20000):
                c.sendall(req[i:i + 20000])
                time.sleep(0.1)
            got = read_all(c, 10)
        self.assertTrue(got.startswith(b"HTTP/1.0 200 OK"), got[:200])
        self.assert_stored("SAM_0006.JPG", data)


class LyingCamera(HostileCase):

    def test_content_length_larger_than_the_body_then_close(self):
        files = [("SAM_0011.JPG", photo("a")), ("SAM_0012.JPG", photo("b"))]
        req = s.email_request("Camera@samsungcamera.com", ["store@mydomain.com"], "x", files)
        head, _, body = req.partition(b"\r\n\r\n")
        head = head.replace(b"Content-Length: %d" % len(body),
                            b"Content-Length: %d" % (len(body) + 5000))
        with connect_from(CAM, self.port) as c:
            c.sendall(head + b"\r\n\r\n" + body)
            c.shutdown(socket.SHUT_WR)
            got = read_all(c, 10)
        self.assertEqual(got, b"", "the camera was answered for a body it did not send")
        t.wait_for(lambda: len(self.events("unreadable")) >= 2, 10, what="two events")
        ev = self.events("unreadable")
        for name in ("email/SAM_0011.JPG", "email/SAM_0012.JPG"):
            self.assertTrue(any(name in e and "cut short" in e for e in ev), ev)
        self.assertEqual(t.files_under(self.dest) if os.path.exists(self.dest) else [], [])
        # Sent again whole, it is stored (and the failure resolved).
        got = self.send(req)
        self.assertTrue(got.startswith(b"HTTP/1.0 200 OK"), got[:200])
        self.assert_stored("SAM_0012.JPG", files[1][1])

    def test_put_shorter_than_announced(self):
        sid = s.session_key(self.send(s.login_request("picasa")))
        self.assertIsNotNone(sid)
        data = photo("short")
        ok = self.send(s.photo_request(sid, "picasa", "SAM_0021.JPG", "x"))
        self.assertTrue(ok.startswith(b"HTTP/1.0 200 OK"), ok)
        put = s.http_request("PUT", "/upload/%s/SAM_0021.JPG" % sid.decode(), data,
                             headers={"Content-Type": "image/jpeg"})
        with connect_from(CAM, self.port) as c:
            c.sendall(put[:-1000])
            c.shutdown(socket.SHUT_WR)
            self.assertEqual(read_all(c, 10), b"")
        t.wait_for(lambda: any("picasa/SAM_0021.JPG" in e and
                               "cut short after %d of %d bytes" % (len(data) - 1000, len(data)) in e
                               for e in self.events("unreadable")), 10, what="the event")

    def test_three_photos_announced_two_sent(self):
        sid = s.session_key(self.send(s.login_request("facebook")))
        self.assertIsNotNone(sid)
        content = "Three shots~one~two~three"
        for name in ("SAM_0031.JPG", "SAM_0032.JPG"):
            ok = self.send(s.photo_request(sid, "facebook", name, content))
            self.assertTrue(ok.startswith(b"HTTP/1.0 200 OK"), ok)
            ok = self.send(s.http_request("PUT", "/upload/%s/%s" % (sid.decode(), name),
                                          photo(name), headers={"Content-Type": "image/jpeg"}))
            self.assertTrue(ok.startswith(b"HTTP/1.0 200 OK"), ok)
        # The third is announced and never sent; the camera goes on with another post.
        self.send(s.photo_request(sid, "facebook", "SAM_0033.JPG", content))
        self.send(s.photo_request(sid, "facebook", "SAM_0040.JPG", "Next~alt"))
        t.wait_for(lambda: any("2 of 3 announced photos arrived" in e
                               for e in self.events("warning")), 10, what="the short post")
        t.wait_for(lambda: any("facebook/SAM_0033.JPG" in e and "announced but never sent" in e
                               for e in self.events("unreadable")), 10, what="the missing photo")
        # The two that came are posted (they were acknowledged), with their alt texts.
        t.wait_for(lambda: len(self.stub.dump()["statuses"]) == 1, 30, what="the post")
        alts = sorted(m.get("description") for m in self.stub.dump()["media"].values())
        self.assertEqual(alts, ["one", "two"])


if __name__ == "__main__":
    unittest.main()
