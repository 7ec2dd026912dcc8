"""Typed replies: the same objects as the ``--json`` lines of INTERFACE.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

__all__ = [
    "Message",
    "ProgressReply",
    "FileReply",
    "LinkReply",
    "ErrorReply",
    "Done",
    "Reply",
    "to_json",
]


@dataclass(frozen=True, slots=True)
class Message:
    text: str
    type: str = "message"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "message", "text": self.text}


@dataclass(frozen=True, slots=True)
class ProgressReply:
    stage: str  # upload | agent | render | download
    text: str
    percent: float | None = None
    type: str = "progress"

    def to_dict(self) -> dict[str, Any]:
        pct = None if self.percent is None else round(max(0.0, min(100.0, self.percent)), 1)
        return {"type": "progress", "stage": self.stage, "percent": pct, "text": self.text}


@dataclass(frozen=True, slots=True)
class FileReply:
    path: str
    bytes: int
    kind: str  # video | audio | image | other
    text: str = ""
    type: str = "file"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "file", "path": self.path, "bytes": self.bytes, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class LinkReply:
    url: str
    text: str
    type: str = "link"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "link", "url": self.url, "text": self.text}


@dataclass(frozen=True, slots=True)
class ErrorReply:
    code: str
    text: str
    hint: str = ""
    exit_code: int = 1
    type: str = "error"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "error", "code": self.code, "text": self.text, "hint": self.hint}


@dataclass(frozen=True, slots=True)
class Done:
    intent: str
    ok: bool
    text: str = ""
    exit_code: int = 0
    type: str = "done"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "done", "intent": self.intent, "ok": self.ok}


Reply = Union[Message, ProgressReply, FileReply, LinkReply, ErrorReply, Done]


def to_json(reply: Reply, *, ascii_only: bool = False) -> str:
    import json

    return json.dumps(reply.to_dict(), ensure_ascii=ascii_only)
