"""What every handler gets: the client, the state, the language, and small shared steps
(first-contact setup, the 1002 restart, errors -> replies, progress pumping)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar

from .._templates import render
from ..api import NemoClient, Progress, Renderer
from ..api import _constants as C
from ..api._errors import (
    InsufficientCreditsError,
    NemoError,
    SessionNotFoundError,
)
from ..replies import ErrorReply, LinkReply, Message, ProgressReply, Reply
from ..state import file_lock

__all__ = ["Context", "Limits", "ProgressPump", "error_replies"]

log = logging.getLogger("skill.runtime")
T = TypeVar("T")
SESSION_LOCK = "session.lock"


@dataclass
class Limits:
    """Time policy of a runtime (tests shrink these; defaults follow PROTOCOL.md)."""

    still_working_every: float = C.STILL_WORKING_EVERY
    stream_idle_limit: float = C.STREAM_IDLE_LIMIT
    stream_hard_limit: float = C.STREAM_HARD_LIMIT
    render_deadline: float = C.RENDER_DEADLINE
    recovery_delays: tuple[float, ...] = C.RECOVERY_POLL_DELAYS


@dataclass
class Context:
    client: NemoClient
    store: Any
    key: str
    manifest: Any
    web_url: str
    lang: str
    out_dir: Path
    limits: Limits
    renderer: Renderer
    streaming: bool = False
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    session_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: one per runtime: only one coroutine of this process waits for session.lock at a time
    #: (a thread per waiter would starve the executor that must release it)
    create_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: set for one handle() call: the session id in use
    session_id: str | None = None
    task_id: str | None = None

    def t(self, template: str, /, **kw: Any) -> str:
        return render(template, self.lang, **kw)

    def profile(self) -> Any:
        return self.store.load(self.key)

    # -- session -----------------------------------------------------------------------
    async def ensure_session(self, notices: list[Reply]) -> str:
        """The project's session id; the first contact creates token and session quietly
        with one short "setting things up" line.

        Creation runs under an inter-process lock (``session.lock``, apart from the state
        lock that token renewal takes) and re-reads the state inside it, so parallel
        first calls from several CLI processes share one project instead of each making
        its own.
        """
        if self.session_id:
            return self.session_id
        async with self.session_lock:
            if self.session_id:
                return self.session_id
            prof = self.profile()
            if prof.session_id:
                self.session_id, self.task_id = prof.session_id, prof.task_id
                return prof.session_id
            await self.client.ensure_token()
            async with self.create_lock:
                loop = asyncio.get_running_loop()
                cm = file_lock(self.store.directory / SESSION_LOCK)
                await loop.run_in_executor(None, cm.__enter__)
                try:
                    prof = self.profile()
                    if prof.session_id:  # another process made it meanwhile
                        self.session_id, self.task_id = prof.session_id, prof.task_id
                        return prof.session_id
                    notices.append(Message(self.t("setup/setting_up")))
                    return await self._new_session()
                finally:
                    cm.__exit__(None, None, None)  # unlock + close: instant, no thread needed

    async def _new_session(self) -> str:
        info = await self.client.create_session(self.lang if self.lang != "zh" else "zh-CN")
        sid, tid = info.session_id, info.task_id
        lang = self.lang

        def fn(p: Any) -> None:
            p.session_id, p.task_id, p.language = sid, tid, lang

        self.store.update(self.key, fn)
        self.session_id, self.task_id = sid, tid
        return sid

    async def restart_session(self, notices: list[Reply]) -> str:
        """1002: a new project, and the user is told so."""
        async with self.session_lock:
            sid = await self._new_session()
        notices.append(Message(self.t("setup/project_restarted")))
        return sid

    async def with_session(self, fn: Callable[[str], Awaitable[T]], notices: list[Reply], *,
                           replay: bool = True) -> T:
        sid = await self.ensure_session(notices)
        try:
            return await fn(sid)
        except SessionNotFoundError:
            sid = await self.restart_session(notices)
            if not replay:
                raise
            return await fn(sid)

    def project_link(self) -> LinkReply | None:
        if not self.task_id or not self.session_id:
            return None
        return LinkReply(f"{self.web_url}/workspace/task/{self.task_id}?session={self.session_id}",
                         self.t("links/project"))


def error_replies(ctx: Context, exc: NemoError) -> list[Reply]:
    """A typed error in the user's words: what happened and what to do."""
    d = dict(exc.detail)
    code = exc.code
    out: list[Reply] = []
    name = f"errors/{code}"
    try:
        text = ctx.t(name, **{"detail": d, "status": exc.status})
        hint = ctx.t(f"errors/{code}_hint", **{"detail": d, "status": exc.status})
    except Exception:  # a code without its own template
        text = ctx.t("errors/server", detail=d, status=exc.status)
        hint = ctx.t("errors/server_hint", detail=d, status=exc.status)
    out.append(ErrorReply(code=code, text=text, hint=hint, exit_code=exc.exit_code))
    if isinstance(exc, InsufficientCreditsError):
        user_id = ctx.client.user_id or ctx.profile().user_id
        if user_id and user_id.startswith("anon_") and not ctx.client._env_token:
            out.append(LinkReply(f"{ctx.web_url}/register?bind={user_id}", ctx.t("links/register")))
    return out


class ProgressPump:
    """Run a coroutine that reports ``Progress`` through a callback, yielding throttled
    progress replies while it runs (whole percents, or every few seconds without one)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.queue: asyncio.Queue[Progress] = asyncio.Queue()
        self._last: dict[str, tuple[float, float]] = {}

    def callback(self, p: Progress) -> None:
        self.queue.put_nowait(p)

    def _reply(self, p: Progress) -> ProgressReply | None:
        now = time.monotonic()
        pct = None if p.percent is None else float(int(p.percent))
        last = self._last.get(p.stage)
        if last is not None:
            last_pct, last_t = last
            if pct is not None and pct == last_pct:
                return None
            if pct is None and now - last_t < 5.0:
                return None
        self._last[p.stage] = (pct if pct is not None else -1.0, now)
        return ProgressReply(p.stage, self.ctx.t(f"progress/{p.stage}", percent=pct, done=p.done, total=p.total),
                             pct)

    async def run(self, coro: Awaitable[T], sink: list) -> AsyncIterator[ProgressReply]:
        """Yields progress; the coroutine's result is appended to ``sink`` (or it raises)."""
        task = asyncio.ensure_future(coro)
        try:
            while True:
                getter = asyncio.ensure_future(self.queue.get())
                done, _ = await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    r = self._reply(getter.result())
                    if r is not None:
                        yield r
                else:
                    getter.cancel()
                if task in done:
                    while not self.queue.empty():
                        r = self._reply(self.queue.get_nowait())
                        if r is not None:
                            yield r
                    sink.append(task.result())
                    return
        finally:
            if not task.done():
                task.cancel()
                try:
                    await task
                except BaseException:
                    pass

