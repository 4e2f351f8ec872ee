"""The samsung source's compat_config through the real binary: `camrelay config check` on the
reference's configuration (test/data/samsung/compat/), the derived secret files it writes, the
problems it lists with both files' lines; and `camrelay samsung hosts`."""
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("CAMRELAY_BIN", os.path.join(ROOT, "build", "src", "camrelay"))
COMPAT = os.path.join(ROOT, "test", "data", "samsung", "compat")


class SamsungCompat(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="camrelay-compat-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def write(self, name, text, mode=0o600):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def main_config(self, compat, extra=""):
        return self.write("camrelay.toml",
                          '[camrelay]\ndata_dir = "%s"\n\n[[source]]\ntype = "samsung"\n'
                          'listen = "127.0.0.1:0"\ncompat_config = "%s"\n%s'
                          % (os.path.join(self.dir, "data"), compat, extra))

    def check(self, path):
        return subprocess.run([BIN, "config", "check", path], capture_output=True, text=True)

    def test_reference_test_configuration_checks_and_writes_secrets(self):
        with open(os.path.join(COMPAT, "test-config.toml"), encoding="utf-8") as f:
            compat = self.write("config.toml", f.read())
        r = self.check(self.main_config(compat))
        self.assertEqual(r.returncode, 0, r.stderr)
        # samsung-mail, samsung-store, samsung-store-mailfolder, samsung-store-log,
        # samsung-mastodon, samsung-mastodon-pub, samsung-shell-log, and the embedded default
        # folder sink the loader gives a file that names none.
        self.assertRegex(r.stdout, r"\b8 sink\(s\)")
        secrets = os.path.join(self.dir, "data", "samsung-compat")
        self.assertEqual(stat.S_IMODE(os.stat(secrets).st_mode), 0o700)
        for name in ("samsung-mastodon.json", "samsung-mastodon-pub.json"):
            st = os.stat(os.path.join(secrets, name))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, name)
        with open(os.path.join(secrets, "samsung-mastodon-pub.json"), encoding="utf-8") as f:
            self.assertIn("literal-token-not-real", f.read())

    def test_native_config_needs_no_route_but_real_sink_names(self):
        base = ('[camrelay]\ndata_dir = "%s"\n\n[sink.files]\ntype = "folder"\n'
                'path = "%s/{user_folder}/{name}"\n\n[[source]]\ntype = "samsung"\n'
                'listen = "127.0.0.1:0"\nsenders = ["a@b"]\nsecret = "s"\n'
                % (os.path.join(self.dir, "data"), os.path.join(self.dir, "out")))
        good = self.write("good.toml", base + 'actions = ["picasa = store:files"]\n')
        r = self.check(good)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        bad = self.write("bad.toml", base + 'actions = ["picasa = store:fiels"]\n'
                                           'email_default = "mail:smtp"\n')
        r = self.check(bad)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("actions: no sink named 'fiels'", r.stderr)
        self.assertIn("email_default: no sink named 'smtp'", r.stderr)

    def test_native_keys_win_and_problems_name_both_files(self):
        compat = self.write("config.toml",
                            'UPLOAD_FOLDER = "up"\nSENDERS = ["a@b"]\nSECRET = "s"\n'
                            "[MASTODON]\nTOKEN = \"t\"\nVISIBILITY = 'loud'\n"
                            '[ACTIONS]\n"x@y" = "mastodon.a.b"\n')
        main = self.main_config(compat, 'secret = "native"\n')
        r = self.check(main)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        # Problems point at the compat_config line (7) of the camrelay config and name the
        # compat file's own line.
        self.assertIn("%s:7: compat_config %s:6: [MASTODON] VISIBILITY must be" % (main, compat),
                      r.stderr)
        self.assertIn("%s:7: compat_config %s:4: [MASTODON] BASE_URL is missing" % (main, compat),
                      r.stderr)
        self.assertIn("%s:7: compat_config %s:8: [ACTIONS] x@y = \"mastodon.a.b\": more than one "
                      "dot" % (main, compat), r.stderr)

    def test_sample_config_warns_about_readable_secrets(self):
        for name in ("config.toml", "mastodon.secret"):
            shutil.copy(os.path.join(COMPAT, name), self.dir)
            os.chmod(os.path.join(self.dir, name), 0o644)
        compat = os.path.join(self.dir, "config.toml")
        r = self.check(self.main_config(compat))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.count("mastodon.secret is accessible by group or others"), 1)
        self.assertIn("holds MAIL_PASSWORD or a Mastodon TOKEN and is readable or writable by "
                      "group or others (mode 0644); run chmod 600 " + compat, r.stderr)
        self.assertIn("SECRET is the reference's sample value", r.stderr)
        with open(os.path.join(self.dir, "data", "samsung-compat", "samsung-mail.password")) as f:
            self.assertEqual(f.read(), "CHANGEME\n")


class SamsungHosts(unittest.TestCase):
    def test_given_address(self):
        r = subprocess.run([BIN, "samsung", "hosts", "10.1.2.3"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertIn("10.1.2.3\tgld.samsungosp.com www.samsungimaging.com www.ospserver.net "
                      "snsgw.samsungmobile.com", lines)
        self.assertIn("10.1.2.3\twww.yahoo.co.kr", lines)
        self.assertIn("10.1.2.3\twww.msn.com", lines)
        for host in ("gld.samsungosp.com", "www.samsungimaging.com", "www.ospserver.net",
                     "snsgw.samsungmobile.com", "www.yahoo.co.kr", "www.msn.com"):
            self.assertIn("address=/%s/10.1.2.3" % host, lines)
        self.assertNotIn("guess", r.stdout)
        # Every hosts or dnsmasq line follows a comment naming who needs it.
        for i, line in enumerate(lines):
            if line.startswith("10.1.2.3") or line.startswith("address="):
                self.assertTrue(lines[i - 1].startswith("#") or lines[i - 1].startswith("address="),
                                line)

    def test_guessed_address_is_marked(self):
        r = subprocess.run([BIN, "samsung", "hosts"], capture_output=True, text=True)
        if r.returncode == 1:
            self.assertIn("no IPv4 address besides loopback", r.stderr)
            return
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"# NOTE: (\S+) is a guess", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        self.assertNotEqual(m.group(1), "127.0.0.1")
        self.assertIn("address=/www.ospserver.net/%s" % m.group(1), r.stdout)

    def test_bad_address(self):
        r = subprocess.run([BIN, "samsung", "hosts", "camera.local"], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not an IPv4 address", r.stderr)


if __name__ == "__main__":
    unittest.main()
