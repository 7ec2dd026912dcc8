"""Logging for the CLI and the MCP server: stderr only, tokens redacted, quiet by default.

``NEMO_DEBUG=1`` turns on request logs (method, path, status, time; never headers or
bodies). Every record passes through a filter that hides ``$NEMO_TOKEN`` and anything
shaped like a NemoVideo token (``nmv_usr_...``), whatever logged it.
"""

from __future__ import annotations

import logging
import os
import re
import sys

__all__ = ["setup_logging", "RedactTokens"]

_TOKEN_SHAPE = re.compile(r"\bnmv_[a-z]+_[A-Za-z0-9_\-]+")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from .sanitize import redact

        tok = os.environ.get("NEMO_TOKEN")
        text = redact(record.getMessage(), [tok] if tok else [])
        record.msg = _TOKEN_SHAPE.sub("nmv_***", text)
        record.args = ()
        if record.exc_info and not os.environ.get("NEMO_DEBUG") == "1":
            record.exc_info = None  # tracebacks only when asked for
        return True


def setup_logging(*, debug: bool | None = None, verbose_loggers: tuple[str, ...] = ()) -> None:
    """One stderr handler on the root logger, with the redaction filter."""
    if debug is None:
        debug = os.environ.get("NEMO_DEBUG") == "1"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    handler.addFilter(RedactTokens())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    for noisy in ("httpx", "httpcore", "hpack", "asyncio") + verbose_loggers:
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug and noisy in verbose_loggers else logging.WARNING)
