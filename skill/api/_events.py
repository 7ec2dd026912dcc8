"""Typed events of the agent stream (``/run_sse``).

Plain slotted dataclasses: the stream can carry tens of thousands of frames, and these
are built once a frame on the hot path. ``parse_payload`` turns one decoded JSON payload
(ADK Event, camelCase or snake_case, or the simplified ``{"type": ...}`` shape) into a
list of events; it never raises on odd input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

__all__ = [
    "TextEvent",
    "ThoughtEvent",
    "ToolCallEvent",
    "ToolResultEvent",
    "KeepAliveEvent",
    "ErrorEvent",
    "AgentEvent",
    "KEEP_ALIVE",
    "parse_payload",
]


@dataclass(slots=True)
class TextEvent:
    text: str
    partial: bool = False
    author: str | None = None
    invocation_id: str | None = None


@dataclass(slots=True)
class ThoughtEvent:
    text: str


@dataclass(slots=True)
class ToolCallEvent:
    name: str
    id: str | None = None
    args: dict = field(default_factory=dict)
    long_running: bool = False


@dataclass(slots=True)
class ToolResultEvent:
    name: str
    id: str | None = None
    response: Any = None


@dataclass(slots=True)
class KeepAliveEvent:
    pass


@dataclass(slots=True)
class ErrorEvent:
    message: str
    code: str | None = None


AgentEvent = Union[TextEvent, ThoughtEvent, ToolCallEvent, ToolResultEvent, KeepAliveEvent, ErrorEvent]

KEEP_ALIVE = KeepAliveEvent()

_NO_IDS: frozenset[str] = frozenset()
_ERROR_KEYS = frozenset({"error", "errorCode", "error_code", "errorMessage", "error_message"})

_SIMPLE_TYPES = frozenset(
    {"text", "heartbeat", "ping", "keepalive", "keep_alive", "tool_call", "tool_result", "error", "thought"}
)


def _str(v: Any) -> str:
    if v is None:
        return ""
    return v if isinstance(v, str) else str(v)


def parse_payload(obj: Any) -> list[AgentEvent]:
    """Events carried by one decoded ``data:`` payload (possibly none -> keep-alive)."""
    if not isinstance(obj, dict):
        return [KEEP_ALIVE]
    typ = obj.get("type")
    if isinstance(typ, str) and (typ in _SIMPLE_TYPES or not isinstance(obj.get("content"), dict)):
        if typ == "text":
            return [TextEvent(_str(obj.get("content") if obj.get("content") is not None else obj.get("text")),
                              partial=bool(obj.get("partial")))]
        if typ == "heartbeat" or typ in ("ping", "keepalive", "keep_alive"):
            return [KEEP_ALIVE]
        if typ == "tool_call":
            args = obj.get("args")
            return [ToolCallEvent(_str(obj.get("name")), _str(obj.get("id")) or None,
                                  args if isinstance(args, dict) else {})]
        if typ == "tool_result":
            return [ToolResultEvent(_str(obj.get("name")), _str(obj.get("id")) or None, obj.get("result"))]
        if typ == "error":
            return [ErrorEvent(_str(obj.get("message") or obj.get("error") or obj.get("content")) or "error",
                               _str(obj.get("code")) or None)]
        if typ == "thought":
            return [ThoughtEvent(_str(obj.get("content")))]
    if not _ERROR_KEYS.isdisjoint(obj):  # rare: one set operation on the common path
        err = obj.get("error")
        if err:
            if isinstance(err, dict):
                return [ErrorEvent(_str(err.get("message")) or "error", _str(err.get("code")) or None)]
            return [ErrorEvent(_str(err))]
        code = obj.get("errorCode") or obj.get("error_code")
        msg = obj.get("errorMessage") or obj.get("error_message")
        if code or msg:
            return [ErrorEvent(_str(msg) or _str(code), _str(code) or None)]
    content = obj.get("content")
    if not isinstance(content, dict):
        return [KEEP_ALIVE]
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        return [KEEP_ALIVE]
    partial = bool(obj.get("partial"))
    author = obj.get("author")
    if not isinstance(author, str):
        author = None
    inv = obj.get("invocationId")
    if not isinstance(inv, str):
        inv = obj.get("invocation_id")
        if not isinstance(inv, str):
            inv = None
    role = content.get("role")
    long_ids: frozenset[str] | set[str] | None = None  # read only when a tool call shows up
    out: list[AgentEvent] = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        text = part.get("text")
        if text is not None and isinstance(text, str):  # the common case first
            if part.get("thought"):
                out.append(ThoughtEvent(text))
            elif role == "user":
                continue  # echo of the user's own message
            elif text:
                out.append(TextEvent(text, partial, author, inv))
            continue
        fc = part.get("functionCall") or part.get("function_call")
        if isinstance(fc, dict):
            if long_ids is None:
                lr = obj.get("longRunningToolIds") or obj.get("long_running_tool_ids")
                long_ids = {x for x in lr if isinstance(x, str)} if isinstance(lr, list) and lr else _NO_IDS
            args = fc.get("args")
            fid = _str(fc.get("id")) or None
            out.append(ToolCallEvent(_str(fc.get("name")), fid, args if isinstance(args, dict) else {},
                                     long_running=fid in long_ids if fid else False))
            continue
        fr = part.get("functionResponse") or part.get("function_response")
        if isinstance(fr, dict):
            out.append(ToolResultEvent(_str(fr.get("name")), _str(fr.get("id")) or None, fr.get("response")))
    return out or [KEEP_ALIVE]
