"""``SkillRuntime``: one user message -> route -> handler -> replies.

    async with SkillRuntime(load_manifest("SKILL.md"), api_url=...) as rt:
        async for reply in rt.handle("add lo-fi music", files=["clip.mp4"]):
            print(reply.type, reply.text)

Attachments are uploaded before the message is handled. Every failure ends as an
``ErrorReply`` and a ``Done(ok=False)`` with the exit status of INTERFACE.md; no
exception escapes ``handle`` except cancellation.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Sequence

import httpx

from .api import Attribution, NemoClient, Renderer
from .api._errors import EXIT_INTERRUPTED, EXIT_OK, NemoError, RenderTimeoutError
from .config import Settings, detect_platform
from .handlers._context import Context, Limits, error_replies
from .lang import detect_lang
from .manifest import Manifest
from .replies import Done, ErrorReply, Message, Reply
from .state import StateStore

if TYPE_CHECKING:  # pragma: no cover
    from .router import Route

__all__ = ["SkillRuntime", "Limits"]


# Handlers and the router are imported when first used: a one-shot `credits` command
# should not pay for the router's regexes or the chat handler's translator.
def _simple() -> Any:
    from .handlers import simple

    return simple


def _chat() -> Any:
    from .handlers import chat

    return chat


def _export() -> Any:
    from .handlers import export

    return export

log = logging.getLogger("skill.runtime")


class SkillRuntime:
    """The skill, as a library: hold one per process (it is safe to run many
    conversations through it at once; they share one connection pool)."""

    def __init__(
        self,
        manifest: Manifest,
        *,
        api_url: str | None = None,
        web_url: str | None = None,
        lang: str | None = None,
        out_dir: str | os.PathLike | None = None,
        state_dir: str | os.PathLike | None = None,
        token: str | None = None,
        client_id: str | None = None,
        platform: str | None = None,
        limits: Limits | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
        streaming: bool = False,
    ) -> None:
        self.manifest = manifest
        self.settings = Settings.from_env(api_url, web_url)
        self.lang = lang
        self.out_dir = Path(out_dir) if out_dir else Path.cwd()
        self.store = StateStore(Path(state_dir) if state_dir else None)
        self.key = StateStore.key(self.settings.api_url, manifest.name)
        self.limits = limits or Limits()
        self.streaming = streaming
        self._sleep = sleep or asyncio.sleep
        attribution = Attribution(manifest.name, manifest.version, platform or detect_platform(manifest.path))
        self.client = NemoClient(
            api_url=self.settings.api_url,
            attribution=attribution,
            store=self.store,
            profile_key=self.key,
            token=token if token is not None else self.settings.token,
            client_id=client_id,
            transport=transport,
            sleep=self._sleep,
            stream_idle_limit=self.limits.stream_idle_limit,
            stream_hard_limit=self.limits.stream_hard_limit,
        )
        self.renderer = Renderer(self.client, self.store, self.key, deadline=self.limits.render_deadline)
        self._session_locks: dict[str, asyncio.Lock] = {}
        self._create_lock = asyncio.Lock()
        self._renderers: dict[str, Renderer] = {self.key: self.renderer}
        self._warned_recovery = False

    async def __aenter__(self) -> "SkillRuntime":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()

    # -- plumbing ----------------------------------------------------------------------
    def _conversation_key(self, conversation: str | None) -> str:
        """Sessions and pending renders live per conversation; the token is shared."""
        return self.key if not conversation else f"{self.key}#{conversation}"

    def _context(self, text: str | None = None, out_dir: str | os.PathLike | None = None,
                 conversation: str | None = None) -> Context:
        key = self._conversation_key(conversation)
        renderer = self._renderers.get(key)
        if renderer is None:
            renderer = self._renderers[key] = Renderer(self.client, self.store, key,
                                                       deadline=self.limits.render_deadline)
        lock = self._session_locks.setdefault(key, asyncio.Lock())
        prof = self.store.load(key)
        lang = self.lang or (detect_lang(text, default="") if text else "") or prof.language \
            or _env_lang() or "en"
        ctx = Context(
            client=self.client, store=self.store, key=key, manifest=self.manifest,
            web_url=self.settings.web_url, lang=lang, out_dir=Path(out_dir) if out_dir else self.out_dir,
            limits=self.limits, renderer=renderer, streaming=self.streaming, sleep=self._sleep,
            session_lock=lock, create_lock=self._create_lock,
        )
        ctx.session_id, ctx.task_id = prof.session_id, prof.task_id
        return ctx

    async def _guard(self, intent: str, ctx: Context, gen: AsyncIterator[Reply]) -> AsyncIterator[Reply]:
        """Run one handler; errors become replies; always end with ``Done``."""
        ok = True
        exit_code = EXIT_OK
        if self.store.recovered_backup is not None and not self._warned_recovery:
            self._warned_recovery = True  # warn once: the damaged file was moved aside
            yield Message(ctx.t("setup/state_recovered"))
        try:
            async for r in gen:
                if isinstance(r, ErrorReply):
                    ok = False
                    exit_code = max(exit_code, r.exit_code)
                yield r
        except RenderTimeoutError as exc:
            for r in error_replies(ctx, exc):
                yield r
            ok, exit_code = False, EXIT_INTERRUPTED
        except NemoError as exc:
            log.debug("handler %s failed: %r", intent, exc, exc_info=True)
            for r in error_replies(ctx, exc):
                yield r
            ok, exit_code = False, exc.exit_code
        except (asyncio.CancelledError, KeyboardInterrupt, GeneratorExit):
            raise
        except Exception as exc:  # a bug: say so plainly, keep the traceback for NEMO_DEBUG
            log.debug("unexpected failure in %s", intent, exc_info=True)
            if os.environ.get("NEMO_DEBUG") == "1":
                raise
            yield ErrorReply("server", ctx.t("errors/unexpected"), ctx.t("errors/unexpected_hint"), exit_code=3)
            ok, exit_code = False, 3
            del exc
        yield Done(intent, ok, exit_code=exit_code)

    # -- public API --------------------------------------------------------------------
    def route(self, text: str, files: Sequence[str] = ()) -> "Route":
        from .router import classify

        return classify(text, files)

    async def handle(self, text: str, files: Sequence[str] = (), urls: Sequence[str] = (), *,
                     conversation: str | None = None) -> AsyncIterator[Reply]:
        """Route one user message as a chat host would, and yield the replies.

        Attachments (``files``, ``urls``) are uploaded first; the words decide the intent.
        A message that is itself an upload (paths or media URLs in it), or has no words,
        only uploads. ``conversation`` names an independent project (its own session and
        renders) for hosts that run many chats through one runtime; the token is shared.
        """
        from .router import classify

        text = text or ""
        route = classify(text)
        ctx = self._context(text, conversation=conversation)
        files = [str(f) for f in files]
        extra_urls = [u for u in urls if u not in route.urls]
        if route.intent == "upload" or (not text.strip() and (files or extra_urls)):
            gen = _simple().upload(ctx, list(route.paths) + files, list(route.urls) + extra_urls)
            async for r in self._guard("upload", ctx, gen):
                yield r
            return
        if files or extra_urls:
            async for r in self._guard("upload", ctx, _simple().upload(ctx, files, extra_urls, suggest_next=False)):
                if isinstance(r, Done):
                    if not r.ok:
                        yield r
                        return
                    continue
                yield r
        async for r in self._dispatch(ctx, route):
            yield r

    async def _dispatch(self, ctx: Context, route: "Route") -> AsyncIterator[Reply]:
        intent = route.intent
        if intent == "export":
            gen = _export().export(ctx)
        elif intent == "credits":
            gen = _simple().credits(ctx)
        elif intent == "state":
            gen = _simple().state(ctx)
        elif intent == "upload":
            gen = _simple().upload(ctx, list(route.paths), list(route.urls))
        else:
            intent = "chat"
            gen = _chat().chat(ctx, route.text)
        async for r in self._guard(intent, ctx, gen):
            yield r

    def upload(self, items: Sequence[str], *, conversation: str | None = None) -> AsyncIterator[Reply]:
        paths = [i for i in items if not i.lower().startswith(("http://", "https://"))]
        urls = [i for i in items if i.lower().startswith(("http://", "https://"))]
        ctx = self._context(conversation=conversation)
        return self._guard("upload", ctx, _simple().upload(ctx, paths, urls))

    def chat(self, text: str, *, conversation: str | None = None) -> AsyncIterator[Reply]:
        ctx = self._context(text, conversation=conversation)
        return self._guard("chat", ctx, _chat().chat(ctx, text))

    def state(self, *, conversation: str | None = None) -> AsyncIterator[Reply]:
        ctx = self._context(conversation=conversation)
        return self._guard("state", ctx, _simple().state(ctx))

    def credits(self, *, conversation: str | None = None) -> AsyncIterator[Reply]:
        ctx = self._context(conversation=conversation)
        return self._guard("credits", ctx, _simple().credits(ctx))

    def export(self, *, out_dir: str | os.PathLike | None = None, resume: str | bool | None = None,
               wait: bool = True, conversation: str | None = None) -> AsyncIterator[Reply]:
        ctx = self._context(out_dir=out_dir, conversation=conversation)
        return self._guard("export", ctx, _export().export(
            ctx, out_dir=Path(out_dir) if out_dir else None, resume=resume, wait=wait))

    async def reset(self, *, conversation: str | None = None) -> AsyncIterator[Reply]:
        """Forget the session (the token is kept): the next message starts a new project."""
        def fn(p: Any) -> None:
            p.session_id = p.task_id = None

        self.store.update(self._conversation_key(conversation), fn)
        ctx = self._context(conversation=conversation)
        yield Message(ctx.t("setup/reset"))
        yield Done("state", True)


def _env_lang() -> str:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        v = os.environ.get(var, "")
        if v and v not in ("C", "POSIX") and not v.startswith("C."):
            return v.split(".")[0].replace("_", "-")
    return ""
