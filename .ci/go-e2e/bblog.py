"""BitBake's log, kept in memory: the e2e drivers tell an expected refusal (a checksum mismatch, a missing
revision) from any other failure by what the fetcher said."""
import logging


class Collect(logging.Handler):
    """Every message logged to BitBake's logger."""

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def collect(level=None):
    """Attaches a Collect to BitBake's logger (at `level`, when given) and returns it."""
    handler = Collect()
    logger = logging.getLogger("BitBake")
    logger.addHandler(handler)
    if level is not None:
        logger.setLevel(level)
    return handler
