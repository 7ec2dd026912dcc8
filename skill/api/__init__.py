"""The backend contract client (PROTOCOL.md): models, errors, SSE events, render jobs.

Exports are resolved lazily (PEP 562): ``skill.api._errors`` and the pure modules can be
imported without paying for httpx and pydantic.
"""

from __future__ import annotations

TYPE_CHECKING = False  # (importing typing costs start-up time)

_EXPORTS = {
    "_client": ("ACCEPTED_EXTENSIONS", "Attribution", "NemoClient", "Progress", "check_media_url",
                "check_upload_path"),
    "_errors": ("APIError", "BadInputError", "FileTooLargeError", "InsufficientCreditsError",
                "MissingClientIdError", "NemoError", "NetworkError", "PlanRestrictedError", "RateLimitError",
                "RenderFailedError", "RenderTimeoutError", "ServerError", "SessionNotFoundError",
                "StreamIdleTimeoutError", "StreamInterruptedError", "TimeoutError", "TokenInvalidError",
                "UnsupportedFileError"),
    "_events": ("AgentEvent", "ErrorEvent", "KeepAliveEvent", "TextEvent", "ThoughtEvent", "ToolCallEvent",
                "ToolResultEvent", "parse_payload"),
    "_models": ("AnonymousToken", "Credits", "ProjectState", "RenderJob", "SessionInfo", "UploadedFile",
                "UploadResult"),
    "_render": ("ExportResult", "Renderer", "download_to", "new_render_id", "safe_filename"),
}
_WHERE = {name: mod for mod, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)

if TYPE_CHECKING:  # pragma: no cover
    from ._client import *  # noqa: F401,F403
    from ._errors import *  # noqa: F401,F403
    from ._events import *  # noqa: F401,F403
    from ._models import *  # noqa: F401,F403
    from ._render import *  # noqa: F401,F403


def __getattr__(name: str) -> object:
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module 'skill.api' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{mod}", __name__), name)
    globals()[name] = value
    return value
