"""The sandbox's HTTP routes (Starlette): the whole wire contract of PROTOCOL.md plus the
``/_sandbox/*`` control endpoints (faults, stats, reset, credits)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import os
import math
import time
import uuid
from typing import Any, AsyncIterator
from urllib.parse import unquote, urlsplit

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from . import draft as dr
from . import frames as fr
from .agent import plan_run
from .backend import SandboxBackend, Session, User, iso_utc
from .config import SandboxConfig
from .faults import INSTANT_FAULTS
from .files import serve_file
from .renders import RenderJob
from .run import ChatRun, StreamFaults, sse_frames
from .streaming import FrameStream, close_connection, connection_closer

__all__ = ["create_app", "SandboxApp"]

_ATTRIBUTION = ("x-skill-source", "x-skill-version", "x-skill-platform")
_CONTROL_PREFIX = "/_sandbox/"
_FILES_PREFIX = "/_sandbox/files/"
_HTML_ERROR = (
    "<html>\r\n<head><title>{s} Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>{s} Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


# -- envelopes ---------------------------------------------------------------------------

def ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse({"code": 0, "message": "ok", "data": data}, status_code=status)


def err(code: int, message: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "data": None}, status_code=status, headers=headers)


def render_ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse({"success": True, "data": data}, status_code=status)


def render_err(message: str, status: int) -> JSONResponse:
    return JSONResponse({"success": False, "error": message}, status_code=status)


def unauthorized() -> JSONResponse:
    return err(1001, "Token invalid or expired", 401)


def session_missing(sid: str) -> JSONResponse:
    return err(1002, f"Session not found: {sid}", 404)


def _backend(request: Request) -> SandboxBackend:
    return request.app.state.sandbox


def _user(request: Request) -> User | None:
    return _backend(request).authenticate(request.headers.get("authorization"))


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


# -- auth, sessions, credits, state -------------------------------------------------------

async def anonymous_token(request: Request) -> Response:
    b = _backend(request)
    if b.faults.take("missing_client_id", request.url.path) is not None:
        return err(400, "Missing X-Client-Id header", 400)
    client_id = (request.headers.get("x-client-id") or "").strip()
    if not client_id:
        return err(400, "Missing X-Client-Id header", 400)
    info, retry_after = b.mint_token(client_id)
    if info is None:
        return err(429, "Anonymous token already issued for this client; try again later", 429,
                   headers={"Retry-After": str(retry_after)})
    user = b.users[info.user_id]
    return ok({"token": info.token, "user_id": info.user_id, "credits": user.available,
               "expires_at": iso_utc(info.expires_at), "scopes": ["read", "write", "upload"]})


async def create_session(request: Request) -> Response:
    user = _user(request)
    if user is None:
        return unauthorized()
    body = await _json_body(request)
    session = _backend(request).create_session(user, str(body.get("task_name") or "project"),
                                               str(body.get("language") or "en"))
    return ok({"task_id": session.task_id, "session_id": session.session_id, "user_id": user.user_id})


async def credits_balance(request: Request) -> Response:
    user = _user(request)
    if user is None:
        return unauthorized()
    return ok({"available": user.available, "frozen": user.frozen, "total": user.total})


async def session_state(request: Request) -> Response:
    user = _user(request)
    if user is None:
        return unauthorized()
    sid = request.path_params["sid"]
    session = _backend(request).get_session(sid, user)
    if session is None:
        return session_missing(sid)
    return ok({"session_id": session.session_id, "task_id": session.task_id, "task_name": session.task_name,
               "state": session.state()})


# -- chat -----------------------------------------------------------------------------------

def _message_text(body: dict[str, Any]) -> str:
    msg = body.get("new_message") or body.get("newMessage") or {}
    parts = msg.get("parts") if isinstance(msg, dict) else None
    texts = [p.get("text", "") for p in parts or [] if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return "\n".join(texts).strip()


async def run_sse(request: Request) -> Response:
    b = _backend(request)
    user = _user(request)
    if user is None:
        return unauthorized()
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
        assert isinstance(body, dict)
    except (ValueError, AssertionError):
        return JSONResponse({"detail": "Invalid request body"}, status_code=422)
    sid = str(body.get("session_id") or body.get("sessionId") or "")
    session = b.get_session(sid, user)
    if session is None:
        return JSONResponse({"detail": f"Session not found: {sid}"}, status_code=404)
    message = _message_text(body)
    path = request.url.path
    flood = b.faults.take("flood", path)
    if flood is not None:
        from .flood import flood_chunks

        b.stats.chat_runs += 1
        return FrameStream(flood_chunks(flood), media_type="text/event-stream",
                           headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    silent = b.faults.take("silent_reply", path) is not None
    hostile = b.faults.take("hostile_reply", path)
    plan = plan_run(message, session, b, _base_url(request), silent=silent,
                    hostile_text=str(hostile.get("text", "")) if hostile is not None else None)
    if plan.cost > user.available:
        return err(2001, "Insufficient credits", 403)
    faults = StreamFaults(**{name: b.faults.take(name, path) for name in (
        "cut_stream", "malformed_frames", "no_final_newline", "oversized_frame", "stall_stream", "stream_error")})
    run = ChatRun(plan, b, user, session, message)
    run.start()
    encoder = fr.FrameEncoder(b.config.event_shape, streaming=body.get("streaming") is True)
    frames = sse_frames(run, encoder, b.config.keepalive_seconds, faults)
    return FrameStream(frames, media_type="text/event-stream",
                       headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# -- upload -----------------------------------------------------------------------------

def _copy_and_hash(src: Any, dest: str) -> tuple[int, str]:
    digest = hashlib.md5()  # noqa: S324 - a content fingerprint, not security
    size = 0
    src.seek(0)
    with open(dest, "wb") as out:
        while True:
            chunk = src.read(1024 * 1024)
            if not chunk:
                break
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


_CONTENT_TYPES = {"video": "video/mp4", "image": "image/jpeg", "audio": "audio/mpeg"}


def _content_type(filename: str, file_type: str) -> str:
    import mimetypes

    return mimetypes.guess_type(filename)[0] or _CONTENT_TYPES.get(file_type, "application/octet-stream")


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def upload(request: Request) -> Response:
    from . import media

    b = _backend(request)
    user = _user(request)
    if user is None:
        return unauthorized()
    sid = request.path_params["sid"]
    session = b.get_session(sid, user)
    if session is None:
        return session_missing(sid)
    path = request.url.path
    if b.faults.take("reset_upload", path) is not None:
        received = 0
        target = int(request.headers.get("content-length") or 0) // 3
        async for chunk in request.stream():
            received += len(chunk)
            if received >= target:
                break
        connection_closer(request.scope)(hard=True)
        return Response(status_code=500)
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        return await _upload_urls(request, b, session)
    limit = b.config.max_upload_bytes
    length = int(request.headers.get("content-length") or 0)
    if length > limit + 1024 * 1024:
        async for _ in request.stream():  # drain, so the client reads our answer
            pass
        return err(4002, f"File too large (limit {limit} bytes)", 413)
    try:
        form = await request.form(max_files=1000, max_fields=1000, max_part_size=1024 * 1024)
    except Exception as exc:  # noqa: BLE001 - malformed multipart
        return err(400, f"Bad multipart body: {exc}", 400)
    try:
        uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not uploads:
            return err(400, "No files in field 'files'", 400)
        for f in uploads:
            if media.file_type_for(f.filename or "") is None:
                return err(4001, f"Unsupported file type: {f.filename}", 415)
            if (f.size or 0) > limit:
                return err(4002, f"File too large: {f.filename} (limit {limit} bytes)", 413)
        out = []
        for f in uploads:
            filename = f.filename or "upload"
            ftype = media.file_type_for(filename) or "video"
            name, dest = b.new_file_path("up", os.path.splitext(filename)[1])
            size, digest = await asyncio.to_thread(_copy_and_hash, f.file, dest)
            info = await asyncio.to_thread(media.probe, dest)
            b.register_file(name, dest, _content_type(filename, ftype))
            out.append(_file_entry(filename, ftype, f"{_base_url(request)}/_sandbox/files/{name}", info, size, digest))
    finally:
        await form.close()
    session.video_infos.extend(out)
    b.stats.uploads += len(out)
    return ok({"files": out, "session_state_applied": True})


def _file_entry(filename: str, ftype: str, url: str, info: Any, size: int | None, digest: str) -> dict[str, Any]:
    return {"filename": filename, "file_type": ftype, "cdn_url": url, "duration": info.duration,
            "width": info.width, "height": info.height, "fps": info.fps, "size": size, "hash": digest}


async def _upload_urls(request: Request, b: SandboxBackend, session: Session) -> Response:
    from . import media

    body = await _json_body(request)
    urls = body.get("urls")
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or not urls:
        return err(400, "Body must be {\"urls\": [...], \"source_type\": \"url\"}", 400)
    out = []
    for url in urls:
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return err(4001, f"Unsupported URL (http/https only): {url}", 400)
        filename = unquote(os.path.basename(parts.path)) or "remote_video.mp4"
        ftype = media.file_type_for(filename)
        if ftype is None:
            if os.path.splitext(filename)[1]:
                return err(4001, f"Unsupported file type: {filename}", 415)
            ftype = "video"
        local = None
        if _is_loopback(parts.hostname) and parts.path.startswith(_FILES_PREFIX):
            local = b.files.get(unquote(parts.path[len(_FILES_PREFIX):]))
        if local is not None:
            info = await asyncio.to_thread(media.probe, local.path)
            size: int | None = local.size
        else:
            info, size = media.synthetic_info(ftype), None
        digest = hashlib.md5(str(url).encode("utf-8")).hexdigest()  # noqa: S324
        out.append(_file_entry(filename, ftype, str(url), info, size, digest))
    session.video_infos.extend(out)
    b.stats.uploads += len(out)
    return ok({"files": out, "session_state_applied": True})


# -- render -----------------------------------------------------------------------------

def _retry_after(b: SandboxBackend, job: RenderJob | None = None) -> str:
    """Whole seconds, as HTTP wants: the usual 2 s hint, but never past the job's expected
    finish (a server that knows its queue says so)."""
    hint = max(1, round(2 * b.config.time_scale))
    if job is not None:
        remaining = job.expected - (time.monotonic() - job.started)
        hint = min(hint, max(1, math.ceil(remaining)))
    return str(hint)


async def render_create(request: Request) -> Response:
    b = _backend(request)
    user = _user(request)
    if user is None:
        return unauthorized()
    if any(not (request.headers.get(h) or "").strip() for h in _ATTRIBUTION):
        return render_err("free plan export blocked", 402)
    body = await _json_body(request)
    job_id = str(body.get("id") or f"render_{int(time.time() * 1000)}_{uuid.uuid4().hex[:6]}")
    existing = b.renders.get(job_id)
    if existing is not None:
        return render_ok({"id": existing.id, "status": existing.status_name(), "progress": existing.progress})
    sid = body.get("sessionId") or body.get("session_id")
    session = b.get_session(str(sid), user) if sid else None
    draft = body.get("draft")
    if draft is None and session is not None:
        draft = session.draft
    if not dr.is_exportable(draft):
        return render_err("draft is empty: nothing to render", 400)
    path = request.url.path
    faults = {n: b.faults.take(n, path) for n in ("slow_render", "render_never_finishes", "fail_render",
                                                  "hostile_render")}
    job = RenderJob(job_id, str(sid) if sid else None, draft, b, session.canvas if session else None, faults)
    b.renders[job_id] = job
    b.stats.renders_created += 1
    job.start()
    return render_ok({"id": job_id, "status": "pending", "progress": 0})


def _render_job(request: Request, b: SandboxBackend) -> "RenderJob | Response":
    """The job named in the path for a signed-in caller, or the error reply to send."""
    if _user(request) is None:
        return unauthorized()
    job = b.renders.get(request.path_params["id"])
    if job is None:
        return render_err("render not found", 404)
    return job


async def render_status(request: Request) -> Response:
    b = _backend(request)
    job = _render_job(request, b)
    if isinstance(job, Response):
        return job
    b.stats.status_polls += 1
    headers = {} if job.done else {"Retry-After": _retry_after(b, job)}
    return JSONResponse(job.payload(_base_url(request), b.config.status_shape), headers=headers)


async def render_cancel(request: Request) -> Response:
    b = _backend(request)
    job = _render_job(request, b)
    if isinstance(job, Response):
        return job
    if not job.done:
        job.cancel()
        job.status, job.error = "failed", "cancelled"
    return render_ok({"id": job.id, "status": job.status})


def _download_faults(b: SandboxBackend, path: str) -> tuple[bool, float | None]:
    ignore = b.faults.take("ignore_range", path) is not None
    cut = b.faults.take("cut_download", path)
    fraction = float(cut.get("fraction", 0.5)) if cut is not None else None
    return ignore, fraction


async def render_download(request: Request) -> Response:
    b = _backend(request)
    job = _render_job(request, b)
    if isinstance(job, Response):
        return job
    if job.status != "completed" or not job.file_name or job.file_name not in b.files:
        return render_err(f"render not completed (status {job.status})", 409)
    ignore, fraction = _download_faults(b, request.url.path)
    return serve_file(b.files[job.file_name], request.headers.get("range"), ignore, fraction,
                      download_name=job.hostile_filename or f"{job.id}.mp4")


async def cdn_file(request: Request) -> Response:
    b = _backend(request)
    path = request.url.path
    if b.faults.take("expire_result_url", path) is not None:
        return Response("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
                        "<Message>Request has expired</Message></Error>", status_code=403,
                        media_type="application/xml")
    stored = b.files.get(request.path_params["name"])
    if stored is None or not os.path.exists(stored.path):
        return Response("Not Found", status_code=404, media_type="text/plain")
    ignore, fraction = _download_faults(b, path)
    return serve_file(stored, request.headers.get("range"), ignore, fraction)


# -- control ----------------------------------------------------------------------------

async def faults_add(request: Request) -> Response:
    b = _backend(request)
    body = await _json_body(request)
    name = str(body.get("fault") or body.get("name") or "")
    params = body.get("params") if isinstance(body.get("params"), dict) else {}
    if name == "expire_token":
        b.expire_tokens()
    elif name == "drop_session":
        b.drop_sessions()
    else:
        try:
            b.faults.add(name, int(body.get("count", 1)), body.get("path"), params)
        except KeyError:
            return JSONResponse({"ok": False, "error": f"unknown fault: {name}"}, status_code=400)
    return JSONResponse({"ok": True, "fault": name, "instant": name in INSTANT_FAULTS,
                         "pending": b.faults.pending()})


async def faults_clear(request: Request) -> Response:
    b = _backend(request)
    b.faults.clear()
    for job in list(b.renders.values()):
        job.release()
    return JSONResponse({"ok": True, "pending": []})


async def faults_list(request: Request) -> Response:
    return JSONResponse({"pending": _backend(request).faults.pending()})


async def stats(request: Request) -> Response:
    return JSONResponse(_backend(request).stats.as_dict())


async def reset(request: Request) -> Response:
    _backend(request).reset()
    return JSONResponse({"ok": True})


async def set_credits(request: Request) -> Response:
    b = _backend(request)
    body = await _json_body(request)
    try:
        available = int(body["available"])
    except (KeyError, TypeError, ValueError):
        return JSONResponse({"ok": False, "error": "available (int) is required"}, status_code=400)
    users = b.set_credits(available, body.get("token"), body.get("user_id"))
    return JSONResponse({"ok": True, "users": users, "available": available})


# -- application ------------------------------------------------------------------------

ROUTES = [
    Route("/api/auth/anonymous-token", anonymous_token, methods=["POST"]),
    Route("/api/tasks/me/with-session/nemo_agent", create_session, methods=["POST"]),
    Route("/run_sse", run_sse, methods=["POST"]),
    Route("/api/upload-video/nemo_agent/me/{sid}", upload, methods=["POST"]),
    Route("/api/credits/balance/simple", credits_balance, methods=["GET"]),
    Route("/api/state/nemo_agent/me/{sid}/latest", session_state, methods=["GET"]),
    Route("/api/render/proxy/lambda", render_create, methods=["POST"]),
    Route("/api/render/proxy/lambda/{id}", render_status, methods=["GET"]),
    Route("/api/render/proxy/lambda/{id}/cancel", render_cancel, methods=["POST"]),
    Route("/api/render/proxy/{id}/download", render_download, methods=["GET"]),
    Route("/_sandbox/files/{name:path}", cdn_file, methods=["GET", "HEAD"]),
    Route("/_sandbox/faults", faults_add, methods=["POST"]),
    Route("/_sandbox/faults", faults_clear, methods=["DELETE"]),
    Route("/_sandbox/faults", faults_list, methods=["GET"]),
    Route("/_sandbox/stats", stats, methods=["GET"]),
    Route("/_sandbox/reset", reset, methods=["POST"]),
    Route("/_sandbox/credits", set_credits, methods=["POST"]),
]


class SandboxApp(Starlette):
    """Starlette plus request counting, connection-level faults and generic HTTP faults."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        scope["sandbox.close"] = lambda hard=False: close_connection(receive, send, hard)
        backend: SandboxBackend = self.state.sandbox
        path: str = scope["path"]
        control = path.startswith(_CONTROL_PREFIX) and not path.startswith(_FILES_PREFIX)
        if not control:
            backend.stats.requests[f"{scope['method']} {self._template(scope)}"] += 1
            response = self._generic_fault(backend, path)
            if response is not None:
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _template(self, scope: Scope) -> str:
        for route in self.router.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return getattr(route, "path", scope["path"])
        return scope["path"]

    @staticmethod
    def _generic_fault(backend: SandboxBackend, path: str) -> Response | None:
        params = backend.faults.take("rate_limit", path)
        if params is not None:
            return err(429, "Too many requests", 429, headers={"Retry-After": str(params.get("retry_after", 1))})
        params = backend.faults.take("server_error", path)
        if params is None:
            return None
        status = int(params.get("status", 503))
        headers = {"Retry-After": str(params["retry_after"])} if "retry_after" in params else None
        kind = params.get("body", "html")
        if kind == "json":
            return JSONResponse({"code": status, "message": "Internal Server Error"}, status_code=status,
                                headers=headers)
        if kind == "empty":
            return Response(b"", status_code=status, headers=headers)
        return Response(_HTML_ERROR.format(s=status), status_code=status, headers=headers, media_type="text/html")


def create_app(config: SandboxConfig | None = None, **overrides: Any) -> SandboxApp:
    """The sandbox ASGI app; ``app.state.sandbox`` is its in-memory backend."""
    cfg = SandboxConfig.build(config, **overrides)
    backend = SandboxBackend(cfg)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        backend.close()

    app = SandboxApp(routes=ROUTES, lifespan=lifespan)
    app.state.sandbox = backend
    return app
