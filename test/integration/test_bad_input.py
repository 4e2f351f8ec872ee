"""Bad input and failing peers: invalid configs, hostile secret files (a FIFO, a link), a card
folder that is not there, a camera that goes away mid-transfer, an unwritable or full
destination. Each must end with a clear error and
the right exit code, and a later run without the fault must deliver everything exactly once."""

import os
import re
import time
import unittest

import camrelay_testlib as t


def folder_config(data, card, dest, extra_sink=""):
    return f"""\
[camrelay]
data_dir = "{data}"

[[source]]
type = "usb"
port = "disk:{card}"

[sink.photos]
type = "folder"
path = "{dest}/{{name}}"
{extra_sink}
[[route]]
to = ["photos"]
"""


class BadConfig(t.CamrelayTestCase):

    def check_problems(self, text, expected, name="bad.toml"):
        """`config check` and `import -c` both exit 2 and list exactly the expected
        (line, message fragment) problems, each as FILE:LINE: message."""
        cfg = self.write_config(text, name)
        for args in (["config", "check", cfg],
                     ["import", "-q", "-c", cfg, "--camera", "disk:" + self.card]):
            p = t.run(args)
            self.assertExit(p, 2, " ".join(args))
            lines = [l for l in p.stderr.splitlines() if l.startswith(cfg + ":")]
            for line, fragment in expected:
                hits = [l for l in lines if l.startswith("%s:%d: " % (cfg, line)) and fragment in l]
                self.assertEqual(len(hits), 1, "%s: want one '%s:%d: ...%s...' in stderr:\n%s"
                                 % (args[0], name, line, fragment, p.stderr))
            self.assertEqual(len(lines), len(expected),
                             "%s: problems listed:\n%s" % (args[0], p.stderr))
            if args[0] == "config":
                self.assertIn("%d problem(s) in %s" % (len(expected), cfg), p.stderr)
            else:
                self.assertFalse(os.path.exists(self.data), "import touched the data dir")
                self.assertNotIn("import:", p.stdout)

    def test_loader_problems_all_listed_with_lines(self):
        self.check_problems(f"""\
[camrelay]
data_dir = "{self.data}"
workers = 0
colour = "blue"

[[source]]
type = "usb"
port = 5

[sink.photos]
type = "folder"
path = "{self.dest}/{{name}}"
concurrency = 99

[sink.nowhere]
type = "ftp"

[[route]]
to = ["photos", "missing"]
type = ["image", "sound"]
""", [(3, "workers must be between 1 and 64"),
      (4, "unknown key 'colour'"),
      (8, "'port' must be a string"),
      (13, "concurrency must be between 1 and 32"),
      (16, "unknown type 'ftp'"),
      (19, "names sink 'missing'"),
      (20, "type 'sound' is not image, raw, video or other")])

    def test_plugin_problems_all_listed_with_lines(self):
        self.check_problems(f"""\
[camrelay]
data_dir = "{self.data}"

[[source]]
type = "usb"
port = "disk:{self.card}"
poll_interval = 0
order = "random"

[sink.photos]
type = "folder"
path = "relative/{{name}}"
collision = "explode"

[sink.run]
type = "shell"
command = ["/bin/true", "{{nope}}"]
timeout = 0

[[route]]
to = ["photos", "run"]
""", [(7, "poll_interval must be between 1 and 3600"),
      (8, "order must be oldest-first or newest-first"),
      (12, "path must be absolute"),
      (13, "collision must be rename, overwrite, skip or fail"),
      (17, "unknown placeholder {nope}"),
      (18, "timeout must be >= 1")])

    def test_loader_and_plugin_problems_in_one_file(self):
        # A general-section problem and a sink problem together: both must be listed.
        self.check_problems(f"""\
[camrelay]
data_dir = "{self.data}"
workers = 100

[sink.photos]
type = "folder"
path = "relative/{{name}}"

[[route]]
to = ["photos"]
""", [(3, "workers must be between 1 and 64"),
      (7, "path must be absolute")])

    def test_toml_syntax_error_has_its_line(self):
        self.check_problems(f"""\
[camrelay]
data_dir = "{self.data}"

[sink.photos]
type = "folder"
path = "{self.dest}/{{name}}
""", [(6, "TOML syntax")])


class HostileSecret(t.CamrelayTestCase):
    """A FIFO given as a password_file hung `config check`, `run` and `import` in open(): now it
    is refused at once as not a regular file; so is a symbolic link."""

    def smtp_config(self, password_file):
        return self.write_config(f"""\
[camrelay]
data_dir = "{self.data}"

[[source]]
type = "usb"
port = "disk:{self.card}"

[sink.mail]
type = "smtp"
url = "smtp://127.0.0.1:9"
from = "camera@example.org"
to = ["me@example.org"]
username = "photos"
password_file = "{password_file}"

[[route]]
to = ["mail"]
""")

    def assert_refused_quickly(self, cfg, fragment):
        for args in (["config", "check", cfg], ["import", "-q", "-c", cfg]):
            t0 = time.monotonic()
            p = t.run(args, timeout=30)
            self.assertLess(time.monotonic() - t0, 15, " ".join(args))
            self.assertExit(p, 2, " ".join(args))
            self.assertRegex(p.stderr, r"%s:\d+: .*%s" % (re.escape(cfg), re.escape(fragment)),
                             " ".join(args))
            self.assertFalse(os.path.exists(self.data), "the data dir was touched")

    def test_fifo_password_file(self):
        fifo = os.path.join(self.tmp, "password")
        os.mkfifo(fifo, 0o600)
        self.assert_refused_quickly(self.smtp_config(fifo),
                                    "password file %s is not a regular file (it is a FIFO)" % fifo)

    def test_password_file_linked_to_a_fifo(self):
        fifo = os.path.join(self.tmp, "fifo-behind-link")
        os.mkfifo(fifo, 0o600)
        link = os.path.join(self.tmp, "password")
        os.symlink(fifo, link)
        self.assert_refused_quickly(self.smtp_config(link),
                                    "password file %s is not a regular file (it is a FIFO)" % link)


class BadCamera(t.CamrelayTestCase):

    def test_card_folder_missing(self):
        missing = os.path.join(self.tmp, "no-such-card")
        p = t.run(["import", "-q", "--camera", "disk:" + missing, "--to", self.dest,
                   "--data-dir", self.data])
        self.assertExit(p, 1)
        self.assertRegex(p.stderr, r"camrelay import: the folder %s does not exist"
                         % re.escape(missing))
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (0, 0, 0))
        self.assertFalse(os.path.exists(self.dest))

    def assert_parts_are_prefixes(self, photos):
        """Whatever a failed transfer keeps in the spool for a resume must be a true prefix of
        the photo: a resume appends the rest, so a gap would corrupt the delivered copy."""
        contents = []
        for path, _sha, _d in photos:
            with open(path, "rb") as f:
                contents.append(f.read())
        parts = [p for p in t.files_under(os.path.join(self.data, "spool")) if p.endswith(".part")]
        for part in parts:
            with open(part, "rb") as f:
                kept = f.read()
            self.assertTrue(any(c.startswith(kept) for c in contents),
                            "%s (%d bytes) is not the start of any photo" % (part, len(kept)))
        return parts

    def vanish_then_recover(self, faults, expect_fetched):
        # 256 KiB photos: Directory Browse hands them over in four 64 KiB chunks.
        photos = self.photos(3, big=True)
        for path, _sha, _d in photos:
            self.assertGreater(os.path.getsize(path), 200 * 1024)
        cfg = self.write_config(folder_config(self.data, self.card, self.dest))
        p = t.run(["import", "-q", "-c", cfg], faults=faults)
        self.assertExit(p, t.EXIT_LEFT_ON_CAMERA)  # photos left on the camera
        self.assertIn("could not be fetched", p.stderr)
        self.assertIn("Input/output error", p.stderr)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (expect_fetched,) * 2 + (0,),
                         p.stdout)
        self.assertEqual(s["not_fetched"], 3 - expect_fetched, p.stdout)
        self.assertEqual(len(t.files_under(self.dest)), expect_fetched)
        for f in t.files_under(self.dest):
            self.assertIn(t.sha256_file(f), {sha for _p, sha, _d in photos})
        self.assert_parts_are_prefixes(photos)
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM events WHERE kind='fetch-failed'"),
                         3 - expect_fetched)

        # The camera is back: the next import fetches the rest, nothing lost or twice.
        p = t.run(["import", "-q", "-c", cfg])
        self.assertExit(p, 0)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["known"], s["delivered"], s["failed"]),
                         (3 - expect_fetched, expect_fetched, 3 - expect_fetched, 0), p.stdout)
        self.assertDeliveredExactly(self.dest, photos)
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(*) FROM assets"), 3)
        self.assertEqual(t.scalar(self.data, "SELECT COUNT(DISTINCT sha256) FROM assets"), 3)
        self.assertEqual(t.job_states(self.data), {"delivered": 3})
        self.assertEqual(self.assert_parts_are_prefixes(photos), [])

    def test_camera_vanishes_mid_transfer(self):
        # The 2nd chunk read fails: the first photo breaks after 64 KiB, the others arrive.
        self.vanish_then_recover("usb.read=EIO@2", expect_fetched=2)

    def test_not_fetched_warnings_are_summed_up(self):
        # Every read fails: 8 files not fetched in one scan give 5 lines and one sum, not 8.
        self.photos(8)
        cfg = self.write_config(folder_config(self.data, self.card, self.dest))
        p = t.run(["import", "-q", "-c", cfg], faults="usb.read=EIO")
        self.assertExit(p, t.EXIT_LEFT_ON_CAMERA)
        single = [l for l in p.stderr.splitlines() if "[usb]" in l and " not fetched: " in l]
        self.assertEqual(len(single), 5, p.stderr)
        summed = [l for l in p.stderr.splitlines() if "3 more files not fetched in this scan" in l]
        self.assertEqual(len(summed), 1, p.stderr)
        self.assertIn("8 file(s) could not be fetched", p.stderr)

    def test_camera_gone_for_good_mid_transfer(self):
        # Every read from the 2nd chunk on fails: nothing arrives.
        self.vanish_then_recover("usb.read=EIO@2+", expect_fetched=0)


class BadDestination(t.CamrelayTestCase):

    def fail_then_recover(self, faults, cause, prepare=None, restore=None):
        photos = self.photos(3)
        cfg = self.write_config(folder_config(self.data, self.card, self.dest))
        if prepare:
            prepare()
        p = t.run(["import", "-q", "-c", cfg], faults=faults)
        self.assertExit(p, 1)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["downloaded"], s["delivered"], s["failed"]), (3, 3, 0, 3),
                         p.stdout)
        retry_lines = [l for l in p.stderr.splitlines() if l.startswith("  retry: photos: ")]
        self.assertGreaterEqual(len(retry_lines), 1, p.stderr)
        for l in retry_lines:
            self.assertIn(cause, l)
            self.assertIn(self.dest, l)
        self.assertEqual(t.files_under(self.dest) if os.path.exists(self.dest) else [], [])

        st = t.status_json(self.data, cfg)
        self.assertEqual(st["queue"]["photos"]["failed-transient"], 3, st["queue"])
        self.assertEqual(st["queue"]["photos"]["delivered"], 0)
        self.assertEqual(len(st["retrying"]), 3)
        for r in st["retrying"]:
            self.assertEqual(r["sink"], "photos")
            self.assertEqual(r["attempts"], 1)
            self.assertIn(cause, r["last_error"])
            self.assertGreater(r["next_attempt_at"], 0)
        self.assertEqual(st["cameras"][0]["objects"], 3)

        if restore:
            restore()
        # Without the fault, the next import retries them at once and delivers everything.
        p = t.run(["import", "-q", "-c", cfg])
        self.assertExit(p, 0)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["downloaded"], s["known"], s["delivered"], s["failed"]),
                         (0, 0, 3, 3, 0), p.stdout)
        self.assertDeliveredExactly(self.dest, photos)
        st = t.status_json(self.data, cfg)
        self.assertEqual(st["queue"]["photos"]["delivered"], 3)
        self.assertEqual(st["retrying"], [])
        self.assertEqual(t.query(self.data, "SELECT attempts FROM jobs"), [(2,)] * 3)

    def test_import_lists_every_failed_delivery(self):
        # `import` prints the failures after its summary (up to five): all three here.
        self.photos(3)
        cfg = self.write_config(folder_config(self.data, self.card, self.dest))
        p = t.run(["import", "-q", "-c", cfg], faults="folder.write=EACCES")
        self.assertExit(p, 1)
        listed = sorted(l for l in p.stderr.splitlines() if l.startswith("  retry: photos: "))
        self.assertEqual(listed, sorted("  retry: photos: writing %s/.camrelay-job%d.tmp: "
                                        "Permission denied" % (self.dest, j) for j in (1, 2, 3)),
                         p.stderr)

    def test_unwritable_destination(self):
        self.fail_then_recover("folder.write=EACCES", "Permission denied")

    def test_full_disk(self):
        self.fail_then_recover("folder.write=ENOSPC", "No space left on device")

    @unittest.skipIf(os.geteuid() == 0, "root writes into a 0555 folder anyway")
    def test_unwritable_destination_real_permissions(self):
        def prepare():
            os.makedirs(self.dest)
            os.chmod(self.dest, 0o555)

        def restore():
            os.chmod(self.dest, 0o755)

        self.fail_then_recover(None, "Permission denied", prepare, restore)


if __name__ == "__main__":
    unittest.main()
