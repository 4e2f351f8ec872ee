"""`camrelay sim`, the Wi-Fi camera simulator, checked with real third-party software: Debian's
gphoto2 (libgphoto2 2.5.30) lists and downloads every photo byte-identically over standard PTP/IP
("PTP/IP Camera") and Fujifilm's Wi-Fi protocol ("Fuji X (WLAN)", fixed ports 55740/55741), and
tshark's PTP/IP dissector finds no malformed packet in a capture. Also: ObjectAdded events for a
file that appears, --drop-after cuts a transfer, --refuse answers Init Fail (raw socket bytes),
and garbage on a connection closes only that connection."""

import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

import camrelay_testlib as t

TSHARK = shutil.which("tshark") or "/usr/bin/tshark"


def free_port():
    """A port with the next one free too (the Fuji simulator also listens on port + 1 for
    events). Other tests run in parallel, so a port can still be taken before the simulator
    binds it: sim_on_free_port() retries then."""
    for _ in range(50):
        p = _any_port()
        if p < 65535 and port_free(p + 1):
            return p
    return _any_port()


def _any_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class Sim:
    """A running `camrelay sim`; waits for its ready line, stops it by PID with SIGTERM."""

    def __init__(self, tmp, protocol, photos, port, *extra):
        self.log_path = os.path.join(tmp, "sim-%s-%d.log" % (protocol, port))
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([t.BIN, "sim", protocol, "--dir", photos, "--port", str(port)]
                                     + list(extra), stdout=subprocess.PIPE, stderr=self.log,
                                     text=True)
        self.ready = self.proc.stdout.readline().strip()
        if not self.ready.startswith("camrelay sim: "):
            self.stop()
            raise AssertionError("simulator did not start: %r\n%s" % (self.ready, self.text()))

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        return self.proc.returncode


class SimGphoto2(t.CamrelayTestCase):

    def setUp(self):
        super().setUp()
        self.photo_dir = os.path.join(self.tmp, "photos")
        os.makedirs(self.photo_dir)
        made = t.make_photos(self.photo_dir, 4, self.work, folder=".")
        made += t.make_photos(self.photo_dir, ["BIG_0001.JPG"], self.work, folder=".", big=True)
        # A file larger than the simulator's 1 MiB chunk: several Data packets per transfer.
        large = os.path.join(self.photo_dir, "LARGE_01.RAF")
        with open(large, "wb") as f:
            f.write(os.urandom(3 * 1024 * 1024 + 12345))
        self.expected = {os.path.basename(p): t.sha256_file(p)
                         for p in [m[0] for m in made] + [large]}
        self.home = tempfile.mkdtemp(prefix="camrelay-gphoto2-home-", dir=self.tmp)

    def sim(self, protocol, port, *extra):
        s = Sim(self.tmp, protocol, self.photo_dir, port, *extra)
        self.addCleanup(s.stop)
        return s

    def sim_on_free_port(self, protocol, *extra):
        """Starts a simulator on a free port, trying again when another test took it first."""
        for attempt in range(5):
            port = free_port()
            try:
                return self.sim(protocol, port, *extra), port
            except AssertionError as e:
                if "Address already in use" not in str(e) or attempt == 4:
                    raise

    def gphoto2(self, camera, port_spec, *args, cwd=None, timeout=120):
        env = dict(os.environ, HOME=self.home)
        return subprocess.run([t.GPHOTO2, "--camera", camera, "--port", port_spec] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env, cwd=cwd, timeout=timeout)

    def check_summary_list_get(self, camera, port_spec, model):
        r = self.gphoto2(camera, port_spec, "--summary")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Model: " + model, r.stdout)
        r = self.gphoto2(camera, port_spec, "--list-files")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for name in self.expected:
            self.assertIn(name, r.stdout)
        self.assertIn("There are %d files" % len(self.expected), r.stdout)
        out = os.path.join(self.tmp, "got-" + camera.split()[0])
        os.makedirs(out)
        r = self.gphoto2(camera, port_spec, "--get-all-files", cwd=out)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        got = {n: t.sha256_file(os.path.join(out, n)) for n in os.listdir(out)}
        self.assertEqual(got, self.expected)

    def test_ptpip_gphoto2_and_tshark(self):
        sim, port = self.sim_on_free_port("ptpip", "--model", "SimCam PTP")
        self.assertEqual(sim.ready, "camrelay sim: ptpip camera 'SimCam PTP' serving %d photos "
                         "from %s on 127.0.0.1:%d" % (len(self.expected), self.photo_dir, port))
        cap = os.path.join(self.tmp, "cap.pcapng")
        tlog = open(os.path.join(self.tmp, "tshark.log"), "w+")
        tshark = subprocess.Popen([TSHARK, "-i", "lo", "-f", "tcp port %d" % port, "-w", cap],
                                  stdout=tlog, stderr=tlog)
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                tlog.seek(0)
                if "Capturing on" in tlog.read():
                    break
                time.sleep(0.1)
            else:
                self.fail("tshark did not start capturing")
            self.check_summary_list_get("PTP/IP Camera", "ptpip:127.0.0.1:%d:%d" % (port, port),
                                        "SimCam PTP")
            time.sleep(1)  # let the last packets reach the capture
        finally:
            tshark.send_signal(signal.SIGINT)
            tshark.wait(timeout=30)
            tlog.close()
        malformed = subprocess.run([TSHARK, "-r", cap, "-d", "tcp.port==%d,ptpip" % port,
                                    "-Y", "_ws.malformed"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, timeout=120)
        self.assertEqual(malformed.returncode, 0, malformed.stderr)
        self.assertEqual(malformed.stdout.strip(), "", "malformed PTP/IP packets")
        fields = subprocess.run([TSHARK, "-r", cap, "-d", "tcp.port==%d,ptpip" % port, "-Y",
                                 "ptpip", "-T", "fields", "-e", "ptpip.pktType", "-e",
                                 "ptpip.opcode", "-e", "ptpip.respcode"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                timeout=120)
        self.assertEqual(fields.returncode, 0, fields.stderr)
        opcodes = set()
        for line in fields.stdout.splitlines():
            cols = line.split("\t")
            if len(cols) > 1 and cols[1]:
                opcodes.add(int(cols[1], 0))
        for op in (0x1001, 0x1002, 0x1003, 0x1004, 0x1007, 0x1008):
            self.assertIn(op, opcodes, "operation 0x%04x not seen by tshark" % op)
        self.assertTrue(opcodes & {0x1009, 0x101B}, "no GetObject/GetPartialObject seen")
        self.assertEqual(sim.stop(), 0)

    def test_ptpip_object_added_event(self):
        sim, port = self.sim_on_free_port("ptpip")
        env = dict(os.environ, HOME=self.home)
        waiter = subprocess.Popen([t.GPHOTO2, "--camera", "PTP/IP Camera", "--port",
                                   "ptpip:127.0.0.1:%d:%d" % (port, port), "--wait-event=6s"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  env=env)
        time.sleep(2)
        t.make_photos(self.photo_dir, ["NEW_0001.JPG"], self.work, folder=".", atomic=True)
        out, _ = waiter.communicate(timeout=60)
        self.assertIn("NEW_0001.JPG", out)
        self.assertIn("event ObjectAdded handle=%d" % (len(self.expected) + 1), sim.text())

    def test_fuji_gphoto2_fixed_ports(self):
        busy = [p for p in (55740, 55741) if not port_free(p)]
        if busy:
            self.skipTest("Fuji ports %s are busy; gphoto2's Fuji X (WLAN) driver only uses "
                          "55740-55742" % busy)
        sim = self.sim("fuji", 55740, "--model", "X-T5")
        self.assertIn("fuji camera 'X-T5'", sim.ready)
        self.check_summary_list_get("Fuji X (WLAN)", "ptpip:127.0.0.1", "X-T5")

    def test_drop_after_fails_transfer_and_sim_keeps_serving(self):
        sim, port = self.sim_on_free_port("ptpip", "--drop-after", "200000")
        spec = "ptpip:127.0.0.1:%d:%d" % (port, port)
        out = os.path.join(self.tmp, "dropped")
        os.makedirs(out)
        r = self.gphoto2("PTP/IP Camera", spec, "--get-all-files", cwd=out)
        got = {n: t.sha256_file(os.path.join(out, n)) for n in os.listdir(out)}
        self.assertTrue(r.returncode != 0 or got != self.expected,
                        "transfer should fail: " + r.stdout + r.stderr)
        self.assertNotEqual(got, self.expected)
        self.assertIn("drop-after", sim.text())
        # The next session is served normally (the budget is per connection).
        r = self.gphoto2("PTP/IP Camera", spec, "--list-files")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def raw(self, port, data, want):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(data)
            buf = b""
            while len(buf) < want:
                chunk = s.recv(want - len(buf))
                if not chunk:
                    break
                buf += chunk
            return buf

    def test_refuse_gives_init_fail(self):
        _, port = self.sim_on_free_port("ptpip", "--refuse")
        name = "probe".encode("utf-16-le") + b"\0\0"
        body = bytes(range(16)) + name + struct.pack("<I", 0x00010000)
        init = struct.pack("<II", 8 + len(body), 1) + body
        self.assertEqual(self.raw(port, init, 12).hex(), "0c000000" "05000000" "01000000")

        _, fport = self.sim_on_free_port("fuji", "--refuse")
        name = "MyClient".encode("utf-16-le")
        finit = (struct.pack("<III", 82, 1, 0x8F53E4F2) + bytes(16) + name).ljust(82, b"\0")
        self.assertEqual(self.raw(fport, finit, 12).hex(), "0c000000" "05000000" "19200000")

    def test_garbage_closes_only_that_connection(self):
        sim, port = self.sim_on_free_port("ptpip")
        # An absurd length and an unknown packet type: each connection is dropped.
        self.assertEqual(self.raw(port, b"\xff\xff\xff\x7f" + b"\x01\0\0\0" * 4, 1), b"")
        self.assertEqual(self.raw(port, struct.pack("<II", 12, 0x77) + b"abcd", 1), b"")
        self.assertIn("closing connection", sim.text())
        r = self.gphoto2("PTP/IP Camera", "ptpip:127.0.0.1:%d:%d" % (port, port), "--list-files")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("There are %d files" % len(self.expected), r.stdout)


if __name__ == "__main__":
    unittest.main()
