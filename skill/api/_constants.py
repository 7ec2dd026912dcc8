"""Retry, timeout and limit policy as named constants (tests patch these, not code)."""

from __future__ import annotations

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "INITIAL_RETRY_DELAY",
    "MAX_RETRY_DELAY",
    "RATE_LIMIT_DEFAULT_WAIT",
    "MAX_RETRY_AFTER",
    "MAX_CONNECTIONS",
    "MAX_KEEPALIVE",
    "CONNECT_TIMEOUT",
    "READ_TIMEOUT",
    "WRITE_TIMEOUT",
    "POOL_TIMEOUT",
    "STREAM_IDLE_LIMIT",
    "STREAM_HARD_LIMIT",
    "STILL_WORKING_EVERY",
    "MAX_FRAME_CHARS",
    "MAX_ERROR_BODY",
    "TOKEN_EXPIRY_SKEW",
    "ANON_TOKEN_TTL",
    "POLL_INITIAL",
    "POLL_MAX",
    "POLL_FACTOR",
    "POLL_MIN",
    "POLL_NEAR_END",
    "RENDER_DEADLINE",
    "DOWNLOAD_CHUNK",
    "UPLOAD_LIMIT_BYTES",
    "RECOVERY_POLL_DELAYS",
]

DEFAULT_MAX_RETRIES = 2
"""Retries after the first try, for idempotent calls on connection errors and 5xx."""
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
RATE_LIMIT_DEFAULT_WAIT = 30.0
"""PROTOCOL.md: wait Retry-After, else 30 s, and retry once."""
MAX_RETRY_AFTER = 120.0
"""A longer Retry-After is not waited for: the user is told when to come back."""

MAX_CONNECTIONS = 1000
MAX_KEEPALIVE = 100

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
WRITE_TIMEOUT = 120.0
"""Per write operation (upload chunk), not for the whole upload."""
POOL_TIMEOUT = 10.0

STREAM_IDLE_LIMIT = 600.0
"""10 minutes with nothing at all (not even a keep-alive) ends the stream."""
STREAM_HARD_LIMIT = 900.0
"""15 minutes in all."""
STILL_WORKING_EVERY = 120.0
MAX_FRAME_CHARS = 16 * 1024 * 1024
"""A single SSE line longer than this is refused (memory guard)."""
MAX_ERROR_BODY = 64 * 1024

TOKEN_EXPIRY_SKEW = 300.0
ANON_TOKEN_TTL = 7 * 24 * 3600.0

POLL_INITIAL = 1.0
POLL_MAX = 15.0
POLL_FACTOR = 1.5
POLL_MIN = 0.25
POLL_NEAR_END = 0.04
"""Near the expected finish, poll every 4% of the expected render time."""
RENDER_DEADLINE = 600.0

DOWNLOAD_CHUNK = 256 * 1024
UPLOAD_LIMIT_BYTES = 500 * 1024 * 1024

RECOVERY_POLL_DELAYS = (30.0, 60.0, 60.0, 60.0, 60.0, 60.0)
"""After a broken stream: poll state at these delays (about 5 minutes), never re-send."""
