"""The shell sink runs a program per photo without a shell: a hostile camera file name reaches it
as one literal argument. Exit 0 delivers, 75 means "retry later" (failed-transient), anything
else is failed-permanent with the end of stderr kept as last_error."""

import os
import signal
import stat
import unittest

import camrelay_testlib as t

HOSTILE_NAMES = [
    "with space.JPG",
    "it's \"quoted\".JPG",
    "semi;colon & amp | pipe > gt.JPG",
    "$(touch PWNED).JPG",
    "`touch PWNED`.JPG",
    "dollar $HOME and *glob? [x].JPG",
    "-n leading dash.JPG",
    "back\\slash.JPG",
    "ünïcødé 写真.JPG",
]

SCRIPT = """\
#!/bin/sh
# Logs what it was given (NUL-separated), then behaves as the file "mode" next to it says.
here=$(dirname "$0")
printf '%s\\0%s\\0%s\\0%s\\0' "$#" "$1" "$CAMRELAY_NAME" "$CAMRELAY_SHA256" >> "$here/calls.log"
mode=$(cat "$here/mode" 2>/dev/null)
case "$mode" in
  ok) exit 0 ;;
  75) echo "upload server busy, try later" >&2; exit 75 ;;
  *) echo "some noise first" >&2; echo "upload refused: quota exceeded for $CAMRELAY_NAME" >&2
     exit "$mode" ;;
esac
"""


class ShellSink(t.CamrelayTestCase):

    def setUp(self):
        super().setUp()
        self.bin = os.path.join(self.tmp, "hook")
        os.makedirs(self.bin)
        self.script = os.path.join(self.bin, "log-arg.sh")
        with open(self.script, "w") as f:
            f.write(SCRIPT)
        os.chmod(self.script, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP)
        self.set_mode("ok")
        self.run_dir = os.path.join(self.tmp, "cwd")
        os.makedirs(self.run_dir)

    def set_mode(self, mode):
        with open(os.path.join(self.bin, "mode"), "w") as f:
            f.write(mode + "\n")

    def calls(self):
        """[(argc, argv[1], CAMRELAY_NAME, CAMRELAY_SHA256)] in call order."""
        path = os.path.join(self.bin, "calls.log")
        if not os.path.exists(path):
            return []
        with open(path, "rb") as f:
            fields = f.read().split(b"\0")
        self.assertEqual(fields[-1], b"")
        fields = [x.decode("utf-8") for x in fields[:-1]]
        self.assertEqual(len(fields) % 4, 0)
        return [tuple(fields[i:i + 4]) for i in range(0, len(fields), 4)]

    def config(self, retry_min=10, retry_max=3600):
        return self.write_config(f"""\
[camrelay]
data_dir = "{self.data}"

[[source]]
type = "usb"
port = "disk:{self.card}"
poll_interval = 1

[sink.hook]
type = "shell"
command = ["{self.script}", "{{name}}"]
timeout = 30
retry_min = {retry_min}
retry_max = {retry_max}

[[route]]
to = ["hook"]
""")

    def import_(self, cfg):
        # cwd: where a shell would have run `touch PWNED`.
        return t.run(["import", "-q", "-c", cfg], cwd=self.run_dir)

    def assert_nothing_pwned(self):
        roots = [self.tmp, os.getcwd()]
        for root in roots:
            for dirpath, _dirs, files in os.walk(root):
                for n in files:
                    self.assertNotIn(n, ("PWNED",), "a file name was run by a shell: %s"
                                     % os.path.join(dirpath, n))

    def test_hostile_names_reach_the_command_literally(self):
        photos = self.photos(HOSTILE_NAMES)
        listed = sorted(os.listdir(os.path.join(self.card, t.CARD_FOLDER)))
        self.assertEqual(listed, sorted(HOSTILE_NAMES))
        cfg = self.config()
        p = self.import_(cfg)
        self.assertExit(p, 0)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["delivered"], s["failed"]),
                         (len(HOSTILE_NAMES), len(HOSTILE_NAMES), 0), p.stdout)
        calls = self.calls()
        self.assertEqual(len(calls), len(HOSTILE_NAMES))
        sha_of = {os.path.basename(path): sha for path, sha, _d in photos}
        for argc, arg1, env_name, env_sha in calls:
            self.assertEqual(argc, "1", "the name was split into several arguments")
            self.assertIn(arg1, HOSTILE_NAMES)
            self.assertEqual(env_name, arg1)
            self.assertEqual(env_sha, sha_of[arg1])
        self.assertEqual(sorted(c[1] for c in calls), sorted(HOSTILE_NAMES))
        self.assert_nothing_pwned()
        self.assertEqual(t.job_states(self.data), {"delivered": len(HOSTILE_NAMES)})
        receipts = t.query(self.data, "SELECT receipt FROM jobs")
        self.assertEqual({r for (r,) in receipts}, {"'%s' exited 0" % self.script})

    def test_exit_75_is_retried_later(self):
        self.photos(2)
        cfg = self.config()
        self.set_mode("75")
        p = self.import_(cfg)
        self.assertExit(p, 1)
        self.assertIn("upload server busy, try later", p.stderr)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (2, 0, 2))
        st = t.status_json(self.data, cfg)
        self.assertEqual(st["queue"]["hook"]["failed-transient"], 2, st["queue"])
        self.assertEqual(len(st["retrying"]), 2)
        for r in st["retrying"]:
            self.assertEqual(r["attempts"], 1)
            self.assertIn("exited 75: upload server busy, try later", r["last_error"])
        for updated, next_at in t.query(self.data, "SELECT updated_at, next_attempt_at FROM jobs"):
            self.assertGreaterEqual(next_at - updated, 5, "retry_min 10 s with jitter >= 0.5")
        self.assertEqual(len(self.calls()), 2)

        # The next import retries them (whatever their retry time) and they go through.
        self.set_mode("ok")
        p = self.import_(cfg)
        self.assertExit(p, 0)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (0, 2, 0))
        self.assertEqual(t.query(self.data, "SELECT state, attempts, last_error FROM jobs"),
                         [("delivered", 2, "")] * 2)
        self.assertEqual(len(self.calls()), 4)

    def test_exit_75_daemon_retries_by_itself(self):
        self.photos(2)
        cfg = self.config(retry_min=1, retry_max=1)
        self.set_mode("75")
        d = self.daemon(["-c", cfg])
        t.wait_for(lambda: os.path.exists(t.ledger_path(self.data)) and
                   len(self.calls()) >= 2 and
                   t.job_states(self.data).get("failed-transient", 0) +
                   t.job_states(self.data).get("running", 0) >= 2,
                   20, what="two failed-transient jobs")
        self.set_mode("ok")
        t.wait_for(lambda: t.job_states(self.data) == {"delivered": 2}, 20,
                   what="the daemon to retry and deliver")
        for (attempts,) in t.query(self.data, "SELECT attempts FROM jobs"):
            self.assertGreaterEqual(attempts, 2)
        rc, took = d.stop(signal.SIGTERM)
        self.assertEqual(rc, 0, d.output())
        names = [c[1] for c in self.calls()]
        self.assertEqual(sorted(set(names)), ["IMG_0001.JPG", "IMG_0002.JPG"])
        # Each photo's last call is its successful one.
        self.assertEqual(sorted(names[-2:]), ["IMG_0001.JPG", "IMG_0002.JPG"])

    def test_other_exit_is_permanent_with_stderr(self):
        self.photos(2)
        cfg = self.config()
        self.set_mode("3")
        p = self.import_(cfg)
        self.assertExit(p, 1)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (2, 0, 2))
        self.assertIn("failed: hook: ", p.stderr)
        rows = t.query(self.data, "SELECT a.name, j.state, j.attempts, j.last_error FROM jobs j "
                                  "JOIN assets a ON a.id = j.asset_id ORDER BY a.name")
        self.assertEqual(len(rows), 2)
        for name, state, attempts, last_error in rows:
            self.assertEqual((state, attempts), ("failed-permanent", 1))
            self.assertIn("exited 3", last_error)
            self.assertIn("upload refused: quota exceeded for " + name, last_error)
        st = t.status_json(self.data, cfg)
        self.assertEqual(st["queue"]["hook"]["failed-permanent"], 2)
        self.assertEqual(st["retrying"], [])
        self.assertEqual(len(st["recent_failures"]), 2)
        for e in st["recent_failures"]:
            self.assertIn("upload refused: quota exceeded for IMG_000", e["message"])

        # A permanent failure is not run again by the next import...
        self.set_mode("ok")
        p = self.import_(cfg)
        s = t.parse_summary(p.stdout)
        self.assertEqual((s["new"], s["delivered"], s["failed"]), (0, 0, 0))
        self.assertEqual(len(self.calls()), 2)
        self.assertEqual(t.job_states(self.data), {"failed-permanent": 2})
        # ...until `camrelay retry` puts it back.
        p = t.run(["retry", "-c", cfg])
        self.assertExit(p, 0)
        self.assertIn("2 job(s) queued again", p.stdout)
        p = self.import_(cfg)
        self.assertExit(p, 0)
        self.assertEqual(t.parse_summary(p.stdout)["delivered"], 2)
        self.assertEqual(t.job_states(self.data), {"delivered": 2})
        self.assertEqual(len(self.calls()), 4)


if __name__ == "__main__":
    unittest.main()
