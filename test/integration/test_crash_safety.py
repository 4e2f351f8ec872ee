"""Crash safety: `camrelay run` over 200 photos is killed with SIGKILL at random moments twenty
times and restarted; in the end every photo is delivered exactly once, byte-identical, the ledger
is sound and no temp file is left at the destination. Then SIGTERM stops it with exit 0 within
the shutdown grace.

Set CAMRELAY_CRASH_SEED to replay a run (the seed used is printed)."""

import os
import random
import signal
import sys
import time
import unittest

import camrelay_testlib as t

PHOTOS = 200
KILLS = 20
GRACE = 5


class CrashSafety(t.CamrelayTestCase):

    def test_kill_9_twenty_times_then_everything_once(self):
        seed = int(os.environ.get("CAMRELAY_CRASH_SEED", random.SystemRandom().randrange(1 << 30)))
        print("\nCAMRELAY_CRASH_SEED=%d" % seed, file=sys.stderr)
        rng = random.Random(seed)

        # Half the photos are on the card from the start, the rest arrive five at a time
        # before each restart, so most runs are killed with work in hand (at this size a run
        # gets through a few hundred photos a second).
        photos = self.photos(PHOTOS // 2)
        per_run = (PHOTOS - len(photos)) // KILLS
        cfg = self.write_config(f"""\
[camrelay]
data_dir = "{self.data}"
shutdown_grace = {GRACE}

[[source]]
type = "usb"
port = "disk:{self.card}"
poll_interval = 1

[sink.archive]
type = "folder"
path = "{self.dest}/{{date:%Y-%m-%d}}/{{name}}"

[[route]]
to = ["archive"]
""")
        progress = []
        for i in range(KILLS):
            photos += self.photos(per_run, first_index=len(photos) + 1, atomic=True)
            d = self.daemon(["-c", cfg], log_name="run-%02d.log" % i)
            time.sleep(rng.uniform(0.05, 0.8))
            rc = d.kill9()
            self.assertEqual(rc, -signal.SIGKILL, "run %d ended before the kill:\n%s"
                             % (i, d.output()))
            delivered = 0
            if os.path.exists(t.ledger_path(self.data)):
                delivered = t.job_states(self.data).get("delivered", 0)
            progress.append("%d/%d" % (delivered, len(photos)))
        print("delivered/on the card after each kill: %s" % " ".join(progress), file=sys.stderr)
        self.assertEqual(len(photos), PHOTOS)
        self.assertEqual(len({sha for _p, sha, _d in photos}), PHOTOS)

        d = self.daemon(["-c", cfg], log_name="run-final.log")
        # Running for real (signals are taken by the daemon once the camera is being served).
        t.wait_for(lambda: "ready" in d.output(), 20, what="the final run to start")
        t.wait_for(lambda: t.job_states(self.data).get("delivered", 0) == PHOTOS, 120,
                   interval=0.25, what="all %d photos delivered" % PHOTOS)
        rc, took = d.stop(signal.SIGTERM, timeout=GRACE + 20)
        self.assertEqual(rc, 0, d.output())
        self.assertLess(took, GRACE + 2, "SIGTERM took longer than the shutdown grace")
        self.assertIn("stopped cleanly", d.output())

        # Exactly once, byte-identical, nothing else, no leftovers.
        self.assertEqual(len(t.files_under(self.dest)), PHOTOS)
        self.assertDeliveredExactly(self.dest, photos)
        for f in t.files_under(self.dest):
            self.assertRegex(os.path.relpath(f, self.dest), r"^2024-05-01/IMG_0\d{3}\.JPG$")
        self.assertEqual(t.integrity_check(self.data), "ok")

        # The ledger agrees: one object, one asset, one delivered job per photo.
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM objects"), PHOTOS)
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM assets"), PHOTOS)
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(DISTINCT sha256) FROM assets"), PHOTOS)
        self.assertEqual(set(r[0] for r in t.query(self.data, "SELECT sha256 FROM assets")),
                         {sha for _p, sha, _d in photos})
        self.assertEqual(t.job_states(self.data), {"delivered": PHOTOS})
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(DISTINCT receipt) FROM jobs"), PHOTOS)
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM cameras"), 1)

        # Every spooled copy is gone once all its deliveries are done (spool_keep =
        # until-delivered), also when a kill came between "delivered" and the removal.
        leaked = t.files_under(os.path.join(self.data, "spool"))
        self.assertEqual(leaked, [], "spooled copies of delivered photos left behind: %s"
                         % t.query(self.data, "SELECT a.name, a.spool_state, j.state FROM assets a "
                                              "JOIN jobs j ON j.asset_id = a.id WHERE a.spool_path "
                                              "IN (%s)" % ",".join("?" * len(leaked)),
                                   tuple(leaked)) if leaked else "")


if __name__ == "__main__":
    unittest.main()
