"""Running the sandbox: ``SandboxServer`` (background thread) and ``serve`` (foreground)."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
import threading
import time
from typing import Any

from .config import SandboxConfig

__all__ = ["SandboxServer", "serve"]


class _DropFaultNoise(logging.Filter):
    """Hide uvicorn's tracebacks for connections the sandbox drops on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if type(exc).__name__ == "ConnectionDropped":
                return False
            inner = getattr(exc, "exceptions", None)
            exc = inner[0] if inner else (exc.__cause__ or exc.__context__)
        return True


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:  # inherited by accepted sockets on Linux: no Nagle/delayed-ACK 40 ms stalls per reply
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _uvicorn_server(app: Any, host: str, port: int) -> Any:
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, http="h11", ws="none", lifespan="on",
                            log_level="warning", access_log=False, log_config=None,
                            timeout_keep_alive=30)
    error_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropFaultNoise) for f in error_log.filters):
        error_log.addFilter(_DropFaultNoise())
    return uvicorn.Server(config)


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class SandboxServer:
    """The sandbox on a background thread with its own event loop.

    ``with SandboxServer(time_scale=0.02) as srv: httpx.get(srv.url + ...)``
    """

    def __init__(self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0,
                 **overrides: Any) -> None:
        from .app import create_app

        self.config = SandboxConfig.build(config, **overrides)
        self.app = create_app(self.config)
        self.host = host
        self.port = port
        self.url: str = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def backend(self) -> Any:
        return self.app.state.sandbox

    def start(self, timeout: float = 15.0) -> "SandboxServer":
        if self._thread is not None:
            return self
        self._sock = _bind(self.host, self.port)
        self.port = self._sock.getsockname()[1]
        self.url = _url(self.host, self.port)
        self._server = _uvicorn_server(self.app, self.host, self.port)
        self._server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]
        errors: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(self._server.serve(sockets=[self._sock]))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        self._thread = threading.Thread(target=run, name="nemo-sandbox", daemon=True)
        self._thread.start()
        end = time.monotonic() + timeout
        while not self._server.started:
            if errors or not self._thread.is_alive():
                raise RuntimeError(f"sandbox server failed to start: {errors[0] if errors else 'exited'}")
            if time.monotonic() > end:
                raise RuntimeError("sandbox server did not start in time")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self.backend.close()

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(host: str = "127.0.0.1", port: int = 0, config: SandboxConfig | None = None) -> None:
    """Serve in the foreground; first stdout line is ``listening on http://HOST:PORT``."""
    from .app import create_app

    app = create_app(config)
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    server = _uvicorn_server(app, host, bound)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]

        def stop(*_: object) -> None:
            server.should_exit = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop)
            except (NotImplementedError, RuntimeError, ValueError):
                signal.signal(sig, lambda *_: stop())
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            sys.stdout.write(f"listening on {_url(host, bound)}\n")
            sys.stdout.flush()
        await task

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        app.state.sandbox.close()
