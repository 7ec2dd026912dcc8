"""One chat run: the agent works in a background task (it survives a dropped stream, as
the real backend's does); the HTTP response turns its steps into SSE frames, adds
keep-alives and applies stream faults."""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator

from . import frames as fr
from .agent import AgentPlan
from .backend import SandboxBackend, Session, User
from .steps import Say, Step, Work
from .streaming import CUT

__all__ = ["ChatRun", "StreamFaults", "sse_frames"]

_DONE = object()


class ChatRun:
    """Runs an :class:`AgentPlan` in the background, queueing its steps."""

    def __init__(self, plan: AgentPlan, backend: SandboxBackend, user: User, session: Session,
                 message: str) -> None:
        self.plan = plan
        self.backend = backend
        self.user = user
        self.session = session
        self.message = message
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.frozen = 0
        self.replies: list[str] = []

    def start(self) -> None:
        cost = self.plan.cost
        self.user.available -= cost
        if self.plan.intent == "generate":
            self.user.frozen += cost
            self.frozen = cost
        self.backend.stats.chat_runs += 1
        self.session.history.append({"role": "user", "text": self.message, "ts": time.time()})
        self.task = asyncio.create_task(self._run())
        self.backend.runs.add(self.task)
        self.task.add_done_callback(self.backend.runs.discard)

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def _run(self) -> None:
        try:
            async for step in self.plan.steps():
                if isinstance(step, Work):
                    await asyncio.sleep(step.seconds)
                    continue
                if isinstance(step, Say):
                    self.replies.append(step.text)
                await self.queue.put(step)
        finally:
            if self.frozen:
                self.user.frozen = max(0, self.user.frozen - self.frozen)
                self.frozen = 0
            self.session.history.append(
                {"role": "model", "text": "\n".join(self.replies), "intent": self.plan.intent, "ts": time.time()}
            )
            self.queue.put_nowait(_DONE)


class StreamFaults:
    """The stream faults taken for one ``/run_sse`` request (params dicts or None)."""

    def __init__(self, **taken: dict[str, Any] | None) -> None:
        self.cut_stream = taken.get("cut_stream")
        self.malformed = taken.get("malformed_frames")
        self.no_final_newline = taken.get("no_final_newline")
        self.oversized = taken.get("oversized_frame")
        self.stall = taken.get("stall_stream")
        self.stream_error = taken.get("stream_error")


async def sse_frames(run: ChatRun, encoder: fr.FrameEncoder, interval: float,
                     faults: StreamFaults) -> AsyncIterator[Any]:
    """Frames (bytes) for the response, or ``CUT`` to drop the connection."""
    shape = encoder.shape
    ka_count = 0
    events_sent = 0
    held: bytes | None = None
    cut_after = int(faults.cut_stream.get("after", 2)) if faults.cut_stream is not None else None
    err_after = int(faults.stream_error.get("after", 1)) if faults.stream_error is not None else None
    malformed_n = 0

    def keepalive() -> bytes:
        nonlocal ka_count
        ka_count += 1
        return fr.keepalive_frame(ka_count - 1, shape)

    def mangle(frame: bytes) -> list[bytes]:
        nonlocal malformed_n
        malformed_n += 1
        kind = malformed_n % 4
        if kind == 1:
            return [fr.invalid_json_frame(), b": comment between frames\r\n\r\n", fr.split_data_lines(frame)]
        if kind == 2:
            return [fr.to_crlf(frame)]
        if kind == 3:
            return [b":keep-alive\n", fr.to_crlf(fr.split_data_lines(frame))]
        return [frame, fr.invalid_json_frame()]

    if faults.oversized is not None:
        yield fr.oversized_frame(int(faults.oversized.get("bytes", 10 * 1024 * 1024)), shape)
    if faults.stall is not None:
        seconds = float(faults.stall.get("seconds", 5.0))
        if faults.stall.get("silent"):
            await asyncio.sleep(seconds)
        else:
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                await asyncio.sleep(min(interval, left))
                if deadline - time.monotonic() > 0:
                    yield keepalive()
    while True:
        try:
            item = await asyncio.wait_for(run.queue.get(), timeout=interval)
        except asyncio.TimeoutError:
            if held is not None:
                yield held
                held = None
            yield keepalive()
            continue
        if item is _DONE:
            break
        step: Step = item
        for frame in encoder.encode(step):
            if cut_after is not None and events_sent >= cut_after:
                if held is not None:
                    yield held
                yield CUT
                return
            if err_after is not None and events_sent >= err_after:
                run.cancel()
                if held is not None:
                    yield held
                yield fr.error_frame("Internal agent error: the model call failed",
                                     adk=bool(faults.stream_error.get("adk")),
                                     invocation_id=encoder.invocation_id)
                return
            out = mangle(frame) if faults.malformed is not None else [frame]
            events_sent += 1
            for chunk in out:
                if faults.no_final_newline is not None:
                    if held is not None:
                        yield held
                    held = chunk
                else:
                    yield chunk
    if cut_after is not None:
        if held is not None:
            yield held
        yield CUT
        return
    if err_after is not None:
        if held is not None:
            yield held
        yield fr.error_frame("Internal agent error: the model call failed",
                             adk=bool(faults.stream_error.get("adk")), invocation_id=encoder.invocation_id)
        return
    if held is not None:
        yield held.rstrip(b"\r\n")
