"""``NemoClient``: every endpoint of PROTOCOL.md on one ``httpx.AsyncClient``.

Policy in one place: attribution headers on every call but the token one; auth from
``NEMO_TOKEN``, else a stored unexpired token, else an anonymous token for the persisted
client id (minted under the state lock, re-reading the file first, so parallel CLI calls
mint once); on 1001 re-authenticate once and replay; on 429 wait ``Retry-After`` (else
30 s, capped) and retry once; jittered back-off for connection errors and 5xx on
idempotent calls only. Errors are typed (``skill.api.errors``) and never hold the token.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import os
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from urllib.parse import urlsplit

import httpx

from . import _constants as C
from ._envelope import error_from_body, parse_envelope, safe_message
from ._errors import (
    APIError,
    BadInputError,
    FileTooLargeError,
    MissingClientIdError,
    NemoError,
    NetworkError,
    RateLimitError,
    ServerError,
    TimeoutError,
    TokenInvalidError,
    UnsupportedFileError,
)
from ._events import AgentEvent
from ._models import AnonymousToken, Credits, ProjectState, RenderJob, SessionInfo, UploadResult
from ._retry import backoff_delay, parse_retry_after, should_retry_status
from ._sse import iter_event_batches, iter_events

__all__ = [
    "Attribution",
    "NemoClient",
    "ProgressFn",
    "Progress",
    "ACCEPTED_EXTENSIONS",
    "check_upload_path",
    "check_media_url",
]

log = logging.getLogger("skill.http")

ACCEPTED_EXTENSIONS: dict[str, str] = {
    **{e: "video" for e in ("mp4", "mov", "avi", "webm", "mkv")},
    **{e: "image" for e in ("jpg", "jpeg", "png", "gif", "webp")},
    **{e: "audio" for e in ("mp3", "wav", "m4a", "aac")},
}
_MIME = {
    "mp4": "video/mp4", "mov": "video/quicktime", "avi": "video/x-msvideo", "webm": "video/webm",
    "mkv": "video/x-matroska", "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png",
    "gif": "image/gif", "webp": "image/webp", "mp3": "audio/mpeg", "wav": "audio/wav",
    "m4a": "audio/mp4", "aac": "audio/aac",
}


@dataclass(frozen=True)
class Attribution:
    """The three ``X-Skill-*`` headers, from the selected manifest."""

    source: str
    version: str
    platform: str = "unknown"

    def headers(self) -> dict[str, str]:
        return {"X-Skill-Source": self.source, "X-Skill-Version": self.version, "X-Skill-Platform": self.platform}


@dataclass(frozen=True)
class Progress:
    stage: str  # upload | render | download
    done: float
    total: float | None = None
    percent: float | None = None


ProgressFn = Callable[[Progress], None]


def _ext(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def check_upload_path(path: str | os.PathLike, limit: int = C.UPLOAD_LIMIT_BYTES) -> tuple[Path, int, str]:
    """Local checks before sending: exists, readable, accepted type (4001), size (4002)."""
    p = Path(os.path.expanduser(str(path)))
    if not p.exists():
        raise BadInputError("file not found", detail={"path": str(path), "reason": "missing"})
    if not p.is_file():
        raise BadInputError("not a regular file", detail={"path": str(path), "reason": "not_file"})
    ext = _ext(p.name)
    if ext not in ACCEPTED_EXTENSIONS:
        raise UnsupportedFileError("unsupported file type", detail={"path": str(path), "ext": ext})
    size = p.stat().st_size
    if size > limit:
        raise FileTooLargeError("file too large", detail={"path": str(path), "size": size, "limit": limit})
    if not os.access(p, os.R_OK):
        raise BadInputError("file not readable", detail={"path": str(path), "reason": "unreadable"})
    return p, size, ext


def check_media_url(url: str) -> str:
    """http(s) only; the type is judged by the path's extension when there is one."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise BadInputError("only http(s) URLs can be uploaded", detail={"url": url, "reason": "scheme"})
    ext = _ext(parts.path.rsplit("/", 1)[-1])
    if ext and ext not in ACCEPTED_EXTENSIONS:
        raise UnsupportedFileError("unsupported file type", detail={"url": url, "ext": ext})
    return url.strip()


UPLOAD_READ = 1024 * 1024
"""httpx asks a multipart file for 64 KiB at a time; 1 MiB reads cut the per-chunk
Python overhead 16-fold and still keep memory flat."""


class _CountingReader:
    """A file wrapper that reports bytes read (httpx streams multipart from it in chunks)."""

    def __init__(self, fh: Any, total: int, on_read: Callable[[int], None]) -> None:
        self._fh = fh
        self._on_read = on_read
        self.total = total

    def read(self, n: int = -1) -> bytes:
        chunk = self._fh.read(max(n, UPLOAD_READ) if n and n > 0 else n)
        if chunk:
            self._on_read(len(chunk))
        return chunk

    def seek(self, *a: Any) -> int:
        return self._fh.seek(*a)

    def tell(self) -> int:
        return self._fh.tell()

    def fileno(self) -> int:
        return self._fh.fileno()

    def close(self) -> None:
        self._fh.close()


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


class NemoClient:
    """Async client for the NemoVideo backend contract."""

    def __init__(
        self,
        *,
        api_url: str,
        attribution: Attribution,
        store: Any = None,
        profile_key: str | None = None,
        token: str | None = None,
        client_id: str | Callable[[], str] | None = None,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
        max_retries: int = C.DEFAULT_MAX_RETRIES,
        stream_idle_limit: float = C.STREAM_IDLE_LIMIT,
        stream_hard_limit: float = C.STREAM_HARD_LIMIT,
        rate_limit_wait: float = C.RATE_LIMIT_DEFAULT_WAIT,
        max_retry_after: float = C.MAX_RETRY_AFTER,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.attribution = attribution
        self.store = store
        self.profile_key = profile_key
        self._env_token = token
        self._token: str | None = token
        self._client_id_src = client_id
        self._sleep = sleep or asyncio.sleep
        self.max_retries = max_retries
        self.stream_idle_limit = stream_idle_limit
        self.stream_hard_limit = stream_hard_limit
        self.rate_limit_wait = rate_limit_wait
        self.max_retry_after = max_retry_after
        self._token_lock = asyncio.Lock()
        self.user_id: str | None = None
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(C.READ_TIMEOUT, connect=C.CONNECT_TIMEOUT, write=C.WRITE_TIMEOUT,
                                  pool=C.POOL_TIMEOUT),
            # an agent stream holds its connection for minutes: a chat plugin running
            # hundreds of conversations through one runtime needs that many at once
            limits=httpx.Limits(max_connections=C.MAX_CONNECTIONS, max_keepalive_connections=C.MAX_KEEPALIVE),
            follow_redirects=False,
            headers={"User-Agent": f"nemo-skill/{_version()}"},
        )

    # -- lifecycle -------------------------------------------------------------------
    async def __aenter__(self) -> "NemoClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    @property
    def token_in_use(self) -> str | None:
        """The bearer token (for redaction guards only; never print it)."""
        return self._token

    # -- identity ----------------------------------------------------------------------
    def _client_id(self, regenerate: bool = False) -> str:
        from ..config import load_client_id, new_client_id

        src = self._client_id_src
        if regenerate:
            if callable(src) or src is None or os.environ.get("NEMO_CLIENT_ID"):
                cid = new_client_id(self.store.directory if self.store else None)
                self._client_id_src = cid
                return cid
        if isinstance(src, str):
            return src
        if callable(src):
            return src()
        return load_client_id(self.store.directory if self.store else None)

    async def ensure_token(self) -> str:
        """The token to send: env, else stored and unexpired, else a newly minted one."""
        if self._token:
            return self._token
        async with self._token_lock:
            if self._token:
                return self._token
            if self.store is not None and self.profile_key:
                prof = self.store.load(self.profile_key)
                if prof.token_valid(skew=C.TOKEN_EXPIRY_SKEW):
                    self._token = prof.token
                    self.user_id = prof.user_id
                    return prof.token  # type: ignore[return-value]
            await self._renew(stale=None)
            assert self._token
            return self._token

    async def _renew(self, stale: str | None) -> None:
        """Mint a token under the state lock; another process may have renewed already."""
        if self.store is None or not self.profile_key:
            tok = await self._mint()
            self._token, self.user_id = tok.token, tok.user_id
            return
        loop = asyncio.get_running_loop()
        lock_cm = self.store.locked(self.profile_key)
        prof = await loop.run_in_executor(None, lock_cm.__enter__)
        try:
            if prof.token and prof.token != stale and prof.token_valid(skew=C.TOKEN_EXPIRY_SKEW):
                self._token, self.user_id = prof.token, prof.user_id
                return
            tok = await self._mint()
            prof.token = tok.token
            prof.user_id = tok.user_id or prof.user_id
            if tok.expires_at is not None:
                exp = tok.expires_at
                if exp.tzinfo is None:
                    exp = exp.replace(tzinfo=timezone.utc)
                prof.token_expires_at = exp.timestamp()
            else:
                prof.token_expires_at = time.time() + C.ANON_TOKEN_TTL
            self._token, self.user_id = prof.token, prof.user_id
        except BaseException as exc:
            await loop.run_in_executor(None, lock_cm.__exit__, type(exc), exc, exc.__traceback__)
            raise
        else:
            await loop.run_in_executor(None, lock_cm.__exit__, None, None, None)

    async def _mint(self) -> AnonymousToken:
        regenerated = False
        while True:
            try:
                data = await self._request(
                    "POST", "/api/auth/anonymous-token", auth=False, idempotent=False,
                    headers={"X-Client-Id": self._client_id(regenerate=regenerated)},
                )
                return AnonymousToken.model_validate(data)
            except MissingClientIdError:
                if regenerated:
                    raise
                regenerated = True  # PROTOCOL: regenerate the client id and retry once

    def forget_token(self) -> None:
        self._token = self._env_token

    # -- the request loop ------------------------------------------------------------
    async def _headers(self, auth: bool, extra: dict[str, str] | None) -> dict[str, str]:
        h: dict[str, str] = {}
        if auth:
            h["Authorization"] = f"Bearer {await self.ensure_token()}"
            h.update(self.attribution.headers())
        if extra:
            h.update(extra)
        return h

    async def _send(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        idempotent: bool,
        headers: dict[str, str] | None = None,
        json: Any = None,
        files_factory: Callable[[], tuple[list, Callable[[], None]]] | None = None,
        accept_statuses: Iterable[int] = (),
    ) -> httpx.Response:
        """Send with the whole retry policy; returns a read response with a success status."""
        url = self.api_url + path
        label = f"{method} {path.split('?')[0]}"
        attempt = 0
        once: set[str] = set()
        while True:
            req_headers = await self._headers(auth, headers)
            files, cleanup = (files_factory() if files_factory else (None, lambda: None))
            t0 = time.monotonic()
            try:
                resp = await self._http.request(method, url, headers=req_headers, json=json, files=files)
            except httpx.TimeoutException as exc:
                err: NemoError = TimeoutError("the backend did not answer in time", request=label)
                if idempotent and attempt < self.max_retries and not isinstance(exc, httpx.WriteTimeout):
                    attempt += 1
                    await self._sleep(backoff_delay(attempt - 1))
                    continue
                raise err from exc
            except httpx.TransportError as exc:
                if idempotent and attempt < self.max_retries:
                    attempt += 1
                    await self._sleep(backoff_delay(attempt - 1))
                    continue
                raise NetworkError("could not reach the backend", request=label) from exc
            finally:
                cleanup()
            log.debug("%s -> %s (%.0f ms)", label, resp.status_code, (time.monotonic() - t0) * 1000)
            if resp.status_code in accept_statuses:
                return resp
            err2 = error_from_body(resp.status_code, resp.headers, resp.content, label)
            if err2 is None:
                return resp
            if await self._replay_once(err2, once, auth=auth):
                continue
            if isinstance(err2, ServerError) and (resp.status_code >= 500 or resp.status_code == 408) \
                    and idempotent and attempt < self.max_retries and should_retry_status(resp.status_code):
                attempt += 1
                ra = parse_retry_after(resp.headers)
                await self._sleep(min(ra, C.MAX_RETRY_DELAY) if ra is not None else backoff_delay(attempt - 1))
                continue
            raise err2

    async def _replay_once(self, err: NemoError, once: set[str], *, auth: bool = True) -> bool:
        """PROTOCOL: 1001 -> re-authenticate once and replay; 429 -> wait Retry-After (else
        30 s, capped) and retry once. True when the caller should send again."""
        if isinstance(err, TokenInvalidError) and auth and "1001" not in once and self._env_token is None:
            once.add("1001")
            stale = self._token
            self._token = None
            await self._renew_locked(stale)
            return True
        if isinstance(err, RateLimitError) and "429" not in once:
            wait = err.retry_after if err.retry_after is not None else self.rate_limit_wait
            if wait <= self.max_retry_after:
                once.add("429")
                await self._sleep(wait)
                return True
        return False

    async def _renew_locked(self, stale: str | None) -> None:
        async with self._token_lock:
            if self._token and self._token != stale:
                return
            await self._renew(stale=stale)

    async def _request(self, method: str, path: str, *, unwrap: bool = True, **kw: Any) -> Any:
        resp = await self._send(method, path, **kw)
        return parse_envelope(resp.status_code, resp.headers, resp.content, f"{method} {path}", unwrap=unwrap)

    # -- endpoints ---------------------------------------------------------------------
    async def create_session(self, language: str = "en") -> SessionInfo:
        data = await self._request(
            "POST", "/api/tasks/me/with-session/nemo_agent", idempotent=False,
            json={"task_name": "project", "language": language},
        )
        return SessionInfo.model_validate(data)

    async def credits(self) -> Credits:
        return Credits.model_validate(await self._request("GET", "/api/credits/balance/simple", idempotent=True))

    async def state(self, session_id: str) -> ProjectState:
        data = await self._request("GET", f"/api/state/nemo_agent/me/{session_id}/latest", idempotent=True)
        return ProjectState.model_validate(data if isinstance(data, dict) else {})

    async def upload_files(
        self,
        session_id: str,
        paths: Sequence[str | os.PathLike],
        on_progress: ProgressFn | None = None,
    ) -> UploadResult:
        """Multipart upload, streamed from disk (never read whole into memory)."""
        checked = [check_upload_path(p) for p in paths]
        total = sum(size for _, size, _ in checked)
        sent = [0, -1]  # bytes sent, last whole percent reported

        def on_read(n: int) -> None:
            sent[0] += n
            if on_progress:
                done = min(sent[0], total)
                pct = 100 * done // total if total else 100
                if pct != sent[1]:  # report whole percents only: at most ~100 callbacks
                    sent[1] = pct
                    on_progress(Progress("upload", done, total, float(pct)))

        def factory() -> tuple[list, Callable[[], None]]:
            sent[0], sent[1] = 0, -1
            handles = []
            files = []
            for p, size, ext in checked:
                fh = open(p, "rb")
                handles.append(fh)
                files.append(("files", (p.name, _CountingReader(fh, size, on_read), _MIME.get(ext)
                                        or mimetypes.guess_type(p.name)[0] or "application/octet-stream")))
            return files, lambda: [h.close() for h in handles]

        data = await self._request(
            "POST", f"/api/upload-video/nemo_agent/me/{session_id}", idempotent=False, files_factory=factory,
        )
        return UploadResult.model_validate(data if isinstance(data, dict) else {})

    async def upload_urls(self, session_id: str, urls: Sequence[str]) -> UploadResult:
        clean = [check_media_url(u) for u in urls]
        data = await self._request(
            "POST", f"/api/upload-video/nemo_agent/me/{session_id}", idempotent=False,
            json={"urls": clean, "source_type": "url"},
        )
        return UploadResult.model_validate(data if isinstance(data, dict) else {})

    @asynccontextmanager
    async def chat(self, session_id: str, text: str, *, streaming: bool = False,
                   batched: bool = False) -> AsyncIterator[AsyncIterator[Any]]:
        """Open the agent stream; yields an async iterator of typed events (or, with
        ``batched=True``, of lists of events: one per network chunk).

        Before the first byte of the reply, 1001 and 429 are handled like any call (the
        run has not started). Once the stream is open nothing is ever re-sent.
        """
        body: dict[str, Any] = {
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": session_id,
            "new_message": {"role": "user", "parts": [{"text": text}]},
        }
        if streaming:
            body["streaming"] = True
        label = "POST /run_sse"
        once: set[str] = set()
        timeout = httpx.Timeout(min(self.stream_idle_limit, self.stream_hard_limit), connect=C.CONNECT_TIMEOUT,
                                write=C.WRITE_TIMEOUT, pool=C.POOL_TIMEOUT)
        while True:
            headers = await self._headers(True, {
                "Accept": "text/event-stream", "Cache-Control": "no-store", "Accept-Encoding": "identity",
            })
            started = time.monotonic()
            try:
                cm = self._http.stream("POST", self.api_url + "/run_sse", json=body, headers=headers,
                                       timeout=timeout)
                resp = await cm.__aenter__()
            except httpx.TimeoutException as exc:
                raise TimeoutError("the agent did not answer in time", request=label) from exc
            except httpx.TransportError as exc:
                raise NetworkError("could not reach the backend", request=label) from exc
            try:
                ctype = resp.headers.get("content-type", "")
                if resp.status_code >= 300 or "text/event-stream" not in ctype.lower():
                    raw = await _read_capped(resp)
                    err = error_from_body(resp.status_code, resp.headers, raw, label)
                    if err is None:
                        err = ServerError("the agent did not open a stream", status=resp.status_code,
                                          request=label)
                    if await self._replay_once(err, once):
                        continue
                    raise err
                it = iter_event_batches if batched else iter_events
                yield it(resp, hard_deadline=started + self.stream_hard_limit)
                return
            finally:
                await cm.__aexit__(None, None, None)

    # -- render ------------------------------------------------------------------------
    async def submit_render(self, session_id: str, draft: dict, render_id: str) -> RenderJob:
        """POST the render (idempotent on ``render_id``: safe to retry with the same id)."""
        body = {"id": render_id, "sessionId": session_id, "draft": draft,
                "output": {"format": "mp4", "quality": "high"}}
        data = await self._request("POST", "/api/render/proxy/lambda", idempotent=True, json=body, unwrap=False)
        job = RenderJob.from_body(data)
        if not job.id:
            job.id = render_id
        return job

    async def render_status(self, render_id: str) -> tuple[RenderJob, float | None]:
        resp = await self._send("GET", f"/api/render/proxy/lambda/{render_id}", idempotent=True)
        body = parse_envelope(resp.status_code, resp.headers, resp.content, "GET render status", unwrap=False)
        return RenderJob.from_body(body), parse_retry_after(resp.headers)

    def fallback_download_url(self, render_id: str) -> str:
        return f"{self.api_url}/api/render/proxy/{render_id}/download"

    async def open_download(self, url: str, *, offset: int = 0) -> Any:
        """Start a GET for the result; the bearer token goes only to the API's own origin."""
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        if _same_origin(url, self.api_url):
            headers.update(await self._headers(True, None))
        return self._http.stream("GET", url, headers=headers,
                                 timeout=httpx.Timeout(C.READ_TIMEOUT, connect=C.CONNECT_TIMEOUT))


async def _read_capped(resp: httpx.Response, cap: int = C.MAX_ERROR_BODY) -> bytes:
    """An error reply's body, at most ``cap`` bytes (an endless HTML page can't hang us)."""
    try:
        return resp.content[:cap]
    except httpx.ResponseNotRead:
        pass
    raw = b""
    try:
        async for chunk in resp.aiter_raw():
            raw += chunk
            if len(raw) > cap:
                break
    except httpx.HTTPError:
        pass
    return raw[:cap]


def _version() -> str:
    from .._version import __version__

    return __version__
