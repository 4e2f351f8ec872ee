"""`camrelay run` finding a Wi-Fi camera by SSDP: a "ptpip" source with `discover = true` and no
address listens on UDP `ssdp_port` (a free port on loopback here, instead of 1900 and the
multicast group); the test plays the camera's announcement itself, unicast to 127.0.0.1, and the
camera simulator (`camrelay sim ptpip`) plays the camera.

The announcement is Sony "Send to Computer" style (NT urn:microsoft-com:service:MtpNullService:1;
the exact datagram of a real Sony is unverified). Its LOCATION names the host; the PTP/IP port is
not in the announcement (real cameras use 15740), so the config points `ssdp_ptpip_port` at the
simulator's port. LOCATION's own port (the device description's) is deliberately another one.

* a router's InternetGatewayDevice NOTIFY, malformed datagrams and a camera byebye start nothing;
* the camera's ssdp:alive starts a pull: every photo arrives byte-identical in the folder sink;
* repeated alives while the camera is being pulled from start no second connection;
* SIGTERM stops the daemon promptly.

Skipped when the binary has no `sim` subcommand."""

import os
import socket
import time
import unittest

import camrelay_testlib as t
from test_ptpip_import import SIM, Simulator, free_port


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SONY_USN = "uuid:00000000-0000-0010-8000-3ae1e0a6b1c2::urn:microsoft-com:service:MtpNullService:1"


def notify(nt, nts, location=None, usn=None):
    lines = ["NOTIFY * HTTP/1.1", "HOST: 239.255.255.250:1900", "CACHE-CONTROL: max-age=1800"]
    if location:
        lines.append("LOCATION: " + location)
    lines += ["NT: " + nt, "NTS: " + nts, "SERVER: UPnP/1.0 test/1.0"]
    lines.append("USN: " + (usn or "uuid:test::" + nt))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def sony_alive(desc_port):
    return notify("urn:microsoft-com:service:MtpNullService:1", "ssdp:alive",
                  "http://127.0.0.1:%d/DeviceDescription.xml" % desc_port, SONY_USN)


def sony_byebye():
    return notify("urn:microsoft-com:service:MtpNullService:1", "ssdp:byebye", usn=SONY_USN)


def router_alive():
    return notify("urn:schemas-upnp-org:device:InternetGatewayDevice:1", "ssdp:alive",
                  "http://127.0.0.1:5000/rootDesc.xml")


def config_text(data, dest, ssdp_port, ptpip_port):
    return f"""\
[camrelay]
data_dir = "{data}"
log_level = "debug"

[[source]]
type = "ptpip"
discover = true
ssdp_port = {ssdp_port}
ssdp_bind = "127.0.0.1"
ssdp_ptpip_port = {ptpip_port}
poll_interval = 1
reconnect_min = 1
reconnect_max = 2

[sink.archive]
type = "folder"
path = "{dest}/{{name}}"

[[route]]
to = ["archive"]
"""


@unittest.skipUnless(SIM, "camrelay has no `sim` subcommand (the camera simulator) yet")
class SsdpDiscovery(t.CamrelayTestCase):

    def send(self, port, payload):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(payload, ("127.0.0.1", port))

    def delivered(self):
        return t.files_under(self.dest) if os.path.isdir(self.dest) else []

    def test_announced_camera_is_pulled_and_others_ignored(self):
        photos = self.photos(5)
        folder = os.path.join(self.card, t.CARD_FOLDER)
        sim = Simulator("ptpip", folder, os.path.join(self.tmp, "sim.log"))
        self.addCleanup(sim.stop)
        ssdp_port = free_udp_port()
        cfg = self.write_config(config_text(self.data, self.dest, ssdp_port, sim.port))
        d = self.daemon(["-c", cfg])
        t.wait_for(lambda: "listening for cameras announcing themselves" in d.output(), 30,
                   what="the SSDP listener")

        # Unrelated devices, junk and a byebye: nothing is connected to.
        self.send(ssdp_port, router_alive())
        self.send(ssdp_port, b"\x00\xff garbage \r\n\r\n")
        self.send(ssdp_port, b"NOTIFY * HTTP/1.1\r\nNTS: ssdp:alive\r\n\r\n")
        self.send(ssdp_port, sony_byebye())
        # A camera's announcement whose LOCATION names another host than the sender: a stranger
        # pointing us elsewhere; ignored.
        self.send(ssdp_port, notify("urn:microsoft-com:service:MtpNullService:1", "ssdp:alive",
                                    "http://127.0.0.2:%d/DeviceDescription.xml" % free_port(),
                                    SONY_USN))
        t.wait_for(lambda: "said ssdp:byebye" in d.output(), 10, what="the byebye in the log")
        t.wait_for(lambda: "that names another host (127.0.0.2)" in d.output(), 10,
                   what="the mismatched LOCATION ignored")
        time.sleep(2)
        out = d.output()
        self.assertNotIn("announced itself", out)
        self.assertNotIn("connected over Wi-Fi", out)
        self.assertEqual(self.delivered(), [])
        self.assertIn("InternetGatewayDevice", out)  # seen (debug log) and ignored

        # The camera announces itself (several times, as devices do): one pull.
        desc_port = free_port()
        for _ in range(3):
            self.send(ssdp_port, sony_alive(desc_port))
        t.wait_for(lambda: len(self.delivered()) == 5, 60, what="the announced camera's photos")
        self.assertDeliveredExactly(self.dest, photos)
        out = d.output()
        self.assertEqual(out.count("announced itself: pulling over PTP/IP port %d" % sim.port), 1,
                         out)

        rc, took = d.stop()
        self.assertEqual(rc, 0, d.output())
        self.assertLess(took, 10, d.output())

    def test_announcing_host_must_prove_to_be_a_camera(self):
        """A host that announces itself but whose DeviceInfo is no camera's: nothing is fetched,
        and its repeated announcements are not followed at once (backoff per host)."""
        from test_ptpip_hostile import HostileCamera
        peer = HostileCamera("notacamera")
        self.addCleanup(peer.stop)
        ssdp_port = free_udp_port()
        cfg = self.write_config(config_text(self.data, self.dest, ssdp_port, peer.port))
        d = self.daemon(["-c", cfg])
        t.wait_for(lambda: "listening for cameras announcing themselves" in d.output(), 30,
                   what="the SSDP listener")
        desc_port = free_port()
        self.send(ssdp_port, sony_alive(desc_port))
        t.wait_for(lambda: "DeviceInfo is not a camera's" in d.output(), 30,
                   what="the DeviceInfo check")
        for _ in range(20):
            self.send(ssdp_port, sony_alive(desc_port))
            time.sleep(0.1)
        time.sleep(1)
        out = d.output()
        self.assertEqual(out.count("announced itself: pulling"), 1, out)
        self.assertNotIn("connected over Wi-Fi", out)
        self.assertEqual(peer.object_requests, 0)
        self.assertEqual(self.delivered(), [])
        rc, took = d.stop()
        self.assertEqual(rc, 0, d.output())
        self.assertLess(took, 15, d.output())


if __name__ == "__main__":
    unittest.main()
