"""Streaming mode (spool = "none") for boxes without storage: a Directory Browse USB camera, the
owner's phone played by a real OpenSSH sshd behind a throttling proxy (so a transfer takes
seconds), presence through `camrelay hostapd-event`. Join -> photos are streamed camera -> sftp,
byte-identical, and the spool stays empty; leave mid-transfer -> the stream stops within about a
second and nothing is recorded for the cut photo; join again -> the rest arrives, nothing twice.
Also: `config check` refuses spool = "none" with a route to a sink that cannot stream."""

import os
import time
import unittest

import camrelay_testlib as t
from test_router_phone import MAC, PhoneTestCase
from test_ssh_sinks import SSHD


@unittest.skipUnless(os.access(SSHD, os.X_OK) and os.geteuid() == 0,
                     "needs OpenSSH's sshd and root (to run it on a loopback port)")
class StreamingMode(PhoneTestCase):

    def config(self, extra_sink=""):
        return self.write_config(f"""\
[camrelay]
data_dir = "{self.data}"
control_socket = "{self.socket}"
spool = "none"

[[source]]
type = "usb"
port = "disk:{self.card}"
poll_interval = 1

[device.phone]
mac = "{MAC}"
ip = "127.0.0.1"

[sink.phone]
type = "sftp"
url = "sftp://root@{{device_ip}}:{self.proxy.port}{self.remote}"
key = "{self.key}"
known_hosts = "{self.known_hosts}"
device = "phone"
retry_min = 1
retry_max = 2
connect_timeout = 10
{extra_sink}
[[route]]
to = ["phone"]
""")

    def delivered(self):
        if not os.path.exists(t.ledger_path(self.data)):
            return 0
        return t.scalar(self.data, "SELECT COUNT(*) FROM jobs WHERE state='delivered'")

    def assert_spool_empty(self):
        spool = os.path.join(self.data, "spool")
        self.assertEqual(t.files_under(spool) if os.path.isdir(spool) else [], [],
                         "streaming mode never writes the spool")

    def assert_recorded_are_complete(self, photos):
        """Every recorded asset was delivered, to a complete byte-identical file."""
        want = {s for _p, s, _d in photos}
        rows = t.query(self.data, "SELECT a.sha256, a.spool_path, a.spool_state, j.state, "
                                  "j.receipt FROM assets a JOIN jobs j ON j.asset_id=a.id")
        for sha, spool_path, spool_state, state, receipt in rows:
            self.assertEqual((spool_path, spool_state, state), ("", "removed", "delivered"))
            self.assertIn(sha, want)
            path = receipt.split(str(self.proxy.port), 1)[1]
            self.assertEqual(t.sha256_file(path), sha, receipt)
        for sha, paths in t.hashes_under(self.remote).items():
            self.assertEqual(len(paths), 1, "duplicate of one photo: %s" % paths)

    def test_join_leave_join(self):
        photos = self.make_big_photos(3)
        cfg = self.config()
        self.assertExit(t.run(["config", "check", cfg]), 0)
        ev = lambda what: self.assertExit(t.run(["hostapd-event", "-c", cfg, "wlan0", what,
                                                 MAC]), 0)
        d = self.daemon(["-c", cfg])
        t.wait_for(lambda: os.path.exists(self.socket), 30, what="the control socket")
        time.sleep(2.5)  # two camera polls while the phone is away: nothing moves
        self.assertEqual(self.delivered(), 0)
        self.assertEqual(t.files_under(self.remote), [])
        if os.path.exists(t.ledger_path(self.data)):
            self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM assets"), 0)
            self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM events WHERE "
                                                 "kind='fetch-failed'"), 0,
                             "an absent phone is no failure")

        # Join, then leave while the first photo is on its way.
        ev("AP-STA-CONNECTED")
        t.wait_for(lambda: self.uploading() > 256 * 1024, 60, interval=0.05,
                   what="a stream in progress")
        t0 = time.monotonic()
        ev("AP-STA-DISCONNECTED")
        t.wait_for(lambda: "stopped after" in d.output(), 10, interval=0.05,
                   what="the stream to stop")
        self.assertLess(time.monotonic() - t0, 1.6, "cancelled within about a second")
        cut = self.uploading()
        self.assertGreater(cut, 0)
        self.assertLess(cut, os.path.getsize(photos[0][0]))
        self.assert_recorded_are_complete(photos)
        recorded = t.scalar(self.data, "SELECT COUNT(*) FROM assets")
        self.assertLess(recorded, 3)
        before = (self.uploading(), recorded)
        time.sleep(2)
        self.assertEqual((self.uploading(), t.scalar(self.data, "SELECT COUNT(*) FROM assets")),
                         before, "the phone is away: nothing moves")

        # Join again: the rest arrives, the cut photo whole, nothing twice.
        ev("AP-STA-CONNECTED")
        t.wait_for(lambda: self.delivered() == 3, 120, what="every photo delivered")
        self.assertDeliveredExactly(self.remote, photos)
        self.assert_recorded_are_complete(photos)
        self.assert_spool_empty()
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM assets"), 3)
        rc, _ = d.stop()
        self.assertEqual(rc, 0, d.output())
        # A restart finds everything known: nothing is streamed again.
        d2 = self.daemon(["-c", cfg], log_name="daemon2.log")
        t.wait_for(lambda: "listed 3 files, 0 new" in d2.output(), 30, what="a rescan")
        rc, _ = d2.stop()
        self.assertEqual(rc, 0, d2.output())
        self.assertDeliveredExactly(self.remote, photos)

    def test_refuses_sinks_that_cannot_stream(self):
        cfg = self.write_config(f"""\
[camrelay]
data_dir = "{self.data}"
spool = "none"

[[source]]
type = "usb"
port = "disk:{self.card}"

[sink.run]
type = "shell"
command = ["/bin/true", "{{path}}"]

[[route]]
to = ["run"]
""")
        p = t.run(["config", "check", cfg])
        self.assertExit(p, 2)
        self.assertIn("sink run (type shell) cannot stream", p.stderr + p.stdout)
        p = t.run(["run", "-c", cfg])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("cannot stream", p.stderr)


if __name__ == "__main__":
    unittest.main()
