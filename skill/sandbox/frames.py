"""SSE frame encoding for ``/run_sse``: ADK Event JSON or the simplified shape."""

from __future__ import annotations

import json
import secrets
import string
import time
from typing import Any

from .steps import CallTool, Say, Step, Think, ToolDone

__all__ = [
    "AGENT_NAME",
    "FrameEncoder",
    "sse",
    "keepalive_frame",
    "error_frame",
    "oversized_frame",
    "invalid_json_frame",
    "split_data_lines",
    "to_crlf",
]

AGENT_NAME = "nemo_agent"
_ALNUM = string.ascii_letters + string.digits


def _dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)


def sse(payload: Any) -> bytes:
    """One ``data: <json>`` frame followed by a blank line."""
    return b"data: " + _dumps(payload).encode("utf-8") + b"\n\n"


def keepalive_frame(n: int, shape: str) -> bytes:
    """The ``n``-th keep-alive; rotates comment lines, empty data and heartbeats."""
    kind = n % 4
    if kind == 0:
        return b": ping\n\n"
    if kind == 1:
        return b"data:\n\n"
    if kind == 2 or shape == "simplified":
        return sse({"type": "heartbeat"})
    return sse(_bare_event())  # an ADK event with no content: also a keep-alive


def _bare_event(invocation_id: str | None = None) -> dict[str, Any]:
    return {
        "author": AGENT_NAME,
        "invocationId": invocation_id or f"e-{_uuid()}",
        "id": _event_id(),
        "timestamp": time.time(),
        "actions": _actions(),
    }


def error_frame(message: str, adk: bool, invocation_id: str | None = None) -> bytes:
    if adk:
        event = _bare_event(invocation_id)
        event.update({"errorCode": "INTERNAL", "errorMessage": message})
        return sse(event)
    return sse({"error": message})


def oversized_frame(size: int, shape: str) -> bytes:
    """One data line of about ``size`` bytes that is a valid keep-alive payload."""
    head = {"type": "heartbeat"} if shape == "simplified" else _bare_event()
    base = len(sse({**head, "customMetadata": {"padding": ""}}))
    pad = "x" * max(0, size - base)
    return sse({**head, "customMetadata": {"padding": pad}})


def invalid_json_frame() -> bytes:
    return b'data: {"content": {"parts": [{"text": "unterminated\n\n'


def split_data_lines(frame: bytes) -> bytes:
    """Rewrite one ``data: {json}`` frame as several ``data:`` lines (valid once rejoined)."""
    body = frame[len(b"data: "):].rstrip(b"\n").decode("utf-8")
    pieces = body.split(', "')
    if len(pieces) < 2:
        return frame
    lines = [pieces[0] + ","] + ['"' + p + "," for p in pieces[1:-1]] + ['"' + pieces[-1]]
    return "".join(f"data: {line}\n" for line in lines).encode("utf-8") + b"\n"


def to_crlf(frame: bytes) -> bytes:
    return frame.replace(b"\n", b"\r\n")


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


def _event_id() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(8))


def _actions() -> dict[str, Any]:
    return {"stateDelta": {}, "artifactDelta": {}, "requestedAuthConfigs": {}}


def _chunks(text: str, n: int = 3) -> list[str]:
    words = text.split(" ")
    if len(words) < 2:
        size = max(1, len(text) // n)
        return [text[i:i + size] for i in range(0, len(text), size)] or [text]
    per = max(1, -(-len(words) // n))
    groups = [words[i:i + per] for i in range(0, len(words), per)]
    out = [" ".join(g) for g in groups]
    return [c + (" " if i < len(out) - 1 else "") for i, c in enumerate(out)]


class FrameEncoder:
    """Turns agent steps into SSE frames for one run."""

    def __init__(self, shape: str = "adk", streaming: bool = False) -> None:
        self.shape = shape
        self.streaming = streaming
        self.invocation_id = f"e-{_uuid()}"

    def _event(self, role: str, parts: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        event: dict[str, Any] = {
            "content": {"role": role, "parts": parts},
            "partial": False,
            "author": AGENT_NAME,
            "invocationId": self.invocation_id,
            "id": _event_id(),
            "timestamp": time.time(),
            "actions": _actions(),
        }
        event.update(extra)
        return event

    def encode(self, step: Step) -> list[bytes]:
        if self.shape == "simplified":
            return self._simplified(step)
        return self._adk(step)

    def _adk(self, step: Step) -> list[bytes]:
        if isinstance(step, Say):
            frames: list[bytes] = []
            if self.streaming:
                for chunk in _chunks(step.text):
                    frames.append(sse(self._event("model", [{"text": chunk}], partial=True)))
            parts: list[dict[str, Any]] = []
            if step.thought:
                parts.append({"text": step.thought, "thought": True})
            parts.append({"text": step.text})
            frames.append(sse(self._event("model", parts)))
            return frames
        if isinstance(step, Think):
            return [sse(self._event("model", [{"text": step.text, "thought": True}]))]
        if isinstance(step, CallTool):
            call = {"functionCall": {"id": step.call_id, "name": step.name, "args": step.args}}
            extra: dict[str, Any] = {}
            if step.long_running:
                extra["longRunningToolIds"] = [step.call_id]
            return [sse(self._event("model", [call], **extra))]
        if isinstance(step, ToolDone):
            resp = {"functionResponse": {"id": step.call_id, "name": step.name, "response": step.response}}
            return [sse(self._event("user", [resp]))]
        return []

    def _simplified(self, step: Step) -> list[bytes]:
        if isinstance(step, Say):
            return [sse({"type": "text", "content": step.text})]
        if isinstance(step, CallTool):
            return [sse({"type": "tool_call", "name": step.name, "args": step.args})]
        if isinstance(step, ToolDone):
            return [sse({"type": "tool_result", "name": step.name, "result": step.response})]
        return []
