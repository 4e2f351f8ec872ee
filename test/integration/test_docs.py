"""docs/config.md and the binary's own option tables must agree: every option a plugin or
table declares is documented, with its default, and every documented sink/source type exists."""
import os
import re
import subprocess
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
BIN = os.environ.get("CAMRELAY_BIN", os.path.join(ROOT, "build", "src", "camrelay"))


def option_listing(kind):
    """Parses `camrelay sinks|sources`: {section: {option: default or None}}."""
    out = subprocess.run([BIN, kind], check=True, capture_output=True, text=True).stdout
    sections, current = {}, None
    for line in out.splitlines():
        head = re.match(r"^(\S[^:]*): ", line)
        if head:
            current = head.group(1)
            sections[current] = {}
            continue
        opt = re.match(r"^  (\w+) \(([^)]*)\)$", line)
        if opt and current:
            default = re.search(r"default: (.*)$", opt.group(2))
            sections[current][opt.group(1)] = default.group(1) if default else None
    return sections


class DocsMatchCode(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(ROOT, "docs", "config.md"), encoding="utf-8") as f:
            cls.doc = f.read()

    def documented_row(self, name):
        rows = [l for l in self.doc.splitlines() if l.startswith("| `%s` |" % name)]
        self.assertTrue(rows, "option %r is not documented in docs/config.md" % name)
        return rows

    def check(self, kind):
        sections = option_listing(kind)
        self.assertTrue(sections, "`camrelay %s` listed nothing" % kind)
        for section, options in sections.items():
            if section != "every sink also takes":
                self.assertIn('type = "%s"' % section, self.doc,
                              "%s type %r has no section in docs/config.md" % (kind, section))
            for name, default in options.items():
                rows = self.documented_row(name)
                if default and default not in ("every detected camera", "detected"):
                    self.assertTrue(any(default in r for r in rows),
                                    "default %r of %r not in docs: %s" % (default, name, rows))

    def test_every_sink_option_documented(self):
        self.check("sinks")

    def test_every_source_option_documented(self):
        self.check("sources")

    def test_general_and_route_keys_documented(self):
        for name in ["data_dir", "log_level", "spool_keep", "workers", "shutdown_grace",
                     "source", "camera", "ext", "type", "to"]:
            self.documented_row(name)

    def test_every_subcommand_has_help_and_is_documented(self):
        out = subprocess.run([BIN, "--help"], check=True, capture_output=True, text=True).stdout
        commands = re.findall(r"^  (\w[\w-]*)\s{2,}", out.split("Subcommands:")[1], re.M)
        self.assertIn("run", commands)
        readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
        for c in commands:
            r = subprocess.run([BIN, c, "--help"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, c)
            self.assertIn("Usage:", r.stdout)
            self.assertTrue(("camrelay " + c) in readme or ("camrelay " + c) in self.doc
                            or c in ("sinks", "sources"),
                            "subcommand %s is mentioned nowhere in the docs" % c)


if __name__ == "__main__":
    unittest.main()
