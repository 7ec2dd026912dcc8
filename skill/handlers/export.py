"""Export: check the draft, render (id kept on disk), wait, download, deliver."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, AsyncIterator

from ..api._errors import RenderTimeoutError
from ..api._render import ensure_writable_dir
from ..replies import FileReply, Message, ProgressReply, Reply
from ..timeline import is_exportable
from ._context import Context, ProgressPump

__all__ = ["export"]


def _stem(draft: dict | None, manifest: Any) -> str:
    title = None
    if isinstance(draft, dict) and isinstance(draft.get("m"), dict):
        t = draft["m"].get("title")
        title = t if isinstance(t, str) and t.strip() else None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return f"{title or manifest.name}-{stamp}"


async def export(ctx: Context, *, out_dir: Path | None = None, resume: str | bool | None = None,
                 wait: bool = True) -> AsyncIterator[Reply]:
    out = Path(out_dir or ctx.out_dir).expanduser()
    notices: list[Reply] = []
    renderer = ctx.renderer
    pending = renderer.pending()
    job_id: str | None = None
    draft: dict | None = None
    if isinstance(resume, str) and resume:
        job_id = resume
    elif pending:
        job = pending[-1]
        job_id = job.id
        if job.out_dir and out_dir is None:
            out = Path(job.out_dir)
    elif resume:
        yield Message(ctx.t("export/nothing_to_resume"))
        return
    if job_id is None:
        sid = await ctx.ensure_session(notices)
        st = await ctx.with_session(ctx.client.state, notices)
        for n in notices:
            yield n
        notices.clear()
        draft = st.state.draft
        if not is_exportable(draft):
            yield Message(ctx.t("export/no_draft"))
            return
        ensure_writable_dir(out)
        yield ProgressReply("render", ctx.t("export/starting"), 0.0)
        job = await renderer.submit(ctx.session_id or sid, draft, out)
        job_id = job.id
        yield ProgressReply("render", ctx.t("export/submitted", render_id=job_id), 0.0)
        if not wait:
            yield Message(ctx.t("export/started_no_wait", render_id=job_id))
            return
    else:
        ensure_writable_dir(out)
        yield ProgressReply("render", ctx.t("export/resuming", render_id=job_id), None)
    pump = ProgressPump(ctx)
    sink: list = []
    try:
        async for r in pump.run(renderer.wait(job_id, pump.callback, deadline=ctx.limits.render_deadline), sink):
            yield r
    except RenderTimeoutError:
        raise
    job = sink[0]
    yield Message(ctx.t("export/ready"))
    sink.clear()
    stem = _stem(draft, ctx.manifest)
    async for r in pump.run(renderer.download(job, job_id, out, stem, on_progress=pump.callback), sink):
        yield r
    path, size = sink[0]
    yield FileReply(str(Path(path).resolve()), size, "video", ctx.t("export/file", path=str(path)))
    yield Message(ctx.t("export/done", path=str(Path(path).resolve()), size_mb=round(size / 1e6, 1)))
    link = ctx.project_link()
    if link:
        yield link
