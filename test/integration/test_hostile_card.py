"""A stranger's card (a `disk:` folder) that plays the attacker: a symlink to a file outside the
card whose link text is padded to the target's length (so lstat and stat give the same size), a
symlinked folder, a FIFO and a socket named like photos, a device node (root only), next to good
photos. camrelay must fetch the good photos, never a byte from outside the card, never block,
name every refused entry, exit 3 (left on the camera), and keep them as unreadable events; a read that never returns
must not hold up a stop (SIGTERM to `run`, and to `import`)."""

import os
import signal
import socket
import subprocess
import time
import unittest

import camrelay_testlib as t


class HostileCard(t.CamrelayTestCase):

    def build_card(self):
        good = self.photos(3)
        folder = os.path.join(self.card, t.CARD_FOLDER)
        outside_dir = os.path.join(self.tmp, "outside")
        os.makedirs(outside_dir)
        # The padded link: "/tmp/.../outside/////secret" points at a file of exactly as many
        # bytes as the link text, so Directory Browse's lstat size matches what it would read.
        secret = os.path.join(outside_dir, "secret")
        link_text = outside_dir + "////secret"
        self.outside_bytes = (b"OUTSIDE-SECRET-" * 64)[:len(link_text)]
        with open(secret, "wb") as f:
            f.write(self.outside_bytes)
        os.symlink(link_text, os.path.join(folder, "IMG_0100.JPG"))
        self.assertEqual(os.lstat(os.path.join(folder, "IMG_0100.JPG")).st_size,
                         os.stat(secret).st_size)
        # A symlinked folder (to a folder outside holding a "photo").
        t.make_photos(outside_dir, ["IMG_0200.JPG"], self.work, folder="DCIMX")
        os.symlink(os.path.join(outside_dir, "DCIMX"), os.path.join(self.card, "DCIM", "101LINK"))
        # A FIFO named like a photo: Directory Browse's open() would block on it for ever.
        os.mkfifo(os.path.join(folder, "IMG_0002X.JPG"))
        # A socket named like a photo.
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(self.sock.close)
        self.sock.bind(os.path.join(folder, "IMG_0300.JPG"))
        refused = {"IMG_0100.JPG": "symlink", "101LINK": "symlink", "IMG_0002X.JPG": "FIFO",
                   "IMG_0300.JPG": "socket"}
        if os.geteuid() == 0:
            os.mknod(os.path.join(folder, "IMG_0400.JPG"), 0o644 | 0o020000, os.makedev(1, 5))
            refused["IMG_0400.JPG"] = "character device"
        return good, refused

    def assert_nothing_from_outside(self):
        for root in (self.dest, self.data):
            if not os.path.exists(root):
                continue
            for p in t.files_under(root):
                with open(p, "rb") as f:
                    data = f.read()
                self.assertNotIn(b"OUTSIDE-SECRET", data, p)
                self.assertNotIn(b"IMG_0200", os.path.basename(p).encode(), p)

    def import_(self):
        t0 = time.monotonic()
        p = t.run(["import", "-q", "--camera", "disk:" + self.card, "--to", self.dest,
                   "--data-dir", self.data], timeout=60)
        self.assertLess(time.monotonic() - t0, 30, "import took too long:\n" + p.stderr)
        return p

    def test_refuses_links_fifos_devices_and_fetches_the_rest(self):
        good, refused = self.build_card()
        p = self.import_()
        self.assertExit(p, t.EXIT_LEFT_ON_CAMERA)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["delivered"]), (3, 3), p.stdout)
        self.assertDeliveredExactly(self.dest, good)
        self.assert_nothing_from_outside()
        # Every refused entry is named in stderr with why.
        for name, kind in refused.items():
            lines = [l for l in p.stderr.splitlines() if name in l]
            self.assertTrue(any("not a regular file inside the card: " + kind in l for l in lines),
                            "%s (%s) not reported:\n%s" % (name, kind, p.stderr))
        self.assertIn("%d entries could not be read" % len(refused), p.stderr)
        # The padded link names where it points.
        self.assertRegex(p.stderr, r"IMG_0100\.JPG could not be read: not a regular file inside "
                                   r"the card: symlink to /\S*outside/+secret")
        # Each is an unreadable event in the ledger, none is known.
        events = t.query(self.data, "SELECT message FROM events WHERE kind='unreadable'")
        self.assertEqual(len(events), len(refused), events)
        for name in refused:
            self.assertEqual(len([e for e in events if name in e[0]]), 1, (name, events))
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM assets"), 3)
        st = t.status_json(self.data)
        self.assertEqual(st["cameras"][0]["objects"], 3)

        # Again: nothing new is fetched, the refused entries are reported again, still exit 3 (left on the camera).
        p = self.import_()
        self.assertExit(p, t.EXIT_LEFT_ON_CAMERA)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["known"]), (0, 3), p.stdout)
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM events WHERE kind='unreadable'"),
                         2 * len(refused))
        self.assert_nothing_from_outside()

        # Once the card holds regular files only, the import is clean.
        folder = os.path.join(self.card, t.CARD_FOLDER)
        for name in refused:
            path = os.path.join(folder, name) if name != "101LINK" else \
                os.path.join(self.card, "DCIM", name)
            os.unlink(path)
        more = self.photos(["IMG_0100.JPG"], first_index=100)
        p = self.import_()
        self.assertExit(p, 0)
        self.assertDeliveredExactly(self.dest, good + more)

    def test_names_with_control_characters_are_logged_escaped(self):
        self.photos(1)
        folder = os.path.join(self.card, t.CARD_FOLDER)
        evil = "IMG\n2026-01-01 00:00:00.000 info  [usb] forged\x1b[2J.JPG"
        os.symlink("/nonexistent", os.path.join(folder, evil))
        p = self.import_()
        self.assertExit(p, t.EXIT_LEFT_ON_CAMERA)
        self.assertNotIn("\x1b", p.stderr)
        self.assertNotIn("\n2026-01-01", p.stderr)
        self.assertIn("IMG\\n2026-01-01 00:00:00.000 info  [usb] forged\\x1b[2J.JPG", p.stderr)

    def test_too_deep_folders_are_reported_not_skipped(self):
        good = self.photos(1)
        deep = os.path.join(self.card, *["D%02d" % i for i in range(18)])
        os.makedirs(deep)
        t.make_photos(deep, ["IMG_0999.JPG"], self.work, folder=".")
        p = self.import_()
        self.assertExit(p, t.EXIT_LEFT_ON_CAMERA)
        self.assertDeliveredExactly(self.dest, good)
        self.assertRegex(p.stderr, r"/D00/.*/D15/D16 could not be read: folder nested more than "
                                   r"16 levels deep")
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM events WHERE kind='unreadable'"),
                         1)

    def wait_for_log(self, daemon, text, timeout=30):
        return t.wait_for(lambda: text in daemon.output(), timeout, what=repr(text))

    def test_sigterm_with_a_stuck_read_returns_within_the_grace(self):
        self.photos(2)
        d = self.daemon(["--data-dir", self.data, "--camera", "disk:" + self.card, "--log-level", "info"],
                        faults="usb.stall=EIO@1")
        self.wait_for_log(d, "listed 2 files, 2 new")
        time.sleep(1)  # the first read is stuck now
        rc, took = d.stop(signal.SIGTERM, timeout=40)
        out = d.output()
        self.assertEqual(rc, 0, out)
        self.assertLess(took, 20, out)
        self.assertIn("thread is abandoned", out)
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM events WHERE kind='camera-stuck'"),
                         1)

    def test_sigterm_to_import_with_a_stuck_read_returns_within_the_grace(self):
        self.photos(2)
        log = open(os.path.join(self.tmp, "import.log"), "wb")
        self.addCleanup(log.close)
        proc = subprocess.Popen([t.BIN, "import", "-q", "--log-level", "info", "--camera",
                                 "disk:" + self.card, "--to", self.dest, "--data-dir", self.data],
                                stdout=log, stderr=subprocess.STDOUT,
                                env=t.env_for("usb.stall=EIO@1"))
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait()))

        def output():
            with open(os.path.join(self.tmp, "import.log"), "r", errors="replace") as f:
                return f.read()
        t.wait_for(lambda: "listed 2 files" in output(), 30, what="the listing")
        time.sleep(1)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=40)
        took = time.monotonic() - t0
        self.assertEqual(rc, t.EXIT_LEFT_ON_CAMERA, output())  # photos left on the card
        self.assertLess(took, 20, output())
        self.assertIn("thread is abandoned", output())
        self.assertIn("(interrupted)", output())


if __name__ == "__main__":
    unittest.main()
