"""Small pure functions for the retry policy (tested with parametrised tables)."""

from __future__ import annotations

import email.utils
import random
import time
from typing import Mapping

from . import _constants as C

__all__ = ["parse_retry_after", "backoff_delay", "should_retry_status", "next_poll_delay"]


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms``, ``Retry-After`` seconds or an HTTP date."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            v = float(ms) / 1000.0
            if v >= 0:
                return v
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    ra = ra.strip()
    try:
        v = float(ra)
        return v if v >= 0 else None
    except ValueError:
        pass
    try:
        dt = email.utils.parsedate_to_datetime(ra)
    except (TypeError, ValueError, IndexError):
        return None
    if dt is None:
        return None
    return max(0.0, dt.timestamp() - (now if now is not None else time.time()))


def backoff_delay(attempt: int, rnd: float | None = None) -> float:
    """``min(0.5 * 2**attempt, 8)`` shortened by up to 25% jitter."""
    base = min(C.INITIAL_RETRY_DELAY * (2 ** attempt), C.MAX_RETRY_DELAY)
    r = random.random() if rnd is None else rnd
    return base * (1 - 0.25 * r)


def should_retry_status(status: int) -> bool:
    """Statuses worth another try on an idempotent call (429 is handled apart)."""
    return status in (408, 502, 503, 504) or status >= 500


def next_poll_delay(
    previous: float | None,
    retry_after: float | None = None,
    *,
    elapsed: float | None = None,
    progress: float | None = None,
) -> float:
    """Delay before the next render-status poll.

    Fast start with geometric back-off to ``POLL_MAX``. When the job reports progress,
    the expected finish is estimated (``elapsed * 100 / progress``) and each poll halves
    the distance to it, but never sparser than ``POLL_NEAR_END`` of the expected total, so the
    download starts within about 5% of the render time after the job completes. A
    server ``Retry-After`` is honoured as the minimum wait.
    """
    d = C.POLL_INITIAL if previous is None else min(previous * C.POLL_FACTOR, C.POLL_MAX)
    if elapsed is not None and progress is not None and 0 < progress < 100 and elapsed > 0:
        total = elapsed * 100.0 / progress
        remaining = max(0.0, total - elapsed)
        # halve the distance to the estimate: an early finish is still seen within ~4%
        d = min(C.POLL_MAX, max(remaining / 2, C.POLL_NEAR_END * total, C.POLL_MIN))
    if retry_after is not None:
        d = max(d, min(retry_after, C.MAX_RETRY_AFTER))
    return max(C.POLL_MIN, d)
