"""Chat: one message to the backend agent over SSE, and the right words back.

Rules (PROTOCOL.md "The SSE stream"): partial text is provisional and never shown twice;
thoughts are never shown; tool activity becomes progress labels; keep-alives become a
"still working" line every ``still_working_every`` seconds; a stream that closes with no
text is answered with what changed in the timeline (state diff); a broken stream is never
re-sent: the state is polled until it changes or recovery gives up.
"""

from __future__ import annotations

import time
from typing import Any, AsyncIterator

from ..api import (
    ErrorEvent,
    TextEvent,
    ToolCallEvent,
)
from ..api._errors import (
    NemoError,
    SessionNotFoundError,
    StreamIdleTimeoutError,
    StreamInterruptedError,
    TimeoutError,
)
from ..replies import ErrorReply, Message, ProgressReply, Reply
from ..timeline import describe_draft_change, summarize
from ..translator import translate
from ._context import Context

__all__ = ["chat", "tool_kind"]

_TOOL_KINDS = (
    (("generate_video", "seedance", "video_gen", "text_to_video", "image_to_video"), "generate_video"),
    (("generate_music", "suno", "music", "audio", "voiceover", "tts"), "audio"),
    (("understand", "analyze", "analyse", "metadata", "caption", "transcribe"), "analyze"),
    (("edit", "draft", "multitrack", "timeline", "trim", "cut"), "edit"),
    (("render", "export"), "render"),
    (("upload", "import"), "media"),
)
_TRAILING_ISSUE = ("temporary issue", "暂时", "临时问题")


def tool_kind(name: str) -> str:
    n = (name or "").lower()
    for keys, kind in _TOOL_KINDS:
        if any(k in n for k in keys):
            return kind
    return "other"


async def _state_draft(ctx: Context, sid: str) -> tuple[dict | None, bool]:
    try:
        st = await ctx.client.state(sid)
        return st.state.draft, True
    except NemoError:
        return None, False


async def chat(ctx: Context, text: str) -> AsyncIterator[Reply]:
    notices: list[Reply] = []
    sid = await ctx.ensure_session(notices)
    for n in notices:
        yield n
    notices.clear()
    before, have_before = await _state_draft(ctx, sid)

    shown_text = False
    error_event: ErrorEvent | None = None
    partial_buf: list[str] = []
    actions: set[str] = set()
    labels_shown: set[str] = set()
    last_visible = time.monotonic()
    every = ctx.limits.still_working_every
    broke: NemoError | None = None

    opened = False
    try:
        for attempt in (0, 1):
            try:
                async with ctx.client.chat(sid, text, streaming=ctx.streaming, batched=True) as batches:
                    opened = True
                    async for batch in batches:
                        now = time.monotonic()
                        for ev in batch:
                            if isinstance(ev, TextEvent):
                                if ev.partial:
                                    partial_buf.append(ev.text)
                                    continue
                                partial_buf.clear()
                                if shown_text and any(k in ev.text for k in _TRAILING_ISSUE):
                                    continue
                                tr = translate(ev.text, ctx.lang)
                                actions |= tr.actions
                                if tr.text.strip():
                                    shown_text = True
                                    last_visible = now
                                    yield Message(tr.text)
                            elif isinstance(ev, ToolCallEvent):
                                kind = tool_kind(ev.name)
                                if kind not in labels_shown:
                                    labels_shown.add(kind)
                                    last_visible = now
                                    yield ProgressReply("agent", ctx.t("progress/tool", kind=kind,
                                                                       long=ev.long_running), None)
                            elif isinstance(ev, ErrorEvent):
                                error_event = ev
                        if now - last_visible >= every:  # only keep-alives for a while
                            last_visible = now
                            yield ProgressReply("agent", ctx.t("progress/still_working"), None)
                break
            except SessionNotFoundError:
                # 1002 before the stream opened is safe to replay: the run never began
                if opened or attempt:
                    raise
                sid = await ctx.restart_session(notices)
                before, have_before = None, True
                for n in notices:
                    yield n
                notices.clear()
    except (StreamInterruptedError, StreamIdleTimeoutError, TimeoutError) as exc:
        broke = exc
    if partial_buf and not shown_text and broke is None:  # progressive mode: aggregate never came
        tr = translate("".join(partial_buf), ctx.lang)
        actions |= set(tr.actions)
        if tr.text.strip():
            shown_text = True
            yield Message(tr.text)

    if broke is not None:
        async for r in _recover(ctx, sid, before, broke):
            yield r
        return

    if error_event is not None and not shown_text:
        after, ok = await _state_draft(ctx, sid)
        change = describe_draft_change(before, after, ctx.lang) if ok and have_before else None
        if change:
            yield Message(ctx.t("chat/silent_change", change=change))
            return
        yield ErrorReply("server", ctx.t("errors/agent"), ctx.t("errors/agent_hint"), exit_code=3)
        return

    if not shown_text:
        after, ok = await _state_draft(ctx, sid)
        change = describe_draft_change(before, after, ctx.lang) if ok else None
        if change:
            yield Message(ctx.t("chat/silent_change", change=change))
        else:
            yield Message(ctx.t("chat/no_reply"))
        return

    if "show_state" in actions:
        after, ok = await _state_draft(ctx, sid)
        if ok:
            yield Message(summarize(after, ctx.lang))
    if "show_credits" in actions:
        try:
            c = await ctx.client.credits()
            yield Message(ctx.t("credits/balance", available=_num(c.available), frozen=_num(c.frozen),
                                total=_num(c.total) if c.total is not None else None))
        except NemoError:
            pass


def _num(v: Any) -> Any:
    if v is None:
        return None
    return int(v) if float(v).is_integer() else round(float(v), 1)


async def _recover(ctx: Context, sid: str, before: dict | None, exc: NemoError) -> AsyncIterator[Reply]:
    """The stream broke: never re-send; watch the state for the result instead."""
    yield Message(ctx.t("chat/stream_broke"))
    for i, delay in enumerate(ctx.limits.recovery_delays):
        await ctx.sleep(delay)
        after, ok = await _state_draft(ctx, sid)
        if not ok:
            continue
        change = describe_draft_change(before, after, ctx.lang)
        if change:
            yield Message(ctx.t("chat/recovered", change=change))
            return
        yield ProgressReply("agent", ctx.t("progress/still_working"), None)
    code = "timeout" if isinstance(exc, TimeoutError) else "network"
    yield ErrorReply(code, ctx.t("chat/recovery_failed"), ctx.t("chat/recovery_failed_hint"), exit_code=3)
