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


if __name__ == "__main__":
    unittest.main()
