"""Both envelope styles in, ``data`` or a typed error out.

Main API ``{"code": 0, "message": ..., "data": {...}}`` (``code != 0`` is an error even
on HTTP 200); render API ``{"success": true, "data": {...}}``; ADK-native errors
``{"detail": "Session not found: <id>"}``; and bodies that are not JSON at all (an HTML
proxy page, nothing). Handling is keyed on ``code`` when present, else on the HTTP status.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from ._errors import APIError, ServerError, SessionNotFoundError, error_for_code
from ._retry import parse_retry_after

__all__ = ["parse_envelope", "error_from_body", "safe_message"]

_SESSION_NOT_FOUND = re.compile(r"session\s+not\s+found", re.I)
_MAX_MESSAGE = 300


def safe_message(value: Any) -> str:
    """A short, single-line, printable message (server text is never trusted whole)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:_MAX_MESSAGE]


def _as_int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():
        return int(v.strip())
    return None


def _decode(body: bytes) -> Any:
    if not body or not body.strip():
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


_NOT_JSON = object()


def error_from_body(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    request: str | None = None,
) -> APIError | None:
    """The typed error a reply stands for, or None when it is a success."""
    obj = _decode(body)
    detail: dict = {}
    ra = parse_retry_after(headers)
    if ra is not None:
        detail["retry_after"] = ra
    if isinstance(obj, dict):
        code = _as_int(obj.get("code")) if "code" in obj else None
        msg = safe_message(obj.get("message") or obj.get("error") or obj.get("detail") or obj.get("msg"))
        if code is not None and code != 0:
            return error_for_code(code, status, msg, request=request, detail=detail)
        if obj.get("success") is False:
            if status >= 400:
                return error_for_code(None, status, msg or f"HTTP {status}", request=request, detail=detail)
            return ServerError(msg or "request refused", status=status, request=request, detail=detail)
        det = obj.get("detail")
        if isinstance(det, str) and _SESSION_NOT_FOUND.search(det):
            return SessionNotFoundError(safe_message(det), status=status, request=request, detail=detail)
        if status >= 400:
            if status == 404:
                return ServerError(msg or "not found", status=status, request=request, detail=detail)
            return error_for_code(None, status, msg or f"HTTP {status}", request=request, detail=detail)
        return None
    if status >= 400:
        if status == 404:
            return ServerError("not found", status=status, request=request, detail=detail)
        return error_for_code(None, status, f"HTTP {status}", request=request, detail=detail)
    if obj is _NOT_JSON:
        return ServerError("the backend sent a reply that is not JSON", status=status, request=request)
    return None


def parse_envelope(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    request: str | None = None,
    *,
    unwrap: bool = True,
) -> Any:
    """``data`` of a successful reply (or the whole body with ``unwrap=False``)."""
    err = error_from_body(status, headers, body, request)
    if err is not None:
        raise err
    obj = _decode(body)
    if obj is None:
        return {}
    if not unwrap:
        return obj
    if isinstance(obj, dict) and "data" in obj and ("code" in obj or "success" in obj or len(obj) <= 3):
        return obj["data"] if obj["data"] is not None else {}
    return obj
