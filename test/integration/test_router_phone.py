"""The travel-router setup end to end: a Directory Browse USB camera, the owner's phone played by
a real OpenSSH sshd (reached through a throttling TCP proxy, so a transfer takes seconds), and
presence reported three ways: a hostapd control socket played by the test (ATTACH / PING /
unsolicited AP-STA-* events), `camrelay hostapd-event` (hostapd_cli -a), and `camrelay dhcp-event`
(dnsmasq --dhcp-script). Join -> photos arrive byte-identical; leave mid-transfer -> cancelled
within about a second, nothing counted delivered that is not complete; join again -> the rest
arrives, nothing twice."""

import os
import shutil
import socket
import threading
import time
import unittest

import camrelay_testlib as t
from test_ssh_sinks import SSHD, Sshd, free_port

MAC = "02:11:22:aa:bb:cc"
PAD = 3 * 1024 * 1024  # bytes appended to each photo: ~3 s per photo through the proxy


class ThrottlingProxy:
    """127.0.0.1:port -> 127.0.0.1:target, client-to-server bytes capped at `rate` bytes/s."""

    def __init__(self, target, rate):
        self.target, self.rate = target, rate
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.open = []
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                s = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                c.close()  # the phone's server is down: like a refused connection
                continue
            self.open += [c, s]
            threading.Thread(target=self._pump, args=(c, s, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(s, c, False), daemon=True).start()

    def _pump(self, src, dst, throttle):
        try:
            while True:
                data = src.recv(16384)
                if not data:
                    break
                dst.sendall(data)
                if throttle:
                    time.sleep(len(data) / self.rate)
        except OSError:
            pass
        for x in (src, dst):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self.stopping = True
        self.sock.close()
        for x in self.open:
            try:
                x.close()
            except OSError:
                pass


class FakeHostapd:
    """hostapd's control interface at DIR/IFACE: answers ATTACH, PING, STA-FIRST, DETACH and
    sends unsolicited events to the attached client."""

    def __init__(self, ctrl_dir, iface):
        self.path = os.path.join(ctrl_dir, iface)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.client = None
        self.pings = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                data, addr = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            req = data.decode()
            reply = {"ATTACH": "OK\n", "PING": "PONG\n", "STA-FIRST": "", "DETACH": "OK\n"}.get(
                req, "UNKNOWN COMMAND\n")
            if req == "ATTACH":
                self.client = addr
            if req == "PING":
                self.pings += 1
            self.sock.sendto(reply.encode(), addr)

    def event(self, text):
        self.sock.sendto(("<3>" + text).encode(), self.client)

    def stop(self):
        self.stopping = True
        self.thread.join(5)
        self.sock.close()
        os.unlink(self.path)


class PhoneTestCase(t.CamrelayTestCase):
    """The phone of the router set-up: OpenSSH sshd behind a 1 MB/s proxy, camrelay's key and
    the pinned host key, a control socket path. Shared with test_streaming_mode."""

    def setUp(self):
        super().setUp()
        os.chmod(self.tmp, 0o755)
        ssh_dir = os.path.join(self.tmp, "ssh")
        os.makedirs(ssh_dir)
        self.sshd = Sshd(ssh_dir, free_port())
        self.addCleanup(self.sshd.stop)
        self.sshd.start()
        self.proxy = ThrottlingProxy(self.sshd.port, 1024 * 1024)
        self.addCleanup(self.proxy.stop)
        self.remote = os.path.join(self.tmp, "phone")
        os.makedirs(self.remote)
        self.key = os.path.join(self.tmp, "id_ed25519")
        shutil.copyfile(self.sshd.client_key, self.key)
        os.chmod(self.key, 0o600)
        self.known_hosts = os.path.join(self.tmp, "known_hosts")
        with open(self.sshd.host_key + ".pub") as f:
            kind, b64 = f.read().split()[:2]
        with open(self.known_hosts, "w") as f:
            f.write("[127.0.0.1]:%d %s %s\n" % (self.proxy.port, kind, b64))
        self.socket = os.path.join(self.tmp, "control.sock")

    def make_big_photos(self, n):
        """Real JPEGs with EXIF capture times, padded to a few MB (bytes after the JPEG end)."""
        photos = self.photos(n)
        out = []
        for path, _sha, date in photos:
            with open(path, "ab") as f:
                f.write(os.urandom(PAD))
            out.append((path, t.sha256_file(path), date))
        return out

    def uploading(self):
        """Bytes in the phone's temp files (an upload in progress)."""
        total = 0
        for dirpath, _dirs, files in os.walk(self.remote):
            for f in files:
                if f.endswith(".part"):
                    total += os.path.getsize(os.path.join(dirpath, f))
        return total


@unittest.skipUnless(os.access(SSHD, os.X_OK) and os.geteuid() == 0,
                     "needs OpenSSH's sshd and root (to run it on a loopback port)")
class RouterPhone(PhoneTestCase):

    def config(self, device, trigger=""):
        return self.write_config(f"""\
[camrelay]
data_dir = "{self.data}"
control_socket = "{self.socket}"

[[source]]
type = "usb"
port = "disk:{self.card}"
poll_interval = 1

[device.phone]
{device}

{trigger}

[sink.phone]
type = "sftp"
url = "sftp://root@{{device_ip}}:{self.proxy.port}{self.remote}"
key = "{self.key}"
known_hosts = "{self.known_hosts}"
device = "phone"
retry_min = 1
retry_max = 2
connect_timeout = 10

[[route]]
to = ["phone"]
""")

    def states(self):
        return dict(t.query(self.data, "SELECT state, COUNT(*) FROM jobs GROUP BY state"))

    def wait_queued(self, n):
        t.wait_for(lambda: os.path.exists(t.ledger_path(self.data)) and
                   sum(self.states().values()) == n, 60, what="%d jobs queued" % n)

    def assert_delivered_are_complete(self, photos):
        """Every job marked delivered names a file that is complete and byte-identical."""
        by_hash = t.hashes_under(self.remote)
        for (receipt,) in t.query(self.data, "SELECT receipt FROM jobs WHERE state='delivered'"):
            path = receipt.split(str(self.proxy.port), 1)[1]
            self.assertTrue(os.path.isfile(path), receipt)
            self.assertIn(t.sha256_file(path), {s for _p, s, _d in photos}, receipt)
        for sha, paths in by_hash.items():
            self.assertEqual(len(paths), 1, "duplicate of one photo: %s" % paths)

    def leave_mid_transfer(self, join, leave, photos):
        join()
        t.wait_for(lambda: self.uploading() > 256 * 1024, 60, interval=0.05,
                   what="an upload in progress")
        t0 = time.monotonic()
        leave()
        t.wait_for(lambda: self.states().get("running", 0) == 0, 10, interval=0.05,
                   what="the running delivery to stop")
        took = time.monotonic() - t0
        self.assertLess(took, 1.6, "cancelled within about a second")
        self.assertEqual(self.states().get("failed-transient", 0), 0, self.states())
        attempts = t.query(self.data, "SELECT MAX(attempts) FROM jobs WHERE state='pending'")
        self.assertEqual(attempts[0][0], 0, "the cut attempt is not counted")
        self.assert_delivered_are_complete(photos)
        # Absent: nothing moves.
        before = (self.uploading(), self.states())
        time.sleep(2)
        self.assertEqual((self.uploading(), self.states()), before)

    def finish(self, join, photos, d):
        join()
        t.wait_for(lambda: self.states().get("delivered", 0) == len(photos), 120,
                   what="every photo delivered")
        self.assertDeliveredExactly(self.remote, photos)
        events = [k for (k,) in t.query(self.data, "SELECT kind FROM events WHERE kind LIKE "
                                                   "'device-%' ORDER BY id")]
        self.assertGreaterEqual(events.count("device-joined"), 2, events)
        self.assertGreaterEqual(events.count("device-left"), 1, events)
        rc, _ = d.stop()
        self.assertEqual(rc, 0, d.output())

    def test_hostapd_control_socket(self):
        photos = self.make_big_photos(3)
        ctrl = os.path.join(self.tmp, "hostapd")
        os.makedirs(ctrl)
        hostapd = FakeHostapd(ctrl, "wlan0")
        self.addCleanup(hostapd.stop)
        cfg = self.config(f'mac = "{MAC.upper()}"\nip = "127.0.0.1"',
                          f'[trigger.hostapd]\nctrl_dir = "{ctrl}"\ninterfaces = ["wlan0"]\n'
                          'ping_interval = 1')
        d = self.daemon(["-c", cfg])
        t.wait_for(lambda: hostapd.client is not None, 30, what="ATTACH")
        self.wait_queued(3)
        time.sleep(1.5)
        self.assertEqual(self.states(), {"pending": 3}, "the phone is away: nothing runs")
        self.assertEqual(os.listdir(self.remote), [])
        self.leave_mid_transfer(lambda: hostapd.event("AP-STA-CONNECTED " + MAC),
                                lambda: hostapd.event("AP-STA-DISCONNECTED " + MAC), photos)
        self.assertGreaterEqual(hostapd.pings, 1)
        # Quick join/leave flapping: never a duplicate.
        for _ in range(3):
            hostapd.event("AP-STA-CONNECTED " + MAC)
            time.sleep(0.3)
            hostapd.event("AP-STA-DISCONNECTED " + MAC)
        self.finish(lambda: hostapd.event("AP-STA-CONNECTED " + MAC), photos, d)

    def test_hostapd_event_command(self):
        photos = self.make_big_photos(2)
        cfg = self.config(f'mac = "{MAC}"\nip = "127.0.0.1"')
        ev = lambda what: self.assertExit(t.run(["hostapd-event", "-c", cfg, "wlan0", what,
                                                 MAC.replace(":", "-")]), 0)
        # Other hostapd events are accepted and ignored; bad input is refused clearly.
        self.assertExit(t.run(["hostapd-event", "-c", cfg, "wlan0", "AP-ENABLED"]), 0)
        p = t.run(["hostapd-event", "-c", cfg, "wlan0", "AP-STA-CONNECTED", MAC])
        self.assertExit(p, 1, "no daemon yet")
        self.assertIn("no camrelay daemon is running", p.stderr)
        p = t.run(["hostapd-event", "-c", cfg, "wlan0", "AP-STA-CONNECTED", "$(reboot)"])
        self.assertExit(p, 2)
        self.assertIn("not a MAC address", p.stderr)
        d = self.daemon(["-c", cfg])
        t.wait_for(lambda: os.path.exists(self.socket), 30, what="the control socket")
        self.assertEqual(os.stat(self.socket).st_mode & 0o777, 0o660)
        self.wait_queued(2)
        self.leave_mid_transfer(lambda: ev("AP-STA-CONNECTED"),
                                lambda: ev("AP-STA-DISCONNECTED"), photos)
        self.finish(lambda: ev("AP-STA-CONNECTED"), photos, d)

    def test_dhcp_event_command(self):
        photos = self.make_big_photos(2)
        cfg = self.config(f'mac = "{MAC}"\nhostname = "pixel-7"')  # no fixed ip: DHCP tells it
        env = {"CAMRELAY_SOCKET": self.socket}
        dhcp = lambda *args: self.assertExit(t.run(["dhcp-event"] + list(args), env_extra=env), 0)
        d = self.daemon(["-c", cfg])
        t.wait_for(lambda: os.path.exists(self.socket), 30, what="the control socket")
        self.wait_queued(2)
        dhcp("init")
        dhcp("tftp", "1234", "127.0.0.1", "/srv/tftp/pxelinux.0")
        p = t.run(["dhcp-event", "add", MAC, "300.1.1.1"], env_extra=env)
        self.assertExit(p, 2)
        self.assertIn("not an IPv4 or IPv6 address", p.stderr)
        time.sleep(1)
        self.assertEqual(self.states(), {"pending": 2})
        self.leave_mid_transfer(lambda: dhcp("add", MAC, "127.0.0.1", "pixel-7"),
                                lambda: dhcp("del", MAC, "127.0.0.1", "pixel-7"), photos)
        # A renewal with a randomised MAC is recognised by its host name.
        self.finish(lambda: dhcp("old", "0a:00:00:00:00:01", "127.0.0.1", "pixel-7"), photos, d)
        self.assertIn("address 127.0.0.1", d.output())

    def test_probe(self):
        photos = self.photos(2)
        cfg = self.config(f'mac = "{MAC}"\nip = "127.0.0.1"\nprobe = "tcp:{self.proxy.port}"\n'
                          'probe_interval = 1\nprobe_timeout = 1')
        d = self.daemon(["-c", cfg])
        t.wait_for(lambda: os.path.exists(t.ledger_path(self.data)) and
                   self.states().get("delivered", 0) == 2, 60, what="delivery after the probe")
        self.assertDeliveredExactly(self.remote, photos)
        # (Absence needs a host that does not answer at all; on loopback a closed port answers
        # with a reset, which counts as present. TriggerPresence covers a failed probe.)
        events = [k for (k,) in t.query(self.data, "SELECT kind FROM events WHERE kind LIKE "
                                                   "'device-%'")]
        self.assertEqual(events, ["device-joined"])
        rc, _ = d.stop()
        self.assertEqual(rc, 0, d.output())


if __name__ == "__main__":
    unittest.main()
