"""The ``flood`` fault (benchmarks): ``/run_sse`` answers with ``n`` events as fast as the
server can write them, instead of running the agent.

The mix repeats every 20 events: a tool call, 12 partial text chunks, a thought, a
comment keep-alive, an ADK event without content, the tool result, an empty ``data:``, a
``{"type": "heartbeat"}`` and the final (non-partial) text that repeats the partial
chunks. The stream always ends with a final text. The body is built once per ``n`` and
cached, then written in ``chunk`` byte pieces (default 64 KiB, not aligned to frames), so
the server is not the bottleneck of a client benchmark.
"""

from __future__ import annotations

import json
from typing import Any, AsyncIterator

__all__ = ["flood_body", "flood_chunks"]

_WORDS = ("the city timelapse gets a soft lo-fi beat under it while the title fades in and "
          "the cut lands on the downbeat so the clip feels calm warm and a little nostalgic").split()
_CACHE: dict[tuple[int, int], bytes] = {}


def _sse(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj, ensure_ascii=False, separators=(", ", ": ")).encode("utf-8") + b"\n\n"


def _event(inv: str, i: int, parts: list[dict[str, Any]] | None, role: str = "model", **extra: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {}
    if parts is not None:
        ev["content"] = {"role": role, "parts": parts}
        ev["partial"] = False
    ev.update({"author": "nemo_agent", "invocationId": inv, "id": f"fl{i:08d}",
               "timestamp": 1_700_000_000.0 + i / 1000.0,
               "actions": {"stateDelta": {}, "artifactDelta": {}, "requestedAuthConfigs": {}}})
    ev.update(extra)
    return ev


def _chunk_text(cycle: int, k: int) -> str:
    start = (cycle * 7 + k * 5) % len(_WORDS)
    words = [_WORDS[(start + j) % len(_WORDS)] for j in range(8)]
    return " ".join(words) + " "


def flood_body(n: int, seed: int = 0) -> bytes:
    """``n`` SSE events (see the module docstring); cached per (n, seed)."""
    n = max(1, int(n))
    key = (n, seed)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    inv = f"e-flood-{seed}"
    out: list[bytes] = []
    partials: list[str] = []
    i = 0
    while i < n:
        if i == n - 1:  # the last event is always a final text
            out.append(_sse(_event(inv, i, [{"text": "".join(partials) or "Done."}])))
            break
        cycle, pos = divmod(i, 20)
        cid = f"adk-flood-{cycle}"
        if pos == 0:
            partials = []
            out.append(_sse(_event(inv, i, [{"functionCall": {"id": cid, "name": "edit_multitrack",
                                                               "args": {"operation": "bgm", "style": "Lo-fi",
                                                                        "step": cycle}}}])))
        elif 1 <= pos <= 12:
            text = _chunk_text(cycle, pos)
            partials.append(text)
            out.append(_sse(_event(inv, i, [{"text": text}], partial=True)))
        elif pos == 13:
            out.append(_sse(_event(inv, i, [{"text": "Pick a calm track and duck it under speech.", "thought": True}])))
        elif pos == 14:
            out.append(b": ping\n\n")
        elif pos == 15:
            out.append(_sse(_event(inv, i, None)))
        elif pos == 16:
            out.append(_sse(_event(inv, i, [{"functionResponse": {"id": cid, "name": "edit_multitrack",
                                                                   "response": {"status": "success",
                                                                                "draft_revision": cycle}}}],
                                   role="user")))
        elif pos == 17:
            out.append(b"data:\n\n")
        elif pos == 18:
            out.append(_sse({"type": "heartbeat"}))
        else:
            out.append(_sse(_event(inv, i, [{"text": "".join(partials).strip()}])))
        i += 1
    body = b"".join(out)
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[key] = body
    return body


async def flood_chunks(params: dict[str, Any]) -> AsyncIterator[bytes]:
    body = flood_body(int(params.get("n", 10000)), int(params.get("seed", 0)))
    size = max(1, int(params.get("chunk", 64 * 1024)))
    view = memoryview(body)
    for off in range(0, len(body), size):
        yield bytes(view[off:off + size])
