"""What the recipe tests through BitBake's parser share: reading a file, and a TestCase with a scratch directory and
BitBake's ERROR log lines captured (bb.fatal and friends log before they raise)."""

import logging
import tempfile
import unittest


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
    """A scratch directory (self.tmp) and BitBake's ERROR messages (self.capture.messages) per test."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.capture = Capture()
        logging.getLogger("BitBake").addHandler(self.capture)

    def tearDown(self):
        logging.getLogger("BitBake").removeHandler(self.capture)
        self.tmp.cleanup()
