"""Abstract steps of a scripted agent run (independent of the wire shape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

__all__ = ["Say", "Think", "CallTool", "ToolDone", "Work", "Step"]


@dataclass
class Say:
    """User-visible model text."""

    text: str
    thought: str | None = None  # an optional thought part sent alongside


@dataclass
class Think:
    text: str


@dataclass
class CallTool:
    call_id: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    long_running: bool = False


@dataclass
class ToolDone:
    call_id: str
    name: str
    response: dict[str, Any] = field(default_factory=dict)


@dataclass
class Work:
    """The agent is busy for ``seconds`` of wall-clock time (already scaled)."""

    seconds: float


Step = Union[Say, Think, CallTool, ToolDone, Work]
