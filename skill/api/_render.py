"""Render jobs end to end: submit (id persisted first), poll, download.

* Submit: a new ``render_<time>_<random>`` id is written to the state file *before* the
  POST; a failed POST is retried once with the same id (the server dedupes on it), then
  once with a new id.
* Poll: fast start, back-off, progress-based estimate of the finish, ``Retry-After``
  honoured, a deadline after which ``RenderTimeoutError`` carries the id (kept on disk
  for ``export --resume``).
* Download: streamed to ``.<name>.part`` beside the target, resumed with ``Range`` only
  when the server answers 206 at the right offset, length-verified, fsynced, renamed into
  place. If the result URL fails, the fallback endpoint is used.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx

from . import _constants as C
from ._client import NemoClient, Progress, ProgressFn
from ._errors import (
    APIError,
    BadInputError,
    NemoError,
    NetworkError,
    RenderFailedError,
    RenderTimeoutError,
    ServerError,
    StreamInterruptedError,
)
from ._models import RenderJob
from ._retry import backoff_delay, next_poll_delay

__all__ = ["new_render_id", "Renderer", "ExportResult", "safe_filename", "download_to", "ensure_writable_dir"]

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.I)


def new_render_id() -> str:
    return f"render_{int(time.time() * 1000)}_{secrets.token_hex(4)}"


def safe_filename(stem: str, ext: str = "mp4", max_len: int = 80) -> str:
    """A file name that cannot leave its folder: no separators, no dots in front, no controls."""
    stem = re.sub(r"[^\w\-. ]+", "_", stem, flags=re.UNICODE).strip(" ._")
    stem = re.sub(r"[\s_]+", "_", stem)[:max_len] or "video"
    return f"{stem}.{ext}"


@dataclass
class ExportResult:
    render_id: str
    path: Path
    bytes: int
    job: RenderJob


def ensure_writable_dir(out: Path) -> Path:
    """``--out``: a folder we can write to (created if missing), else ``BadInputError``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BadInputError("output path is not a folder", detail={"path": str(out), "reason": "not_dir"})
    if not out.exists():
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BadInputError("output folder not writable",
                                detail={"path": str(out), "reason": exc.strerror or "io"}) from exc
    if not os.access(out, os.W_OK):
        raise BadInputError("output folder not writable", detail={"path": str(out), "reason": "readonly"})
    return out


class _DownloadFailed(Exception):
    """The result URL itself failed (not our disk): try the fallback endpoint."""


async def download_to(
    client: NemoClient,
    url: str,
    dest: Path,
    *,
    on_progress: ProgressFn | None = None,
    sleep: Callable[[float], Awaitable[Any]] | None = None,
    attempts: int = 3,
) -> int:
    """Stream ``url`` to ``dest`` via ``.<name>.part``; resume with Range; verify length."""
    sleep = sleep or client._sleep
    part = dest.with_name(f".{dest.name}.part")
    last_exc: Exception | None = None
    for attempt in range(attempts):
        offset = part.stat().st_size if part.exists() else 0
        try:
            cm = await client.open_download(url, offset=offset)
            async with cm as resp:
                if resp.status_code == 416 and offset:
                    part.unlink(missing_ok=True)
                    continue
                if resp.status_code not in (200, 206):
                    raise _DownloadFailed(f"HTTP {resp.status_code}")
                expected_total: int | None = None
                mode = "wb"
                start = 0
                if resp.status_code == 206:
                    m = _CONTENT_RANGE.match(resp.headers.get("content-range", ""))
                    if m and int(m.group(1)) == offset:
                        start = offset
                        mode = "ab"
                        if m.group(3) != "*":
                            expected_total = int(m.group(3))
                    else:  # a 206 that does not line up: start over rather than corrupt
                        part.unlink(missing_ok=True)
                        continue
                else:
                    cl = resp.headers.get("content-length")
                    expected_total = int(cl) if cl and cl.isdigit() else None
                got = start
                last_pct = -1
                next_unknown = C.DOWNLOAD_CHUNK * 16
                fd = os.open(str(part), os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "ab" else os.O_TRUNC),
                             0o644)
                with os.fdopen(fd, mode) as fh:
                    async for chunk in resp.aiter_raw():  # as the socket delivers: no re-chunking
                        fh.write(chunk)
                        got += len(chunk)
                        if on_progress is None:
                            continue
                        if expected_total:  # whole percents only
                            pct = 100 * got // expected_total
                            if pct != last_pct:
                                last_pct = pct
                                on_progress(Progress("download", got, expected_total, float(pct)))
                        elif got >= next_unknown:
                            next_unknown = got + C.DOWNLOAD_CHUNK * 16
                            on_progress(Progress("download", got, None, None))
                    fh.flush()
                    os.fsync(fh.fileno())
                if expected_total is not None and got != expected_total:
                    raise StreamInterruptedError("download ended early")
                if got == 0:
                    raise _DownloadFailed("empty body")
                os.replace(part, dest)
                return got
        except _DownloadFailed:
            raise
        except OSError as exc:
            raise BadInputError("could not write the video", detail={"path": str(dest.parent),
                                                                     "reason": exc.strerror or "io"}) from exc
        except (httpx.TransportError, StreamInterruptedError) as exc:
            last_exc = exc
            await sleep(backoff_delay(attempt))
            continue
    raise NetworkError("the download kept breaking off") from last_exc


class Renderer:
    """Export orchestration with the render id kept on disk until the file is delivered."""

    def __init__(self, client: NemoClient, store: Any = None, profile_key: str | None = None,
                 *, deadline: float = C.RENDER_DEADLINE) -> None:
        self.client = client
        self.store = store
        self.profile_key = profile_key
        self.deadline = deadline

    # -- persistence ---------------------------------------------------------------
    def _remember(self, render_id: str, session_id: str, out_dir: Path, submitted: bool) -> None:
        if self.store is None or not self.profile_key:
            return
        from ..state import PendingRender

        def fn(p: Any) -> None:
            for r in p.pending_renders:
                if r.id == render_id:
                    r.submitted = r.submitted or submitted
                    r.out_dir = str(out_dir)
                    return
            p.pending_renders.append(PendingRender(render_id, session_id, time.time(), str(out_dir), submitted))

        self.store.update(self.profile_key, fn)

    def _forget(self, render_id: str) -> None:
        if self.store is None or not self.profile_key:
            return
        self.store.update(self.profile_key,
                          lambda p: setattr(p, "pending_renders", [r for r in p.pending_renders if r.id != render_id]))

    def pending(self) -> list:
        if self.store is None or not self.profile_key:
            return []
        return list(self.store.load(self.profile_key).pending_renders)

    # -- steps -------------------------------------------------------------------------
    async def submit(self, session_id: str, draft: dict, out_dir: Path) -> RenderJob:
        render_id = new_render_id()
        self._remember(render_id, session_id, out_dir, submitted=False)
        try:
            job = await self.client.submit_render(session_id, draft, render_id)
        except (NetworkError, ServerError):
            try:  # same id again: the server dedupes, so this never makes a second job
                job = await self.client.submit_render(session_id, draft, render_id)
            except (NetworkError, ServerError):
                self._forget(render_id)
                render_id = new_render_id()
                self._remember(render_id, session_id, out_dir, submitted=False)
                job = await self.client.submit_render(session_id, draft, render_id)
        except APIError:
            self._forget(render_id)
            raise
        job.id = job.id or render_id
        if job.id != render_id:
            self._forget(render_id)
        self._remember(job.id, session_id, out_dir, submitted=True)
        return job

    async def wait(self, render_id: str, on_progress: ProgressFn | None = None,
                   deadline: float | None = None) -> RenderJob:
        start = time.monotonic()
        limit = self.deadline if deadline is None else deadline
        delay: float | None = None
        while True:
            job, retry_after = await self.client.render_status(render_id)
            if on_progress:
                on_progress(Progress("render", job.progress or 0.0, 100.0, job.progress))
            if job.done:
                if not job.output_url:
                    job.output_url = None
                return job
            if job.failed:
                self._forget(render_id)
                raise RenderFailedError(job.error or "render failed", detail={"render_id": render_id})
            elapsed = time.monotonic() - start
            delay = next_poll_delay(delay, retry_after, elapsed=elapsed, progress=job.progress)
            if elapsed + delay > limit:
                raise RenderTimeoutError("the render is still running", detail={"render_id": render_id})
            await self.client._sleep(delay)

    async def download(self, job: RenderJob, render_id: str, out_dir: Path, filename: str,
                       on_progress: ProgressFn | None = None) -> tuple[Path, int]:
        out_dir = ensure_writable_dir(Path(out_dir))
        dest = out_dir / safe_filename(Path(filename).stem, "mp4")
        if dest.resolve().parent != out_dir.resolve():  # belt and braces: never outside --out
            raise BadInputError("bad output name", detail={"path": str(dest)})
        urls = [u for u in (job.output_url,) if u and u.lower().startswith(("http://", "https://"))]
        urls.append(self.client.fallback_download_url(render_id))
        last: Exception | None = None
        for url in urls:
            try:
                n = await download_to(self.client, url, dest, on_progress=on_progress)
                self._forget(render_id)
                return dest, n
            except (_DownloadFailed, NetworkError) as exc:
                last = exc
                continue
        if isinstance(last, NemoError):
            raise last
        raise ServerError("the finished video could not be downloaded", detail={"render_id": render_id})
