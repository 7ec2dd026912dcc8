"""The direct API intents: credits, state, upload (no agent involved)."""

from __future__ import annotations

from typing import Any, AsyncIterator, Sequence

from ..api import check_media_url, check_upload_path
from ..api._errors import NemoError
from ..replies import Message, Reply
from ..timeline import summarize
from ._context import Context, ProgressPump

__all__ = ["credits", "state", "upload", "timeline_text"]


async def credits(ctx: Context) -> AsyncIterator[Reply]:
    notices: list[Reply] = []
    await ctx.client.ensure_token()  # first contact: a token, no session needed
    c = await ctx.client.credits()
    for n in notices:
        yield n
    yield Message(ctx.t("credits/balance", available=_num(c.available), frozen=_num(c.frozen),
                        total=_num(c.total) if c.total is not None else None))


def _num(v: float | None) -> Any:
    if v is None:
        return None
    return int(v) if float(v).is_integer() else round(v, 1)


async def timeline_text(ctx: Context, notices: list[Reply]) -> tuple[str, Any]:
    st = await ctx.with_session(ctx.client.state, notices)
    draft = st.state.draft
    return summarize(draft, ctx.lang), st


async def state(ctx: Context) -> AsyncIterator[Reply]:
    notices: list[Reply] = []
    text, st = await timeline_text(ctx, notices)
    for n in notices:
        yield n
    yield Message(text)
    media = st.state.video_infos
    if media:
        yield Message(ctx.t("state/media", count=len(media)))
    link = ctx.project_link()
    if link:
        yield link


async def upload(ctx: Context, paths: Sequence[str], urls: Sequence[str], *,
                 suggest_next: bool = True) -> AsyncIterator[Reply]:
    """Check everything locally first (type, size, scheme), then send."""
    if not paths and not urls:
        yield Message(ctx.t("upload/how"))
        return
    checked = [check_upload_path(p)[0] for p in paths]
    clean_urls = [check_media_url(u) for u in urls]
    notices: list[Reply] = []
    results = []
    if checked:
        pump = ProgressPump(ctx)
        sink: list = []
        sid = await ctx.ensure_session(notices)
        for n in notices:
            yield n
        notices.clear()

        async def send(sid: str) -> Any:
            return await ctx.client.upload_files(sid, checked, on_progress=pump.callback)

        async for r in pump.run(ctx.with_session(send, notices), sink):
            yield r
        results.extend(sink[0].files)
    if clean_urls:
        res = await ctx.with_session(lambda sid: ctx.client.upload_urls(sid, clean_urls), notices)
        results.extend(res.files)
    for n in notices:
        yield n
    for f in results:
        yield Message(ctx.t("upload/done", name=f.filename or "file", kind=f.file_type or "media",
                            duration=f.duration, width=f.width, height=f.height))
    if suggest_next:
        yield Message(ctx.t("upload/next", count=len(results)))
