"""Local sandbox backend for NemoVideo skills: the whole wire contract, in memory, with
fault injection. Heavy imports (starlette, uvicorn, imageio-ffmpeg) happen lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import SandboxConfig

if TYPE_CHECKING:
    from .app import SandboxApp
    from .server import SandboxServer

__all__ = ["SandboxConfig", "SandboxServer", "create_app", "serve"]


def create_app(config: SandboxConfig | None = None, **overrides: Any) -> "SandboxApp":
    """The sandbox ASGI app (Starlette); ``app.state.sandbox`` is the in-memory backend."""
    from .app import create_app as _create_app

    return _create_app(config, **overrides)


def serve(host: str = "127.0.0.1", port: int = 0, config: SandboxConfig | None = None) -> None:
    """Serve in the foreground until SIGINT/SIGTERM; prints ``listening on URL`` first."""
    from .server import serve as _serve

    _serve(host=host, port=port, config=config)


def __getattr__(name: str) -> Any:
    if name == "SandboxServer":
        from .server import SandboxServer

        return SandboxServer
    raise AttributeError(name)
