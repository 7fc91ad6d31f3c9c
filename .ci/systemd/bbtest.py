"""What the recipe tests through BitBake's parser share: reading a file, and a TestCase with a scratch directory and
BitBake's ERROR log lines captured (bb.fatal and friends log before they raise)."""

import logging
import os
import tempfile
import unittest

import bbinstall


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class Capture(logging.Handler):
    """BitBake's ERROR messages, as the user would see them."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


class BitBakeCase(unittest.TestCase):
    """A scratch directory (self.tmp) and BitBake's ERROR messages (self.capture.messages) per test;
    `default_recipe` is the recipe parse() reads unless given another."""

    default_recipe = None

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.capture = Capture()
        logging.getLogger("BitBake").addHandler(self.capture)

    def tearDown(self):
        logging.getLogger("BitBake").removeHandler(self.capture)
        self.tmp.cleanup()

    def work(self):
        """A fresh work directory for one parse."""
        return os.path.join(self.tmp.name, "w%d" % len(os.listdir(self.tmp.name)))

    def parse(self, recipe=None, **settings):
        return bbinstall.datastore(recipe or self.default_recipe, self.work(), settings)

    def refused(self, expect, **settings):
        """Parsing stops (bb.fatal in the anonymous Python) with a message containing every string of `expect`."""
        with self.assertRaises(Exception):
            self.parse(**settings)
        text = "\n".join(self.capture.messages)
        for e in expect:
            self.assertIn(e, text)
        self.capture.messages.clear()
