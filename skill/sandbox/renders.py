"""Render jobs: a real H.264 MP4 of the draft, produced by ffmpeg in a worker thread."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from . import draft as dr
from .backend import SandboxBackend

__all__ = ["RenderJob", "draft_render_params"]


def draft_render_params(draft: dict[str, Any], canvas: dict[str, Any] | None, max_height: int) -> dict[str, Any]:
    """Duration (s), even width/height, fps and audio flag for a draft."""
    from .media import even_size

    meta = draft.get("m") if isinstance(draft.get("m"), dict) else {}
    d = draft.get("d")
    dur_ms = int(d) if isinstance(d, (int, float)) and d > 0 else dr.draft_duration_ms(draft)
    dur_ms = dur_ms or 10000
    width = meta.get("width") or (canvas or {}).get("width") or 1920
    height = meta.get("height") or (canvas or {}).get("height") or 1080
    w, h = even_size(int(width), int(height), max_height)
    fps = float(meta.get("fps") or 30)
    audio = any(t.get("tt") == dr.AUDIO and t.get("sg") for t in draft.get("t") or [] if isinstance(t, dict))
    return {"duration": dur_ms / 1000.0, "width": w, "height": h, "fps": fps, "audio": audio}


class RenderJob:
    """One render: ``pending`` -> ``processing`` -> ``completed`` | ``failed``."""

    def __init__(self, job_id: str, session_id: str | None, draft: dict[str, Any], backend: SandboxBackend,
                 canvas: dict[str, Any] | None, faults: dict[str, dict[str, Any] | None]) -> None:
        cfg = backend.config
        self.id = job_id
        self.session_id = session_id
        self.backend = backend
        self.params = draft_render_params(draft, canvas, cfg.max_render_height)
        sim = max(cfg.min_render_seconds, self.params["duration"] * cfg.render_seconds_per_draft_second)
        p = self.params
        encode_estimate = 0.1 + p["duration"] * (p["width"] * p["height"]) / (1920 * 1080) * 0.15
        self.expected = max(cfg.scaled(sim), encode_estimate)
        slow = faults.get("slow_render")
        if slow is not None:
            self.expected = float(slow.get("seconds", 10.0))
        self.never = faults.get("render_never_finishes") is not None
        self.released = asyncio.Event()  # set when the faults are cleared: a held job completes
        hostile = faults.get("hostile_render")
        self.hostile_url: str | None = str(hostile["url"]) if hostile and hostile.get("url") else None
        self.hostile_filename: str | None = (str(hostile["filename"]) if hostile and hostile.get("filename")
                                             else None)
        fail = faults.get("fail_render")
        self.fail_message = (fail.get("error") or "Render failed: encoder error (sandbox fault)") if fail is not None else None
        self.created = time.time()
        self.started = time.monotonic()
        self.finished_at: float | None = None
        self.status = "pending"
        self.error: str | None = None
        self.file_name: str | None = None
        self.size = 0
        self.polls = 0
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    def release(self) -> None:
        """Let a job held by ``render_never_finishes`` complete."""
        self.released.set()

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def _run(self) -> None:
        from .media import render_mp4

        name, path = self.backend.new_file_path(self.id.replace("/", "_"), ".mp4")
        await asyncio.sleep(0)
        self.status = "processing"
        error: str | None = None
        if self.fail_message is None:
            p = self.params
            try:
                await asyncio.to_thread(render_mp4, path, p["duration"], p["width"], p["height"], p["fps"], p["audio"])
            except Exception as exc:  # noqa: BLE001
                error = f"Render failed: {exc}"
        left = self.expected - (time.monotonic() - self.started)
        if left > 0:
            await asyncio.sleep(left)
        if self.never:
            await self.released.wait()  # stays "processing" until the faults are cleared
        if self.fail_message is not None or error is not None:
            self.status, self.error = "failed", self.fail_message or error
        else:
            import os

            if os.path.exists(path):
                self.backend.register_file(name, path, "video/mp4")
                self.file_name, self.size = name, os.path.getsize(path)
                self.status = "completed"
            else:
                self.status, self.error = "failed", "Render failed: output missing"
        self.finished_at = time.time()

    @property
    def done(self) -> bool:
        return self.status in ("completed", "failed")

    @property
    def progress(self) -> int:
        if self.status == "completed":
            return 100
        if self.status == "failed":
            return 0 if self.error is None else min(99, self._raw_progress())
        return self._raw_progress()

    def _raw_progress(self) -> int:
        if self.expected <= 0:
            return 50
        frac = (time.monotonic() - self.started) / max(self.expected, 1e-6)
        return max(0, min(99, int(frac * 100)))

    def status_name(self) -> str:
        """The wire status; synonyms vary between polls the way real gateways' do."""
        if self.status == "pending" or (self.status == "processing" and self.polls <= 1 and self._raw_progress() < 5):
            return "pending" if self.polls % 2 else "queued"
        if self.status == "processing":
            return "processing" if self.polls % 2 else "rendering"
        return self.status

    def output_url(self, base_url: str) -> str | None:
        if self.status != "completed" or not self.file_name:
            return None
        if self.hostile_url is not None:
            return self.hostile_url.replace("{base}", base_url)
        return f"{base_url}/_sandbox/files/{self.file_name}"

    def payload(self, base_url: str, shape: str) -> dict[str, Any]:
        """The poll response body in one of the documented shapes: data, top, mixed."""
        self.polls += 1
        status = self.status_name()
        progress = self.progress if status not in ("pending", "queued") else 0
        url = self.output_url(base_url)
        variant = shape
        if shape == "mixed":
            variant = ("data", "top", "both")[(self.polls - 1) % 3]
        data: dict[str, Any] = {"id": self.id, "status": status, "progress": progress,
                                "createdAt": int(self.created * 1000)}
        if url:
            data["outputUrl"] = url
            data["completedAt"] = int((self.finished_at or time.time()) * 1000)
        if self.error:
            data["error"] = self.error
        if variant == "top":
            body: dict[str, Any] = {"id": self.id, "taskId": self.id, "status": status, "progress": progress}
            if url:
                body["output"] = {"url": url, "duration": self.params["duration"], "size": self.size}
            if self.error:
                body["error"] = self.error
            return body
        if variant == "both":
            body = {"success": True, "data": data, "status": status}
            if self.error:
                body["error"] = self.error
            return body
        return {"success": True, "data": data}
