"""The agent stream: bytes of ``/run_sse`` -> typed events.

Line splitting is httpx-sse's (``\\r\\n``, ``\\r`` and ``\\n`` only, a CR split across
chunks handled; never ``str.splitlines``); text is decoded incrementally as UTF-8 by
httpx. On top of that this module adds what the contract needs and httpx-sse does not:
comment lines (``: ping``) become keep-alive events, an unterminated last event is
flushed at EOF rather than dropped, a single over-long line is refused before it eats
memory, malformed JSON frames are skipped, and the hard time limit is enforced on every
chunk (the idle limit is httpx's read timeout).
"""

from __future__ import annotations

import json
import logging
import time
from typing import AsyncIterator

import httpx
from httpx_sse._decoders import SSELineDecoder  # the spec-correct line splitter

from . import _constants as C
from ._errors import StreamIdleTimeoutError, StreamInterruptedError, TimeoutError
from ._events import KEEP_ALIVE, AgentEvent, parse_payload

__all__ = ["iter_events", "iter_event_batches", "iter_events_from_text", "iter_batches_from_text", "decode_frames"]

log = logging.getLogger("skill.sse")


class _FrameAssembler:
    """SSE field handling: ``data:`` lines joined with ``\\n``, comments are keep-alives."""

    __slots__ = ("data", "has_data", "malformed")

    def __init__(self) -> None:
        self.data: list[str] = []
        self.has_data = False
        self.malformed = 0

    def feed(self, line: str, out: list[AgentEvent]) -> None:
        if line[:6] == "data: ":  # the common case, without partition()
            self.data.append(line[6:])
            self.has_data = True
            return
        if not line:
            if self.has_data:
                self._dispatch(out)
            return
        if line[0] == ":":
            out.append(KEEP_ALIVE)
            return
        name, sep, value = line.partition(":")
        if not sep:
            name, value = line, ""
        elif value[:1] == " ":
            value = value[1:]
        if name == "data":
            self.data.append(value)
            self.has_data = True
        # event:, id:, retry: and unknown fields carry nothing for us

    def flush(self, out: list[AgentEvent]) -> None:
        if self.has_data:
            self._dispatch(out)

    def _dispatch(self, out: list[AgentEvent]) -> None:
        payload = self.data[0] if len(self.data) == 1 else "\n".join(self.data)
        self.data = []
        self.has_data = False
        if not payload or payload.isspace():  # (strip() would copy every payload)
            out.append(KEEP_ALIVE)
            return
        try:
            obj = json.loads(payload)
            events = parse_payload(obj)
        except (ValueError, TypeError, AttributeError, RecursionError):
            # one odd frame must not end the turn: count it and read on
            self.malformed += 1
            log.debug("skipped a malformed frame (%d chars)", len(payload))
            return
        out.extend(events)


def decode_frames(chunks: list[str]) -> list[AgentEvent]:
    """Events from already-decoded text chunks (tests and fuzzing; same rules as streaming)."""
    lines = SSELineDecoder()
    frames = _FrameAssembler()
    out: list[AgentEvent] = []
    for text in chunks:
        if not text:
            continue
        for line in lines.decode(text):
            frames.feed(line, out)
    for line in lines.flush():
        frames.feed(line, out)
    frames.flush(out)
    return out


async def iter_batches_from_text(
    texts: AsyncIterator[str],
    *,
    hard_deadline: float | None = None,
    max_line_chars: int | None = None,
) -> AsyncIterator[list[AgentEvent]]:
    """Lists of events, one list per chunk of text that completed any (the hot path: one
    async step per network chunk, not per event)."""
    limit = C.MAX_FRAME_CHARS if max_line_chars is None else max_line_chars  # read at call time
    lines = SSELineDecoder()
    frames = _FrameAssembler()
    out: list[AgentEvent] = []
    feed = frames.feed
    async for text in texts:
        if hard_deadline is not None and time.monotonic() > hard_deadline:
            raise TimeoutError("the agent did not finish within the time limit")
        if not text:
            continue
        for line in lines.decode(text):
            feed(line, out)
        if lines.buffer and sum(map(len, lines.buffer)) > limit:
            raise StreamInterruptedError("the agent stream sent a frame larger than the limit")
        if out:
            yield out
            out = []
    for line in lines.flush():
        feed(line, out)
    frames.flush(out)  # decision: an unterminated last event is delivered, not dropped
    if out:
        yield out


async def iter_events_from_text(
    texts: AsyncIterator[str],
    *,
    hard_deadline: float | None = None,
    max_line_chars: int | None = None,
) -> AsyncIterator[AgentEvent]:
    """Events from an async iterator of decoded text chunks."""
    async for batch in iter_batches_from_text(texts, hard_deadline=hard_deadline, max_line_chars=max_line_chars):
        for ev in batch:
            yield ev


async def iter_event_batches(
    response: httpx.Response,
    *,
    hard_deadline: float | None = None,
    max_line_chars: int | None = None,
) -> AsyncIterator[list[AgentEvent]]:
    """Batches of events of an open ``text/event-stream`` response; transport failures
    become typed errors."""
    try:
        async for batch in iter_batches_from_text(
            response.aiter_text(), hard_deadline=hard_deadline, max_line_chars=max_line_chars
        ):
            yield batch
    except httpx.ReadTimeout as exc:
        raise StreamIdleTimeoutError("the agent stream went silent") from exc
    except httpx.TimeoutException as exc:
        raise StreamIdleTimeoutError("the agent stream timed out") from exc
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.NetworkError, httpx.DecodingError) as exc:
        raise StreamInterruptedError("the agent stream broke off") from exc


async def iter_events(
    response: httpx.Response,
    *,
    hard_deadline: float | None = None,
    max_line_chars: int | None = None,
) -> AsyncIterator[AgentEvent]:
    """Events of an open ``text/event-stream`` response, one at a time."""
    async for batch in iter_event_batches(response, hard_deadline=hard_deadline, max_line_chars=max_line_chars):
        for ev in batch:
            yield ev
