"""The samsung source over real sockets: `camrelay run` with the reference's test configuration
(test/data/samsung/README.md) answers every request vector of test/data/samsung/vectors with the
reference's bytes (Date, the first Server value, session keys and the ST1000 time ignored), in
order, since the hotspot toggle and the sessions carry state. Plus the listener's limits: the
slow-loris cases (head, idle and total timeout), an oversized head, an oversized Content-Length,
the per-address cap and eviction at max_connections. The attackers at scale (drip-feeding and
idle crowds, the minimum body rate) are in test_samsung_hostile.py."""

import os
import socket
import time
import unittest

import camrelay_testlib as t
import samsung_testlib as s


class Vectors(s.SamsungCase):

    def test_every_vector_in_order(self):
        sid = None
        failures = []
        for name in s.vector_names():
            req = s.read_vector(name, "request")
            if sid:
                # Vectors 21-25 carry the reference's session key: use the one we handed out.
                req = req.replace(s.VECTOR_SID, sid)
            got = self.send(req)
            want = s.read_vector(name, "response")
            if s.normalise(got) != s.normalise(want):
                failures.append("%s:\n  got  %r\n  want %r" % (name, got[:400], want[:400]))
            if name == "20_facebook_login":
                sid = s.session_key(got)
        self.assertEqual(failures, [], "\n".join(failures) + "\n--- log\n" + self.log_text()[-4000:])
        # The parser's named leniencies are logged per request (NX300 headers in 10-14).
        self.assertIn("leniencies=", self.log_text())
        self.assertIn("no_space_after_colon", self.log_text())

    def test_gld_answer_is_one_segment_with_two_server_lines(self):
        got = self.send(s.read_vector("01_gld_hotspot", "request"))
        head = got.split(b"\r\n\r\n")[0].split(b"\r\n")
        self.assertEqual(head[0], b"HTTP/1.0 200 OK")
        self.assertEqual(head[1], b"Server: camrelay")
        self.assertEqual(head[3:], [b'ETag: "deadbeef"', b"Server: nginx/notreally",
                                    b"Content-Type: text/html; charset=utf-8",
                                    b"Content-Length: 0", b"Connection: close"])

    def test_hotspot_toggle_is_per_client(self):
        yahoo = b"GET / HTTP/1.1\r\nHost: www.yahoo.co.kr\r\n\r\n"
        # Two loopback addresses are two clients.
        def from_addr(addr):
            with socket.socket() as c:
                c.bind((addr, 0))
                c.connect(("127.0.0.1", self.port))
                c.sendall(yahoo)
                out = b""
                while True:
                    chunk = c.recv(4096)
                    if not chunk:
                        return out.split(b"\r\n")[0]
                    out += chunk
        self.assertEqual(from_addr("127.0.0.1"), b"HTTP/1.0 302 FOUND")
        self.assertEqual(from_addr("127.0.0.2"), b"HTTP/1.0 302 FOUND")
        self.assertEqual(from_addr("127.0.0.1"), b"HTTP/1.0 200 OK")
        self.assertEqual(from_addr("127.0.0.2"), b"HTTP/1.0 200 OK")


class Limits(s.SamsungCase):
    limits = """max_header_bytes = 4096
max_body_bytes = 1048576
head_timeout = 2
idle_timeout = 2
request_timeout = 6
max_connections = 4
max_connections_per_address = 3"""

    def read_until_closed(self, c, limit):
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

    def test_slow_head_is_cut_at_the_head_timeout(self):
        start = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.port)) as c:
            c.settimeout(0.1)
            closed = False
            for byte in b"GET / HTTP/1.1\r\nHost: gld.samsungosp.com\r\nX-Slow: " + b"a" * 100:
                try:
                    c.sendall(bytes([byte]))
                except OSError:
                    closed = True
                    break
                try:
                    if c.recv(100) == b"":
                        closed = True
                        break
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    # Closed while a byte of ours was unread: the kernel answers with a reset.
                    closed = True
                    break
                time.sleep(0.4)
            self.assertTrue(closed, "a head trickling in was not cut off")
        elapsed = time.monotonic() - start
        self.assertGreater(elapsed, 1.5)
        self.assertLess(elapsed, 5)
        self.wait_log("head timeout")

    def test_slow_body_is_cut_at_the_request_timeout(self):
        start = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.port)) as c:
            c.sendall(s.http_request("POST", "/facebook/auth", b"x" * 100)[:-100])
            c.settimeout(0.1)
            got = None
            for _ in range(40):
                try:
                    c.sendall(b"x")
                except OSError:
                    got = b""
                    break
                try:
                    got = c.recv(100)
                    break
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    got = b""  # closed with a byte of ours unread: a reset, still a close
                    break
                time.sleep(1.0)  # below idle_timeout: only the total timeout can end it
        elapsed = time.monotonic() - start
        self.assertEqual(got, b"", "the connection was answered instead of closed")
        self.assertGreater(elapsed, 5)
        self.assertLess(elapsed, 10)
        self.wait_log("request timeout")

    def test_silent_client_is_cut_at_the_idle_timeout(self):
        start = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.port)) as c:
            c.sendall(s.http_request("POST", "/facebook/auth", b"x" * 10)[:-10])
            self.assertEqual(self.read_until_closed(c, 10), b"")
        self.assertLess(time.monotonic() - start, 5)

    def test_oversized_head(self):
        req = (b"GET / HTTP/1.1\r\nHost: gld.samsungosp.com\r\nX-Big: " + b"a" * 5000 +
               b"\r\n\r\n")
        got = self.send(req)
        self.assertTrue(got.startswith(b"HTTP/1.0 400 BAD REQUEST\r\n"), got[:200])

    def test_oversized_content_length_is_refused_before_the_body(self):
        with socket.create_connection(("127.0.0.1", self.port)) as c:
            c.sendall(b"PUT /upload/x/y.jpg HTTP/1.1\r\nHost: snsgw.samsungmobile.com\r\n"
                      b"Content-Length: 2000000\r\n\r\n")
            got = self.read_until_closed(c, 5)
        self.assertTrue(got.startswith(b"HTTP/1.0 413 REQUEST ENTITY TOO LARGE\r\n"), got[:200])

    def closed_by_server(self, c, limit):
        c.settimeout(limit)
        try:
            return c.recv(100) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def connect_from(self, addr):
        c = socket.socket()
        c.bind((addr, 0))
        c.connect(("127.0.0.1", self.port))
        return c

    def test_connections_beyond_the_per_address_cap_are_closed(self):
        held = [self.connect_from("127.0.0.1") for _ in range(3)]
        try:
            time.sleep(0.3)
            with self.connect_from("127.0.0.1") as extra:
                extra.sendall(b"GET / HTTP/1.1\r\nHost: gld.samsungosp.com\r\n\r\n")
                start = time.monotonic()
                self.assertEqual(self.read_until_closed(extra, 5), b"")
                self.assertLess(time.monotonic() - start, 1.5)
            self.wait_log("(max_connections_per_address), closed [refused_per_address]")
            # Another address is served meanwhile.
            with self.connect_from("127.0.0.2") as other:
                other.sendall(b"GET / HTTP/1.1\r\nHost: gld.samsungosp.com\r\n\r\n")
                self.assertTrue(self.read_until_closed(other, 5).startswith(b"HTTP/1.0 200 OK"))
        finally:
            for c in held:
                c.close()
        # Once the server has seen them go, the address is served again.
        def served():
            try:
                return s.exchange(self.port, b"GET / HTTP/1.1\r\nHost: gld.samsungosp.com\r\n\r\n")
            except ConnectionResetError:
                return None
        got = t.wait_for(served, 5, interval=0.3, what="a connection after the others closed")
        self.assertTrue(got.startswith(b"HTTP/1.0 200 OK"), got)

    def test_a_newcomer_at_the_global_cap_evicts_the_worst(self):
        # 3 idle from .1 (its cap), 1 idle from .3: all 4 slots taken. A camera from .2 is not
        # refused: the longest idle connection of the address with the most goes.
        crowd = [self.connect_from("127.0.0.1") for _ in range(3)]
        time.sleep(0.2)
        lone = self.connect_from("127.0.0.3")
        try:
            time.sleep(0.3)
            with self.connect_from("127.0.0.2") as cam:
                cam.sendall(b"GET / HTTP/1.1\r\nHost: gld.samsungosp.com\r\n\r\n")
                got = self.read_until_closed(cam, 5)
            self.assertTrue(got.startswith(b"HTTP/1.0 200 OK"), got)
            self.wait_log("to make room for client=127.0.0.2 (max_connections 4) [evicted]")
            # The victim is one of .1's (closed by the server), .3's lone connection stays.
            self.assertIn("client=127.0.0.1: closed (3 connections from it", self.log_text())
            evicted = [c for c in crowd if self.closed_by_server(c, 0.5)]
            self.assertEqual(len(evicted), 1)
            lone.sendall(b"GET / HTTP/1.1\r\nHost: gld.samsungosp.com\r\n\r\n")
            self.assertTrue(self.read_until_closed(lone, 5).startswith(b"HTTP/1.0 200 OK"))
        finally:
            for c in crowd + [lone]:
                c.close()

    def test_stop_is_prompt_with_a_connection_open(self):
        c = socket.create_connection(("127.0.0.1", self.port))
        try:
            c.sendall(b"PUT /upload/x/y.jpg HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc")
            rc, took = self.d.stop()
            self.assertEqual(rc, 0, self.log_text()[-3000:])
            self.assertLess(took, 10)
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main()
