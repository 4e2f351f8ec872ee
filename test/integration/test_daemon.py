"""`camrelay run`: the daemon polls a Directory Browse camera, picks up photos added while it
runs, and stops cleanly (exit 0) on SIGINT and SIGTERM."""

import os
import signal
import time
import unittest

import camrelay_testlib as t


class Daemon(t.CamrelayTestCase):

    def delivered(self):
        if not os.path.exists(t.ledger_path(self.data)):
            return 0
        return t.job_states(self.data).get("delivered", 0)

    def test_picks_up_new_photos_and_stops_on_sigint(self):
        first = self.photos(2)
        d = self.daemon(["--camera", "disk:" + self.card, "--data-dir", self.data])
        t.wait_for(lambda: self.delivered() == 2, 20, what="the first two deliveries")
        photos_dir = os.path.join(self.data, "photos")
        self.assertDeliveredExactly(photos_dir, first)

        # Photos appear on the card while the daemon runs (written whole, then renamed in).
        later = self.photos(3, first_index=10, atomic=True)
        t.wait_for(lambda: self.delivered() == 5, 30, what="the three new photos (poll)")
        self.assertDeliveredExactly(photos_dir, first + later)
        for f in t.files_under(photos_dir):
            self.assertRegex(os.path.relpath(f, photos_dir),
                             r"^card/2024-05-01/IMG_00(0[12]|1[012])\.JPG$")
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM assets"), 5)
        self.assertIsNone(d.proc.poll(), "the daemon exited on its own")

        rc, took = d.stop(signal.SIGINT, timeout=30)
        self.assertEqual(rc, 0, d.output())
        self.assertLess(took, 10, "SIGINT with nothing running should stop it at once")
        out = d.output()
        self.assertIn("signal 2 received", out)
        self.assertIn("stopped cleanly", out)
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM events WHERE kind='stopped'"), 1)
        self.assertEqual(t.integrity_check(self.data), "ok")
        st = t.status_json(self.data)
        self.assertEqual(st["queue"]["photos"]["delivered"], 5)
        self.assertEqual(st["cameras"][0]["objects"], 5)

        # Started again over the same card: nothing is fetched or delivered twice.
        d2 = self.daemon(["--camera", "disk:" + self.card, "--data-dir", self.data],
                         log_name="daemon2.log")
        t.wait_for(lambda: "listed 5 files, 0 new" in d2.output(), 20, what="a rescan")
        rc, _took = d2.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, d2.output())
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM assets"), 5)
        self.assertDeliveredExactly(photos_dir, first + later)

    def test_sigterm_while_idle_without_photos(self):
        d = self.daemon(["--camera", "disk:" + self.card, "--data-dir", self.data])
        t.wait_for(lambda: "ready" in d.output(), 20, what="the camera to open")
        time.sleep(0.3)
        rc, took = d.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, d.output())
        self.assertLess(took, 10)
        self.assertIn("stopped cleanly", d.output())

    def stuck_config(self, grace):
        return self.write_config(f"""\
[camrelay]
data_dir = "{self.data}"
shutdown_grace = {grace}

[[source]]
type = "usb"
port = "disk:{self.card}"

[sink.photos]
type = "folder"
path = "{self.dest}/{{name}}"

[[route]]
to = ["photos"]
""")

    def test_sigterm_leaves_a_stuck_camera_thread_behind(self):
        # The camera thread blocks for ever inside a fetch (CAMRELAY_FAULTS ingest.hang: as
        # libgphoto2's open() of a FIFO would), ignoring its stop request. SIGTERM must still end
        # the daemon within shutdown_grace, saying which camera thread it left behind.
        self.photos(3)
        grace = 2
        d = self.daemon(["-c", self.stuck_config(grace)], faults="ingest.hang=EIO@2")
        t.wait_for(lambda: "this thread blocks for ever" in d.output(), 20,
                   what="the camera thread to get stuck")
        self.assertTrue(t.wait_for(lambda: self.delivered() == 1, 20, what="the first photo"))
        rc, took = d.stop(signal.SIGTERM, timeout=grace + 20)
        out = d.output()
        self.assertEqual(rc, 1, out)
        self.assertLess(took, grace + 3, "SIGTERM waited for the stuck camera thread:\n" + out)
        self.assertGreaterEqual(took, grace - 0.5, "the stuck thread was not given its grace")
        self.assertIn("did not stop within 2 s of the stop signal", out)
        self.assertIn("leaving 1 stuck camera thread(s) behind", out)
        self.assertNotIn("stopped cleanly", out)
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM events WHERE kind='abandoned'"),
                         1)
        self.assertEqual(t.integrity_check(self.data), "ok")
        # Nothing was lost: the next run, without the fault, fetches the rest.
        d2 = self.daemon(["-c", self.stuck_config(grace)], log_name="daemon2.log")
        t.wait_for(lambda: self.delivered() == 3, 30, what="the other photos")
        rc, took = d2.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, d2.output())

    def test_sigterm_ends_an_import_stuck_in_a_camera_thread(self):
        self.photos(2)
        grace = 2
        p = t.subprocess.Popen([t.BIN, "import", "-q", "-c", self.stuck_config(grace)],
                               stdout=t.subprocess.PIPE, stderr=t.subprocess.PIPE, text=True,
                               env=t.env_for("ingest.hang=EIO"))
        try:
            deadline = time.monotonic() + 20
            while not os.path.exists(t.ledger_path(self.data)) and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.0)  # listed, now stuck in the first fetch
            self.assertIsNone(p.poll(), "the import ended although its camera thread hangs")
            t0 = time.monotonic()
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=grace + 20)
            took = time.monotonic() - t0
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertLess(took, grace + 3, err)
        self.assertGreaterEqual(took, grace - 0.5, err)
        self.assertEqual(p.returncode, t.EXIT_LEFT_ON_CAMERA, out + err)
        s = t.parse_summary(out)
        self.assertTrue(s["interrupted"])
        self.assertEqual((s["new"], s["not_fetched"]), (0, 2), out)
        self.assertIn("did not stop within 2 s of the stop signal", err)


class ObjectsLeftOnCamera(t.CamrelayTestCase):
    """What a failed transfer leaves on the camera is counted by import, shown by status for as
    long as it lasts, and gone from status once a later import stored it."""

    def test_status_shows_what_is_left_until_it_arrives(self):
        photos = self.photos(3, big=True)
        args = ["import", "-q", "--camera", "disk:" + self.card, "--to", self.dest,
                "--data-dir", self.data]
        p = t.run(args, faults="usb.read=EIO@2")  # the first photo breaks after 64 KiB
        self.assertExit(p, t.EXIT_LEFT_ON_CAMERA)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["not_fetched"], s["unreadable"], s["delivered"]), (2, 1, 0, 2),
                         p.stdout)
        self.assertRegex(s["bytes"], r"^\d+\.\d kB$")  # SI: two ~250 kB photos
        self.assertRegex(p.stderr, r"  not fetched: card /DCIM/100TEST/IMG_0001\.JPG: .*"
                                   r"Input/output error after \d+ of \d+ bytes")

        st = t.status_json(self.data)
        cam = st["cameras"][0]
        self.assertEqual((cam["objects"], cam["not_fetched"], cam["unreadable"]), (2, 1, 0), cam)
        self.assertEqual(len(cam["problems"]), 1)
        pr = cam["problems"][0]
        self.assertEqual((pr["object"], pr["kind"], pr["attempts"], pr["timeout"]),
                         ("/DCIM/100TEST/IMG_0001.JPG", "not-fetched", 1, False))
        self.assertIn("Input/output error", pr["reason"])
        self.assertEqual(cam["bytes"], sum(os.path.getsize(x) for x in t.files_under(self.dest)))
        text = t.run(["status", "--data-dir", self.data]).stdout
        self.assertIn("1 object(s) on card could not be fetched", text)
        self.assertIn("not fetched: /DCIM/100TEST/IMG_0001.JPG", text)

        p = t.run(args)
        self.assertExit(p, t.EXIT_OK)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["known"], s["not_fetched"], s["delivered"]), (1, 2, 0, 1))
        self.assertDeliveredExactly(self.dest, photos)
        cam = t.status_json(self.data)["cameras"][0]
        self.assertEqual((cam["objects"], cam["not_fetched"], cam["problems"]), (3, 0, []), cam)
        self.assertNotIn("could not be", t.run(["status", "--data-dir", self.data]).stdout)


if __name__ == "__main__":
    unittest.main()
