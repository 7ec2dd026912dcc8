"""A streaming ASGI response that can also drop the connection mid-body (for faults)."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Callable, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

__all__ = ["CUT", "ConnectionDropped", "FrameStream", "close_connection", "connection_closer"]


class _Cut:
    """Sentinel: close the TCP connection here, without finishing the body."""

    def __repr__(self) -> str:
        return "CUT"


CUT = _Cut()


class ConnectionDropped(Exception):
    """Raised when the server cannot reach its transport; the server then drops the connection."""


def close_connection(receive: Receive, send: Send, hard: bool = False) -> None:
    """Close the client connection now (``hard``: abort, discarding buffered output).

    Works with uvicorn's h11 and httptools protocols, whose ASGI callables are bound
    methods of a cycle object holding the transport. Marks the cycle disconnected so the
    server writes nothing more (no chunked terminator, no error page).
    """
    for fn in (send, receive):
        owner = getattr(fn, "__self__", None)
        transport = getattr(owner, "transport", None)
        if transport is None:
            continue
        if hard:
            transport.abort()
        else:
            transport.close()
        if hasattr(owner, "disconnected"):
            owner.disconnected = True
        return
    raise ConnectionDropped("connection dropped by sandbox fault")


def connection_closer(scope: Scope) -> Callable[..., None]:
    closer = scope.get("sandbox.close")
    if closer is None:
        def closer(hard: bool = False) -> None:
            raise ConnectionDropped("connection dropped by sandbox fault")
    return closer


class FrameStream(Response):
    """Streams byte chunks; a ``CUT`` item closes the connection mid-body."""

    def __init__(self, items: AsyncIterator[Any], status_code: int = 200,
                 headers: Mapping[str, str] | None = None, media_type: str | None = None,
                 on_close: Callable[[], None] | None = None) -> None:
        self.items = items
        self.status_code = status_code
        self.media_type = media_type
        self.background = None
        self.on_close = on_close
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        disconnected = asyncio.Event()

        async def watch() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected.set()
                    return

        watcher = asyncio.create_task(watch())
        try:
            async for item in self.items:
                if disconnected.is_set():
                    return
                if item is CUT:
                    await asyncio.sleep(0)
                    connection_closer(scope)()
                    return
                await send({"type": "http.response.body", "body": item, "more_body": True})
            if not disconnected.is_set():
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            aclose = getattr(self.items, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:  # noqa: BLE001
                    pass
            if self.on_close is not None:
                self.on_close()
