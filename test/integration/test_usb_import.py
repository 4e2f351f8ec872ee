"""`camrelay import` from a USB camera (libgphoto2's Directory Browse driver over a card folder):
everything arrives once, byte-identical; what the ledger knows is never fetched again, whatever
the destination names look like; gphoto2 --skip-existing compared; --to DIR; status --json."""

import datetime
import os
import re
import shutil
import unittest

import camrelay_testlib as t


def config_text(data, card, path_template, sink="archive"):
    return f"""\
[camrelay]
data_dir = "{data}"

[[source]]
type = "usb"
port = "disk:{card}"

[sink.{sink}]
type = "folder"
path = "{path_template}"

[[route]]
to = ["{sink}"]
"""


class UsbImport(t.CamrelayTestCase):

    def import_(self, *extra, faults=None):
        return t.run(["import", "-q"] + list(extra), faults=faults)

    def test_skip_known_with_date_rename_template_and_gphoto2_comparison(self):
        # Two folders on the card, the same file name in both, capture dates in two years.
        d = datetime.datetime
        first = self.photos(3, dates=[d(2023, 12, 31, 23, 59, 1), d(2024, 1, 1, 0, 0, 2),
                                      d(2024, 5, 1, 12, 0, 3)])
        first += self.photos(["IMG_0001.JPG", "DSCF0100.JPG"], folder="DCIM/101TEST",
                             make="Canon", model="EOS 400D",
                             dates=[d(2024, 5, 1, 13, 0, 0), d(2024, 5, 2, 9, 30, 0)])
        cfg = self.write_config(config_text(
            self.data, self.card, self.dest + "/{date:%Y}/{date:%Y-%m-%d}/{stem}-{seq}.{ext}"))

        # 1st import: everything, byte-identical, at its date-based name.
        p = self.import_("-c", cfg)
        self.assertExit(p, 0)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["downloaded"], s["known"], s["delivered"], s["failed"],
                          s["cameras"]), (5, 5, 0, 5, 0, 1), p.stdout)
        self.assertDeliveredExactly(self.dest, first)
        delivered = t.files_under(self.dest)
        self.assertEqual(len(delivered), 5)
        src_by_hash = {sha: (path, when) for path, sha, when in first}
        seqs = []
        for path in delivered:
            src, when = src_by_hash[t.sha256_file(path)]
            rel = os.path.relpath(path, self.dest)
            stem = os.path.splitext(os.path.basename(src))[0]
            m = re.fullmatch(r"(\d{4})/(\d{4}-\d{2}-\d{2})/(.+)-(\d+)\.JPG", rel)
            self.assertIsNotNone(m, rel)
            self.assertEqual(m.group(1), when.strftime("%Y"), rel)
            self.assertEqual(m.group(2), when.strftime("%Y-%m-%d"), rel)
            self.assertEqual(m.group(3), stem, rel)
            seqs.append(int(m.group(4)))
        self.assertEqual(sorted(seqs), [1, 2, 3, 4, 5])
        # The delivered copies still carry the camera's EXIF.
        exif = t.read_exif(delivered)
        for path in delivered:
            src, when = src_by_hash[t.sha256_file(path)]
            self.assertEqual(exif[path]["DateTimeOriginal"], when.strftime("%Y:%m:%d %H:%M:%S"))
            self.assertIn(exif[path]["Make"], ("FUJIFILM", "Canon"))
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM assets"), 5)
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM events WHERE kind='arrived'"), 5)

        # 2nd import: nothing new, nothing fetched, nothing delivered, nothing touched.
        before = {p_: os.stat(p_).st_mtime_ns for p_ in delivered}
        p = self.import_("-c", cfg)
        self.assertExit(p, 0)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["downloaded"], s["resumed"], s["known"], s["delivered"],
                          s["failed"]), (0, 0, 0, 5, 0, 0), p.stdout)
        self.assertEqual(s["bytes"], "0 B")
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM assets"), 5)
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM events WHERE kind='arrived'"), 5)
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM jobs"), 5)
        self.assertEqual({p_: os.stat(p_).st_mtime_ns for p_ in t.files_under(self.dest)}, before)

        # Three new photos: exactly three fetches and three deliveries.
        new = self.photos(3, first_index=50, dates=[d(2025, 2, 3, 4, 5, 6 + i) for i in range(3)])
        p = self.import_("-c", cfg)
        self.assertExit(p, 0)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["downloaded"], s["known"], s["delivered"], s["failed"]),
                         (3, 3, 5, 3, 0), p.stdout)
        self.assertDeliveredExactly(self.dest, first + new)
        added = sorted(set(t.files_under(self.dest)) - set(delivered))
        self.assertEqual(len(added), 3)
        self.assertEqual({t.sha256_file(a) for a in added}, {sha for _p, sha, _d in new})
        for a in added:
            self.assertTrue(os.path.relpath(a, self.dest).startswith("2025/2025-02-03/"), a)
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM events WHERE kind='arrived'"), 8)
        all_photos = first + new

        # gphoto2 --skip-existing, by comparison, decides by the local file name only.
        gdir = os.path.join(self.tmp, "gphoto2-out")
        ghome = os.path.join(self.tmp, "gphoto2-home")
        os.makedirs(gdir)
        os.makedirs(ghome)
        gargs = ["--port", "disk:" + self.card, "--camera", "Directory Browse", "-P",
                 "--skip-existing", "--filename", "%Y%m%d-%f.%C"]

        def gphoto2_run():
            g = t.gphoto2(gargs, cwd=gdir, home=ghome)
            self.assertEqual(g.returncode, 0, g.stdout + g.stderr)
            return (len(re.findall(r"^Saving file as ", g.stdout, re.M)),
                    len(re.findall(r"^Skip existing file ", g.stdout, re.M)))

        saved, skipped = gphoto2_run()
        # /DCIM/100TEST/IMG_0001.JPG and /DCIM/101TEST/IMG_0001.JPG expand to the same
        # "%Y%m%d-%f.%C" (the date is the file's mtime, today), so --skip-existing takes the
        # second for the first and never saves it: 7 saved, 1 (different!) photo skipped.
        self.assertEqual((saved, skipped), (7, 1))
        got = t.hashes_under(gdir)
        self.assertEqual(set(got) - {sha for _p, sha, _d in all_photos}, set())
        self.assertEqual(len(got), 7)

        # What is actually true of gphoto2 2.5.28 here: Directory Browse reports the file's
        # mtime, gphoto2 expands %Y%m%d from it, so the second run produces the same names and
        # --skip-existing skips them all as long as the files stay where gphoto2 put them.
        saved, skipped = gphoto2_run()
        self.assertEqual((saved, skipped), (0, 8))

        # But that check is only "does a file of that name exist here". Once the downloads are
        # renamed into a date tree (what any photo manager, or a renaming template, does),
        # gphoto2 fetches every photo again, while camrelay's ledger still knows them all.
        for f in t.files_under(gdir):
            target = os.path.join(self.tmp, "sorted", "gphoto2", os.path.basename(f)[:8],
                                  "renamed-" + os.path.basename(f))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.move(f, target)
        shutil.move(self.dest, os.path.join(self.tmp, "sorted", "camrelay"))
        saved, skipped = gphoto2_run()
        self.assertEqual((saved, skipped), (7, 1), "gphoto2 downloads everything again")

        p = self.import_("-c", cfg)
        self.assertExit(p, 0)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["downloaded"], s["known"], s["delivered"]), (0, 0, 8, 0),
                         p.stdout)
        self.assertFalse(os.path.exists(self.dest), "camrelay delivered again")
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM events WHERE kind='arrived'"), 8)

    def test_import_to_dir(self):
        photos = self.photos(4)
        # The same name in another folder: the folder sink keeps both (rename on collision).
        other = self.photos(["IMG_0002.JPG"], folder="DCIM/101TEST")
        p = self.import_("--camera", "disk:" + self.card, "--to", self.dest,
                         "--data-dir", self.data)
        self.assertExit(p, 0)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["downloaded"], s["delivered"], s["failed"]), (5, 5, 5, 0))
        self.assertDeliveredExactly(self.dest, photos + other)
        names = sorted(os.path.relpath(f, self.dest) for f in t.files_under(self.dest))
        self.assertEqual(names, ["IMG_0001.JPG", "IMG_0002-1.JPG", "IMG_0002.JPG",
                                 "IMG_0003.JPG", "IMG_0004.JPG"])
        # Nothing went to the default sink under the data dir.
        self.assertFalse(os.path.exists(os.path.join(self.data, "photos")))

        p = self.import_("--camera", "disk:" + self.card, "--to", self.dest,
                         "--data-dir", self.data)
        self.assertExit(p, 0)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["downloaded"], s["known"], s["delivered"]), (0, 5, 0))
        self.assertEqual(len(t.files_under(self.dest)), 5)

    def test_status_json_reports_camera_and_counts(self):
        photos = self.photos(4)
        empty = t.status_json(self.data)
        self.assertFalse(empty["exists"])

        p = self.import_("--camera", "disk:" + self.card, "--data-dir", self.data)
        self.assertExit(p, 0)
        st = t.status_json(self.data)
        self.assertTrue(st["exists"])
        self.assertEqual(st["ledger"], t.ledger_path(os.path.abspath(self.data)))
        self.assertEqual(len(st["cameras"]), 1, st)
        cam = st["cameras"][0]
        self.assertEqual(cam["identity"], "disk:" + os.path.realpath(self.card))
        self.assertEqual(cam["port"], "disk:" + self.card)
        self.assertEqual(cam["model"], "Directory Browse")
        self.assertEqual(cam["name"], "card")
        self.assertEqual(cam["objects"], 4)
        self.assertEqual(st["queue"], {"photos": {"pending": 0, "running": 0, "delivered": 4,
                                                  "failed-transient": 0, "failed-permanent": 0,
                                                  "cancelled": 0}})
        self.assertEqual(len(st["recent_deliveries"]), 4)
        self.assertEqual(st["recent_failures"], [])
        self.assertEqual(st["retrying"], [])
        # The default sink: DATA/photos/{camera}/{date}/{name}.
        self.assertDeliveredExactly(os.path.join(self.data, "photos"), photos)
        for e in st["recent_deliveries"]:
            self.assertEqual(e["kind"], "delivered")
            self.assertRegex(e["message"], r"^photos: .*/photos/card/2024-05-01/IMG_000\d\.JPG$")


if __name__ == "__main__":
    unittest.main()
