"""The backend contract client (PROTOCOL.md): models, errors, SSE events, render jobs."""

from __future__ import annotations

from ._client import ACCEPTED_EXTENSIONS, Attribution, NemoClient, Progress, check_media_url, check_upload_path
from ._errors import (
    APIError,
    BadInputError,
    FileTooLargeError,
    InsufficientCreditsError,
    MissingClientIdError,
    NemoError,
    NetworkError,
    PlanRestrictedError,
    RateLimitError,
    RenderFailedError,
    RenderTimeoutError,
    ServerError,
    SessionNotFoundError,
    StreamIdleTimeoutError,
    StreamInterruptedError,
    TimeoutError,
    TokenInvalidError,
    UnsupportedFileError,
)
from ._events import (
    AgentEvent,
    ErrorEvent,
    KeepAliveEvent,
    TextEvent,
    ThoughtEvent,
    ToolCallEvent,
    ToolResultEvent,
    parse_payload,
)
from ._models import AnonymousToken, Credits, ProjectState, RenderJob, SessionInfo, UploadedFile, UploadResult
from ._render import ExportResult, Renderer, download_to, new_render_id, safe_filename

__all__ = [
    "ACCEPTED_EXTENSIONS", "Attribution", "NemoClient", "Progress", "check_media_url", "check_upload_path",
    "APIError", "BadInputError", "FileTooLargeError", "InsufficientCreditsError", "MissingClientIdError",
    "NemoError", "NetworkError", "PlanRestrictedError", "RateLimitError", "RenderFailedError",
    "RenderTimeoutError", "ServerError", "SessionNotFoundError", "StreamIdleTimeoutError",
    "StreamInterruptedError", "TimeoutError", "TokenInvalidError", "UnsupportedFileError",
    "AgentEvent", "ErrorEvent", "KeepAliveEvent", "TextEvent", "ThoughtEvent", "ToolCallEvent",
    "ToolResultEvent", "parse_payload",
    "AnonymousToken", "Credits", "ProjectState", "RenderJob", "SessionInfo", "UploadedFile", "UploadResult",
    "ExportResult", "Renderer", "download_to", "new_render_id", "safe_filename",
]
