"""Serving stored files (the sandbox "CDN") with Range support and download faults."""

from __future__ import annotations

import os
import re
from typing import Any, AsyncIterator
from urllib.parse import quote

import anyio
from starlette.responses import Response

from .backend import StoredFile
from .streaming import CUT, FrameStream

__all__ = ["serve_file", "parse_range"]

_CHUNK = 256 * 1024
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """(start, end_inclusive), None for no/ignored Range, or "invalid" (416)."""
    if not header:
        return None
    m = _RANGE.match(header.split(",")[0])
    if not m:
        return None
    a, b = m.groups()
    if a == "" and b == "":
        return None
    if a == "":
        n = int(b)
        if n == 0:
            return "invalid"
        return max(0, size - n), size - 1
    start = int(a)
    end = min(int(b), size - 1) if b else size - 1
    if start >= size or end < start:
        return "invalid"
    return start, end


async def _chunks(path: str, start: int, length: int, cut_at: int | None) -> AsyncIterator[Any]:
    sent = 0
    limit = length if cut_at is None else min(length, cut_at)
    async with await anyio.open_file(path, "rb") as fh:
        await fh.seek(start)
        while sent < limit:
            data = await fh.read(min(_CHUNK, limit - sent))
            if not data:
                break
            sent += len(data)
            yield data
    if cut_at is not None:
        yield CUT


def serve_file(stored: StoredFile, range_header: str | None, ignore_range: bool,
               cut_fraction: float | None, download_name: str | None = None) -> Response:
    size = os.path.getsize(stored.path)
    st = os.stat(stored.path)
    etag = f'"{size:x}-{st.st_mtime_ns:x}"'
    headers = {"Accept-Ranges": "bytes", "ETag": etag}
    if download_name:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(download_name)}"
    rng = None if ignore_range else parse_range(range_header, size)
    if rng == "invalid":
        headers["Content-Range"] = f"bytes */{size}"
        return Response(status_code=416, headers=headers)
    if rng is None:
        start, length, status = 0, size, 200
    else:
        start, end = rng  # type: ignore[misc]
        length, status = end - start + 1, 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(length)
    cut_at = int(length * cut_fraction) if cut_fraction is not None else None
    return FrameStream(_chunks(stored.path, start, length, cut_at), status_code=status, headers=headers,
                       media_type=stored.content_type)
