"""Fault injection registry: named faults that fire on the next matching requests.

Posted to ``POST /_sandbox/faults`` as ``{"fault", "count" (-1: until cleared), "path"
(prefix of the request path), "params"}``. Names and params:

- ``expire_token`` (instant): invalidates every issued token; minting is allowed again.
- ``drop_session`` (instant): forgets all sessions.
- ``rate_limit``: 429, ``Retry-After: params.retry_after`` (1), envelope code 429.
- ``server_error``: ``params.status`` (503), ``params.body`` html|json|empty, optional ``retry_after``.
- ``cut_stream``: /run_sse drops the connection after ``params.after`` (2) event frames.
- ``malformed_frames``: invalid JSON frames, split ``data:`` lines, CRLF, comment lines.
- ``no_final_newline``: the last frame has no trailing newline.
- ``oversized_frame``: one data line of ``params.bytes`` (10 MB) before the normal frames.
- ``stall_stream``: keep-alives only for ``params.seconds`` (5, real seconds), then normal;
  ``params.silent`` sends nothing at all meanwhile.
- ``silent_reply``: no text frames, tool events only, and the draft changes.
- ``stream_error``: ``params.after`` (1) event frames, then ``{"error"}`` (or ADK
  ``errorCode``/``errorMessage`` with ``params.adk``) and close; the run is cancelled.
- ``slow_render``: the job takes ``params.seconds`` (10, real seconds).
- ``render_never_finishes``: the job stays processing. ``fail_render``: the job fails
  (``params.error`` text optional).
- ``expire_result_url``: result URLs answer 403.
- ``ignore_range``: downloads answer 200 with the full body.
- ``cut_download``: a download drops the connection after ``params.fraction`` (0.5).
- ``reset_upload``: an upload is aborted (TCP reset) a third of the way through the body.
- ``missing_client_id``: anonymous-token answers 400 even with the header.
- ``flood`` (benchmarks): /run_sse skips the agent and streams ``params.n`` (10000) events
  of a fixed mix as fast as possible (:mod:`.flood`); no credits are charged.
- ``hostile_reply``: every model text of the next run is replaced by ``params.text`` (one
  is added when the run has none); the draft is left alone unless the run edits it.
  For tests of untrusted backend text (GUI phrases, paths, URLs, markup, escapes).
- ``hostile_render``: the next render job reports ``params.url`` as its result URL
  (``{base}`` is replaced by the sandbox URL) and, with ``params.filename``, its download
  answers carry that ``Content-Disposition`` file name.

Clearing the faults (``DELETE /_sandbox/faults``) also releases render jobs held by
``render_never_finishes``: they complete normally.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAULT_NAMES", "INSTANT_FAULTS", "Fault", "FaultRegistry"]

#: Faults applied the moment they are posted (count and path are ignored).
INSTANT_FAULTS = frozenset({"expire_token", "drop_session"})

FAULT_NAMES = frozenset(
    {
        "expire_token",
        "drop_session",
        "rate_limit",
        "server_error",
        "cut_stream",
        "malformed_frames",
        "no_final_newline",
        "oversized_frame",
        "stall_stream",
        "silent_reply",
        "stream_error",
        "slow_render",
        "render_never_finishes",
        "fail_render",
        "expire_result_url",
        "ignore_range",
        "cut_download",
        "reset_upload",
        "missing_client_id",
        "flood",
        "hostile_reply",
        "hostile_render",
    }
)


@dataclass
class Fault:
    name: str
    count: int = 1  # -1: until cleared
    path: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def matches(self, name: str, path: str) -> bool:
        if self.name != name or self.count == 0:
            return False
        return self.path is None or path.startswith(self.path)

    def as_dict(self) -> dict[str, Any]:
        return {"fault": self.name, "count": self.count, "path": self.path, "params": self.params}


class FaultRegistry:
    """Pending faults. Used from the server's event loop only."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, name: str, count: int = 1, path: str | None = None,
            params: dict[str, Any] | None = None) -> Fault:
        if name not in FAULT_NAMES:
            raise KeyError(name)
        fault = Fault(name=name, count=int(count), path=path or None, params=dict(params or {}))
        self._faults.append(fault)
        return fault

    def peek(self, name: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.matches(name, path):
                return fault
        return None

    def take(self, name: str, path: str) -> dict[str, Any] | None:
        """Consume one firing of fault ``name`` for ``path``; its params, or None."""
        fault = self.peek(name, path)
        if fault is None:
            return None
        if fault.count > 0:
            fault.count -= 1
            if fault.count == 0:
                self._faults.remove(fault)
        return dict(fault.params)

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        return [f.as_dict() for f in self._faults]
