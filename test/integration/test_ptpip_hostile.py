"""Hostile PTP/IP peers against `camrelay import` (issue 16, item 8): a small Python camera on
127.0.0.1 that answers the PTP/IP init and then attacks.

* flood: GetObjectHandles answers with a data phase of unknown length and offers 1 GiB; camrelay
  must cut it at its bound (16 MiB), keep its peak RSS (VmHWM) under 100 MiB, and fail (exit 1)
  with a clear message;
* oversize: an object declared as 5000 bytes whose GetObject sends 200 MiB: never more than the
  declared size reaches the spool or the destination; the import fails;
* trickle: GetPartialObject sends one byte a second: with min_rate / rate_window the import ends,
  failed, as a timeout (not a "protocol error"), in bounded time;
* liar: GetObjectInfo of one listed handle fails: the import stores the rest, says the object is
  unreadable, exits non-zero (standard PTP/IP and Fuji);
* Fuji camera-selected transfer (CameraState 1): the camera offers its picked photos one by one at
  handle 1 and closes the connection after the last: a finished transfer, exit 0.
Every peer stops on its own; each case is bounded in time."""

import os
import socket
import struct
import subprocess
import threading
import time
import unittest

import camrelay_testlib as t


def ptp_string(s):
    if not s:
        return b"\x00"
    u = (s + "\x00").encode("utf-16-le")
    return bytes([len(s) + 1]) + u


def u16_array(values):
    return struct.pack("<I", len(values)) + b"".join(struct.pack("<H", v) for v in values)


def device_info(ops):
    return (struct.pack("<HIH", 100, 0, 0) + ptp_string("") + struct.pack("<H", 0) +
            u16_array(ops) + u16_array([]) + u16_array([]) + u16_array([]) + u16_array([0x3801]) +
            ptp_string("Hostile Corp") + ptp_string("HC-1") + ptp_string("1.0") +
            ptp_string("SN666"))


def object_info(name, size):
    return (struct.pack("<IHHIHIIIIIIIHII", 0x00010001, 0x3801, 0, size, 0, 0, 0, 0, 0, 0, 0, 0,
                        0, 0, 0) + ptp_string(name) + ptp_string("20240101T100000") +
            ptp_string("20240101T100000") + ptp_string(""))


def packet(kind, body):
    return struct.pack("<II", 8 + len(body), kind) + body


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def recv_packet(sock):
    length, kind = struct.unpack("<II", recv_exact(sock, 8))
    if length < 8 or length > (1 << 20):
        raise ConnectionError("bad length")
    return kind, recv_exact(sock, length - 8)


class HostileCamera:
    """A PTP/IP camera with objects 1..N; `mode` picks the attack."""

    def __init__(self, mode, objects=3, content_size=20000):
        self.mode = mode
        self.objects = objects
        self.content = bytes((i * 31) % 251 for i in range(content_size))
        self.sent = 0
        self.object_requests = 0  # GetObjectHandles/GetObjectInfo/GetObject/GetPartialObject
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.lsock.settimeout(0.5)
        self.port = self.lsock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping = True
        self.thread.join(10)
        self.lsock.close()

    def accept(self):
        while not self.stopping:
            try:
                c, _ = self.lsock.accept()
                c.settimeout(30)
                return c
            except socket.timeout:
                continue
        return None

    def serve(self):
        while not self.stopping:
            cmd = self.accept()
            if cmd is None:
                return
            evt = None
            try:
                recv_packet(cmd)  # Init Command Request
                name = ("Hostile" + "\x00").encode("utf-16-le")
                cmd.sendall(packet(2, struct.pack("<I", 1) + b"\x42" * 16 + name +
                                   struct.pack("<I", 0x00010000)))
                evt = self.accept()
                if evt is None:
                    return
                recv_packet(evt)
                evt.sendall(packet(4, b""))
                while not self.stopping:
                    kind, body = recv_packet(cmd)
                    if kind != 6:
                        continue
                    _phase, code, tid = struct.unpack_from("<IHI", body)
                    params = [struct.unpack_from("<I", body, 10 + 4 * i)[0]
                              for i in range((len(body) - 10) // 4)]
                    self.answer(cmd, code, tid, params)
            except (OSError, ConnectionError, struct.error):
                pass
            finally:
                cmd.close()
                if evt:
                    evt.close()

    def ok(self, sock, tid, params=()):
        sock.sendall(packet(7, struct.pack("<HI", 0x2001, tid) +
                            b"".join(struct.pack("<I", p) for p in params)))

    def data(self, sock, tid, payload):
        sock.sendall(packet(9, struct.pack("<IQ", tid, len(payload))) +
                     packet(12, struct.pack("<I", tid) + payload))
        self.ok(sock, tid)

    def answer(self, sock, code, tid, params):
        if code in (0x1002, 0x1003):
            return self.ok(sock, tid)
        if code in (0x1007, 0x1008, 0x1009, 0x101B):
            self.object_requests += 1
        if code == 0x1001:
            if self.mode == "notacamera":  # a DeviceInfo that offers no object access
                return self.data(sock, tid, device_info([0x1001, 0x1002]))
            ops = [0x1001, 0x1002, 0x1003, 0x1004, 0x1007, 0x1008, 0x1009]
            if self.mode != "oversize":
                ops.append(0x101B)
            return self.data(sock, tid, device_info(ops))
        if code == 0x1004:
            return self.data(sock, tid, struct.pack("<II", 1, 0x00010001))
        if code == 0x1007:
            if self.mode == "flood":
                sock.sendall(packet(9, struct.pack("<IQ", tid, 0xFFFFFFFFFFFFFFFF)))
                junk = packet(10, struct.pack("<I", tid) + b"\x11" * (1 << 20))
                for _ in range(1024):  # 1 GiB offered
                    sock.sendall(junk)
                    self.sent += 1 << 20
                return None
            handles = list(range(1, self.objects + 1))
            return self.data(sock, tid, struct.pack("<I", len(handles)) +
                             b"".join(struct.pack("<I", h) for h in handles))
        if code == 0x1008:
            handle = params[0] if params else 0
            if self.mode == "liar" and handle == 2:
                return sock.sendall(packet(7, struct.pack("<HI", 0x2002, tid)))
            size = 5000 if self.mode == "oversize" else len(self.content)
            return self.data(sock, tid, object_info("IMG_%04d.JPG" % handle, size))
        if code == 0x1009:  # GetObject
            if self.mode == "oversize":
                sock.sendall(packet(9, struct.pack("<IQ", tid, 0xFFFFFFFFFFFFFFFF)))
                junk = packet(10, struct.pack("<I", tid) + b"\x22" * (1 << 20))
                for _ in range(200):
                    sock.sendall(junk)
                    self.sent += 1 << 20
                return None
            return self.data(sock, tid, self.content)
        if code == 0x101B:
            _h, offset, length = params[:3]
            chunk = self.content[offset:offset + length]
            if self.mode == "trickle":
                sock.sendall(packet(9, struct.pack("<IQ", tid, len(chunk))))
                for b in chunk:
                    if self.stopping:
                        return None
                    sock.sendall(packet(10, struct.pack("<I", tid) + bytes([b])))
                    time.sleep(1)
                return None
            sock.sendall(packet(9, struct.pack("<IQ", tid, len(chunk))) +
                         packet(12, struct.pack("<I", tid) + chunk))
            return self.ok(sock, tid, [len(chunk)])
        return sock.sendall(packet(7, struct.pack("<HI", 0x2005, tid)))


class FujiCamera:
    """A Fujifilm X body on Wi-Fi (shared/protocols/ptpip-fuji.md §2.A): 68-byte init ack, then USB
    containers. mode "liar": GetObjectInfo(2) fails; mode "selected": CameraState 1, the photos
    come one after the other at handle 1 and the camera closes after the last."""

    def __init__(self, mode, objects=3, content_size=30000):
        self.mode = mode
        self.photos = [bytes(((i * 7) + n) % 251 for i in range(content_size))
                       for n in range(objects)]
        self.current = 0  # camera-selected: the photo now at handle 1
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.lsock.settimeout(0.5)
        self.port = self.lsock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping = True
        self.thread.join(10)
        self.lsock.close()

    def serve(self):
        while not self.stopping:
            try:
                c, _ = self.lsock.accept()
            except socket.timeout:
                continue
            c.settimeout(30)
            try:
                self.session(c)
            except (OSError, ConnectionError, struct.error):
                pass
            finally:
                c.close()

    @staticmethod
    def container(kind, code, tid, body=b""):
        return struct.pack("<IHHI", 12 + len(body), kind, code, tid) + body

    def reply(self, sock, code, tid, payload=None, response=0x2001, params=()):
        out = b""
        if payload is not None:
            out += self.container(2, code, tid, payload)
        out += self.container(3, response, tid, b"".join(struct.pack("<I", p) for p in params))
        sock.sendall(out)

    def session(self, sock):
        length = struct.unpack("<I", recv_exact(sock, 4))[0]
        recv_exact(sock, length - 4)  # the 82-byte init request
        name = "X-T5".encode("utf-16-le").ljust(40, b"\x00")
        sock.sendall(struct.pack("<III", 68, 2, 0) + b"\x08" * 16 + name)
        state = 1 if self.mode == "selected" else 2
        while not self.stopping:
            length, kind, code, tid = struct.unpack("<IHHI", recv_exact(sock, 12))
            body = recv_exact(sock, length - 12)
            params = [struct.unpack_from("<I", body, 4 * i)[0] for i in range(len(body) // 4)]
            if kind != 1:
                continue
            if code == 0x1016:  # SetDevicePropValue: its data container follows
                dl, _k, _c, _t = struct.unpack("<IHHI", recv_exact(sock, 12))
                recv_exact(sock, dl - 12)
                self.reply(sock, code, tid)
            elif code == 0x1015:  # GetDevicePropValue
                prop = params[0]
                if prop == 0xD212:
                    count = len(self.photos) if self.mode != "selected" else 1
                    items = [(0xDF00, state), (0xD222, count)]
                    payload = struct.pack("<H", len(items)) + b"".join(
                        struct.pack("<HI", p, v) for p, v in items)
                    self.reply(sock, code, tid, payload)
                elif prop == 0xDF22:
                    self.reply(sock, code, tid, struct.pack("<I", 4))
                else:
                    self.reply(sock, code, tid, response=0x2005)
            elif code == 0x1001:
                ops = [0x1001, 0x1002, 0x1003, 0x1008, 0x1009, 0x101B, 0x1015, 0x1016]
                self.reply(sock, code, tid, device_info(ops))
            elif code == 0x1008:
                handle = params[0]
                if self.mode == "selected":
                    if handle != 1 or self.current >= len(self.photos):
                        return  # goodbye: the camera closes
                    index = self.current
                else:
                    index = handle - 1
                    if self.mode == "liar" and handle == 2 or not 0 <= index < len(self.photos):
                        self.reply(sock, code, tid, response=0x2002)
                        continue
                self.reply(sock, code, tid,
                           object_info("DSCF%04d.JPG" % (index + 1), len(self.photos[index])))
            elif code == 0x101B:
                handle, offset, want = params[:3]
                index = self.current if self.mode == "selected" else handle - 1
                photo = self.photos[index]
                chunk = photo[offset:offset + want]
                self.reply(sock, code, tid, chunk, params=[len(chunk)])
                if self.mode == "selected" and offset + len(chunk) >= len(photo):
                    self.current += 1
                    if self.current >= len(self.photos):
                        return  # the last one sent: the camera closes the connection
            else:  # OpenSession, CloseSession, anything else
                self.reply(sock, code, tid)


def peak_rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def tree_bytes(root):
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total


class PtpipHostile(t.CamrelayTestCase):

    def config(self, port, extra="", kind="ptpip"):
        path = os.path.join(self.tmp, "camrelay.toml")
        with open(path, "w") as f:
            f.write(f"""\
[camrelay]
data_dir = "{self.data}"

[[source]]
type = "{kind}"
address = "127.0.0.1:{port}"
chunk_size = 16384
{extra}
[sink.archive]
type = "folder"
path = "{self.dest}/{{name}}"

[[route]]
to = ["archive"]
""")
        return path

    def run_import(self, cam, extra="", limit=120, kind="ptpip"):
        """Runs the import, sampling the peak RSS; returns (returncode, stdout, stderr, kib)."""
        self.addCleanup(cam.stop)
        cfg = self.config(cam.port, extra, kind)
        out = open(os.path.join(self.tmp, "out.txt"), "w+")
        err = open(os.path.join(self.tmp, "err.txt"), "w+")
        p = subprocess.Popen([t.BIN, "import", "-q", "-c", cfg], stdout=out, stderr=err,
                             env=t.env_for())
        peak = 0
        started = time.time()
        while p.poll() is None:
            kib = peak_rss_kib(p.pid)
            if kib:
                peak = max(peak, kib)
            if time.time() - started > limit:
                p.kill()
                p.wait()
                self.fail("the import did not end within %d s" % limit)
            time.sleep(0.05)
        out.seek(0)
        err.seek(0)
        result = (p.returncode, out.read(), err.read(), peak)
        out.close()
        err.close()
        return result

    def test_endless_handle_list_keeps_memory_bounded(self):
        cam = HostileCamera("flood")
        rc, _out, err, peak = self.run_import(cam)
        self.assertEqual(rc, 1, err)
        self.assertIn("more data than this operation allows", err)
        self.assertGreater(peak, 0)
        self.assertLess(peak, (100 + t.ASAN_RSS_ALLOWANCE_MIB) * 1024, "peak RSS %d KiB" % peak)
        # Cut early: far less than the 1 GiB offered per connection.
        self.assertLess(cam.sent, 512 << 20)

    def test_object_data_past_the_declared_size_never_reaches_the_spool(self):
        cam = HostileCamera("oversize", objects=1)
        rc, _out, err, peak = self.run_import(cam)
        self.assertNotEqual(rc, 0, err)
        self.assertLess(tree_bytes(self.data) + tree_bytes(self.dest) if os.path.isdir(self.dest)
                        else tree_bytes(self.data), 2 << 20)
        self.assertLess(peak, (100 + t.ASAN_RSS_ALLOWANCE_MIB) * 1024, "peak RSS %d KiB" % peak)

    def test_trickling_camera_is_a_timeout_in_bounded_time(self):
        cam = HostileCamera("trickle", objects=1)
        started = time.time()
        rc, _out, err, _peak = self.run_import(cam, "min_rate = 100000\nrate_window = 2\n",
                                               limit=90)
        self.assertNotEqual(rc, 0, err)
        self.assertLess(time.time() - started, 60)
        self.assertIn("timeout", err)
        self.assertNotIn("protocol error", err)

    def test_lying_objectinfo_is_unreadable_not_silent(self):
        cam = HostileCamera("liar", objects=3)
        rc, out, err, _peak = self.run_import(cam)
        self.assertNotEqual(rc, 0, out + err)
        self.assertEqual(sorted(os.listdir(self.dest)), ["IMG_0001.JPG", "IMG_0003.JPG"])
        self.assertIn("handle=2", out + err)

    def test_fuji_lying_objectinfo_is_unreadable_not_silent(self):
        cam = FujiCamera("liar", objects=3)
        rc, out, err, _peak = self.run_import(cam, kind="fuji")
        self.assertNotEqual(rc, 0, out + err)
        self.assertEqual(sorted(os.listdir(self.dest)), ["DSCF0001.JPG", "DSCF0003.JPG"])
        self.assertIn("handle=2", out + err)

    def test_fuji_camera_selected_transfer_is_finished_not_failed(self):
        cam = FujiCamera("selected", objects=4)
        rc, out, err, _peak = self.run_import(cam, kind="fuji")
        self.assertEqual(rc, 0, out + err)
        names = sorted(os.listdir(self.dest))
        self.assertEqual(names, ["DSCF%04d.JPG" % n for n in range(1, 5)])
        for n, photo in enumerate(cam.photos):
            with open(os.path.join(self.dest, "DSCF%04d.JPG" % (n + 1)), "rb") as f:
                self.assertEqual(f.read(), photo)
        self.assertIn("4 new", out)


if __name__ == "__main__":
    unittest.main()
