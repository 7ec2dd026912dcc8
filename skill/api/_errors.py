"""One error root for everything the runtime can fail with.

Every error carries a ``code`` (the INTERFACE.md error code: ``1001``, ``429``,
``network``...), the HTTP ``status`` when there was one, a ``request`` label
(``"POST /api/upload-video/..."``: method and path only, never a query string or a
header) and a safe ``message``. Nothing here ever holds a token.
"""

from __future__ import annotations

__all__ = [
    "NemoError",
    "APIError",
    "TokenInvalidError",
    "SessionNotFoundError",
    "InsufficientCreditsError",
    "UnsupportedFileError",
    "FileTooLargeError",
    "MissingClientIdError",
    "PlanRestrictedError",
    "RateLimitError",
    "ServerError",
    "RenderFailedError",
    "NetworkError",
    "StreamInterruptedError",
    "TimeoutError",
    "StreamIdleTimeoutError",
    "RenderTimeoutError",
    "BadInputError",
    "error_for_code",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_BAD_INPUT",
    "EXIT_NETWORK",
    "EXIT_INTERRUPTED",
]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_NETWORK = 3
EXIT_INTERRUPTED = 4


class NemoError(Exception):
    """Root of every error the runtime raises on purpose."""

    code: str = "server"
    exit_code: int = EXIT_REFUSED

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        request: str | None = None,
        code: str | None = None,
        detail: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request = request
        if code is not None:
            self.code = code
        #: extra safe facts for templates (accepted formats, retry_after, user_id...)
        self.detail: dict = dict(detail or {})

    def __str__(self) -> str:  # never includes headers or bodies
        parts = [self.message or self.__class__.__name__]
        if self.status is not None:
            parts.append(f"(HTTP {self.status})")
        if self.request:
            parts.append(f"[{self.request}]")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(code={self.code!r}, status={self.status!r}, message={self.message!r})"


class APIError(NemoError):
    """The backend answered and refused."""


class TokenInvalidError(APIError):
    code = "1001"


class SessionNotFoundError(APIError):
    code = "1002"


class InsufficientCreditsError(APIError):
    code = "2001"


class UnsupportedFileError(APIError):
    code = "4001"
    exit_code = EXIT_BAD_INPUT


class FileTooLargeError(APIError):
    code = "4002"
    exit_code = EXIT_BAD_INPUT


class MissingClientIdError(APIError):
    code = "400"


class PlanRestrictedError(APIError):
    code = "402"


class RateLimitError(APIError):
    code = "429"
    exit_code = EXIT_NETWORK

    @property
    def retry_after(self) -> float | None:
        return self.detail.get("retry_after")


class ServerError(APIError):
    """5xx, an unknown error code, or a reply we could not understand."""

    code = "server"
    exit_code = EXIT_NETWORK


class RenderFailedError(APIError):
    code = "server"


class NetworkError(NemoError):
    code = "network"
    exit_code = EXIT_NETWORK


class StreamInterruptedError(NetworkError):
    """The SSE stream broke after it had started: never re-send the message."""


class TimeoutError(NetworkError):  # noqa: A001 - deliberate, exported as skill.api.TimeoutError
    code = "timeout"


class StreamIdleTimeoutError(TimeoutError):
    pass


class RenderTimeoutError(TimeoutError):
    """The render outlived the deadline; the job id is kept for ``export --resume``."""

    exit_code = EXIT_INTERRUPTED


class BadInputError(NemoError):
    code = "bad_input"
    exit_code = EXIT_BAD_INPUT


_BY_CODE: dict[int, type[APIError]] = {
    1001: TokenInvalidError,
    1002: SessionNotFoundError,
    2001: InsufficientCreditsError,
    4001: UnsupportedFileError,
    4002: FileTooLargeError,
}

_BY_STATUS: dict[int, type[APIError]] = {
    400: MissingClientIdError,
    401: TokenInvalidError,
    402: PlanRestrictedError,
    413: FileTooLargeError,
    415: UnsupportedFileError,
    429: RateLimitError,
}


def error_for_code(
    code: int | None,
    status: int,
    message: str,
    *,
    request: str | None = None,
    detail: dict | None = None,
) -> APIError:
    """Build the typed error: keyed on the envelope ``code`` when present, else on HTTP status."""
    cls: type[APIError] | None = None
    if code is not None and code != 0:
        cls = _BY_CODE.get(code)
        if cls is None and code in _BY_STATUS:
            cls = _BY_STATUS[code]
    if cls is None:
        if status >= 500:
            cls = ServerError
        elif status == 400 and code not in (None, 0, 400):
            cls = ServerError
        else:
            cls = _BY_STATUS.get(status, ServerError)
    return cls(message, status=status, request=request, detail=detail)

