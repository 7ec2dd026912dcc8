"""Response models. Forward-compatible: unknown fields are kept, never rejected."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = [
    "Model",
    "AnonymousToken",
    "SessionInfo",
    "UploadedFile",
    "UploadResult",
    "Credits",
    "ProjectState",
    "StateBody",
    "RenderJob",
    "RENDER_DONE",
    "RENDER_FAILED",
    "RENDER_RUNNING",
]


class Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, coerce_numbers_to_str=True)


class AnonymousToken(Model):
    token: str
    user_id: Optional[str] = None
    credits: Optional[float] = None
    expires_at: Optional[datetime] = None
    """ISO 8601; absent on some gateways (then the 7-day rule is assumed)."""

    @field_validator("expires_at", mode="before")
    @classmethod
    def _lenient_time(cls, v: Any) -> Any:
        if isinstance(v, (int, float)):
            return datetime.fromtimestamp(v / 1000 if v > 1e11 else v).astimezone()
        if isinstance(v, str) and not v.strip():
            return None
        return v


class SessionInfo(Model):
    session_id: str
    """A numeric string ("5529798706024415232"); numbers are coerced to str."""
    task_id: Optional[str] = None
    user_id: Optional[str] = None


class UploadedFile(Model):
    filename: Optional[str] = None
    file_type: Optional[str] = None
    cdn_url: Optional[str] = None
    duration: Optional[float] = None
    width: Optional[int] = None
    height: Optional[int] = None
    fps: Optional[float] = None


class UploadResult(Model):
    files: list[UploadedFile] = []


class Credits(Model):
    available: float = 0
    frozen: float = 0
    total: Optional[float] = None


class StateBody(Model):
    draft: Optional[dict] = None
    video_infos: list = []
    generated_media: list = []
    canvas_config: Optional[dict] = None

    @field_validator("draft", "canvas_config", mode="before")
    @classmethod
    def _dict_or_none(cls, v: Any) -> Any:
        return v if isinstance(v, dict) else None

    @field_validator("video_infos", "generated_media", mode="before")
    @classmethod
    def _list(cls, v: Any) -> Any:
        return v if isinstance(v, list) else []


class ProjectState(Model):
    state: StateBody = StateBody()
    session_id: Optional[str] = None
    task_id: Optional[str] = None

    @field_validator("state", mode="before")
    @classmethod
    def _state(cls, v: Any) -> Any:
        return v if isinstance(v, dict) else {}


RENDER_DONE = frozenset({"completed", "complete", "done", "succeeded", "success", "finished"})
RENDER_FAILED = frozenset({"failed", "error", "cancelled", "canceled", "expired"})
RENDER_RUNNING = frozenset({"pending", "queued", "processing", "rendering", "running", "in_progress"})


class RenderJob(Model):
    """One render job, whatever shape the status came in (see PROTOCOL.md "Render")."""

    id: Optional[str] = None
    status: str = "pending"
    progress: Optional[float] = None
    output_url: Optional[str] = None
    error: Optional[str] = None

    @property
    def done(self) -> bool:
        return self.status in RENDER_DONE

    @property
    def failed(self) -> bool:
        return self.status in RENDER_FAILED

    @classmethod
    def from_body(cls, body: Any) -> "RenderJob":
        """Accept the top-level, ``data``-nested and mixed shapes."""
        if not isinstance(body, dict):
            return cls()
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        merged: dict = {**body, **data}

        def first(*vals: Any) -> Any:
            for v in vals:
                if v not in (None, ""):
                    return v
            return None

        output = merged.get("output") if isinstance(merged.get("output"), dict) else {}
        body_out = body.get("output") if isinstance(body.get("output"), dict) else {}
        url = first(output.get("url"), body_out.get("url"), data.get("outputUrl"), body.get("outputUrl"),
                    merged.get("output_url"), merged.get("url") if isinstance(merged.get("url"), str) else None)
        status = first(data.get("status"), body.get("status"), "pending")
        status = str(status).strip().lower()
        prog = first(data.get("progress"), body.get("progress"))
        try:
            progress = max(0.0, min(100.0, float(prog))) if prog is not None else None
        except (TypeError, ValueError):
            progress = None
        err = first(data.get("error"), body.get("error"), merged.get("message") if status in RENDER_FAILED else None)
        if isinstance(err, dict):
            err = err.get("message") or str(err)
        return cls(
            id=first(data.get("id"), body.get("id"), body.get("taskId")),
            status=status,
            progress=progress,
            output_url=url if isinstance(url, str) else None,
            error=str(err) if err is not None else None,
        )
