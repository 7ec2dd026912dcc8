"""``nemo-skill mcp``: the skill as an MCP server over stdio (official ``mcp`` SDK).

stdio hygiene first (failure-modes item 26): the real fd 1 is kept for the protocol and
fd 1 itself is pointed at stderr, so a stray ``print()``, a library banner or a child
process can never corrupt the JSON-RPC stream; fd 0 is kept for the protocol and
replaced by ``/dev/null`` so no child can eat requests; the protocol streams are UTF-8
whatever the platform's code page.

No tool blocks for a whole render (item 27): ``export`` starts it and returns the id at
once; ``export_status`` waits at most ``STATUS_WAIT`` seconds and says "still running"
or hands over the MP4. Progress notifications are sent only when the client gave a
progress token (``is not None``: a token of 0 is valid).

The SDK is imported lazily; without it the command explains how to install it (exit 2).

(No ``from __future__ import annotations`` here: FastMCP reads the tools' annotations.)
"""

import argparse
import io
import logging
import os
import sys
from typing import Any, Optional

__all__ = ["run_mcp", "STATUS_WAIT"]

#: how long one ``export_status`` call may wait (hosts time tool calls out at ~60 s)
STATUS_WAIT = 40.0
from .api._errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK

log = logging.getLogger("skill.mcp")


def _protect_stdio() -> "tuple[io.TextIOWrapper, io.TextIOWrapper]":
    """Keep the real stdin/stdout for the protocol; fd 1 -> stderr, fd 0 -> /dev/null.

    Returns UTF-8 text streams over the saved descriptors (the protocol's only way out).
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    proto_out_fd = os.dup(1)
    proto_in_fd = os.dup(0)
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(devnull, 0)
    finally:
        os.close(devnull)
    for stream in (sys.stdout, sys.stderr):  # stray prints: never a UnicodeEncodeError
        try:
            stream.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass
    proto_in = io.TextIOWrapper(os.fdopen(proto_in_fd, "rb"), encoding="utf-8", errors="replace")
    proto_out = io.TextIOWrapper(os.fdopen(proto_out_fd, "wb"), encoding="utf-8", newline="\n")
    return proto_in, proto_out


def _setup_logging() -> None:
    from ._logging import setup_logging

    setup_logging(verbose_loggers=("mcp",))


def _lang(args: argparse.Namespace) -> Optional[str]:
    return getattr(args, "lang", None)


def _t(template: str, lang: Optional[str], **kw: Any) -> str:
    from ._templates import render

    return render(template, lang, **kw)


def _stderr_paragraph(text: str) -> None:
    sys.stderr.write(text.strip() + "\n")
    sys.stderr.flush()


def run_mcp(args: argparse.Namespace) -> int:
    proto_in, proto_out = _protect_stdio()
    _setup_logging()
    lang = _lang(args)
    try:
        import mcp.server.fastmcp  # noqa: F401
        from mcp.server.stdio import stdio_server  # noqa: F401
    except ImportError:
        _stderr_paragraph(_t("mcp/missing_sdk", lang, python=sys.executable))
        return EXIT_BAD_INPUT

    from .api._errors import BadInputError
    from .manifest import resolve_manifest

    try:
        manifest = resolve_manifest(getattr(args, "skill", None))
    except BadInputError as exc:
        detail = dict(exc.detail)
        _stderr_paragraph(_t("errors/bad_input", lang, detail=detail, status=None) + "\n"
                          + _t("errors/bad_input_hint", lang, detail=detail, status=None))
        return EXIT_BAD_INPUT

    import asyncio

    try:
        asyncio.run(_serve(args, manifest, proto_in, proto_out))
    except KeyboardInterrupt:
        pass
    except Exception:  # a bug; the host only sees "server disconnected", so say why on stderr
        if os.environ.get("NEMO_DEBUG") == "1":
            raise
        log.error("the MCP server stopped unexpectedly", exc_info=False)
        _stderr_paragraph(_t("errors/unexpected", lang))
        return 3
    return EXIT_OK


async def _serve(args: argparse.Namespace, manifest: Any, proto_in: Any, proto_out: Any) -> None:
    import anyio
    from mcp.server.stdio import stdio_server

    from .handlers._context import Limits
    from .runtime import SkillRuntime

    lang = _lang(args)
    async with SkillRuntime(manifest, api_url=getattr(args, "api_url", None), lang=lang,
                            out_dir=getattr(args, "out", None),
                            limits=Limits(render_deadline=STATUS_WAIT)) as rt:
        server = build_server(rt, lang)
        low = server._mcp_server  # FastMCP.run_stdio_async() minus its hard-wired sys.stdout
        async with stdio_server(stdin=anyio.wrap_file(proto_in), stdout=anyio.wrap_file(proto_out)) \
                as (read_stream, write_stream):
            await low.run(read_stream, write_stream, low.create_initialization_options())


# -- tools ---------------------------------------------------------------------------------
def _progress_token(ctx: Any) -> Any:
    try:
        meta = ctx.request_context.meta
    except (AttributeError, LookupError, ValueError):
        return None
    return getattr(meta, "progressToken", None) if meta is not None else None


async def _collect(gen: Any, ctx: Any) -> "list[Any]":
    """Drain a runtime reply stream; progress replies become progress notifications."""
    replies: list[Any] = []
    step = 0
    has_token = ctx is not None and _progress_token(ctx) is not None
    async for r in gen:
        if r.type == "progress":
            if has_token:
                step += 1  # MCP wants progress to grow; stages restart their percents
                try:
                    await ctx.report_progress(step, None, r.text)
                except TypeError:  # an SDK without the message argument
                    await ctx.report_progress(step, None)
                except Exception:  # the client went away: the work itself goes on
                    log.debug("progress notification failed", exc_info=True)
            continue
        replies.append(r)
    return replies


def _summary(replies: "list[Any]") -> str:
    parts: list[str] = []
    for r in replies:
        if r.type == "message":
            parts.append(r.text)
        elif r.type == "error":
            parts.append(r.text + ("\n" + r.hint if r.hint else ""))
        elif r.type == "link":
            parts.append(f"{r.text}: {r.url}")
    return "\n\n".join(p for p in parts if p)


def _result(replies: "list[Any]", lang: Optional[str], **extra: Any) -> "dict[str, Any]":
    done = next((r for r in reversed(replies) if r.type == "done"), None)
    ok = bool(done.ok) if done is not None else False
    exit_code = done.exit_code if done is not None else 3
    summary = _summary(replies) or _t("mcp/done_ok" if ok else "mcp/done_failed", lang)
    out: dict[str, Any] = {"ok": ok, "exit_code": exit_code, "summary": summary}
    out.update(extra)
    out["replies"] = [r.to_dict() for r in replies]
    return out


def _export_result(rt: Any, replies: "list[Any]", lang: Optional[str], started: bool) -> "dict[str, Any]":
    files = [r for r in replies if r.type == "file"]
    running = any(r.type == "error" and r.exit_code == EXIT_INTERRUPTED for r in replies)
    pending = rt.renderer.pending()
    render_id = pending[-1].id if pending else None
    failed = any(r.type == "error" for r in replies) and not running
    if files:
        status, text = "done", _t("mcp/export_done", lang, path=files[-1].path)
    elif running:
        status, text = "running", _t("mcp/still_running", lang, render_id=render_id)
    elif failed:
        status, text = "failed", None
    elif started and render_id:
        status, text = "started", _t("mcp/export_started", lang, render_id=render_id)
    elif not pending and not started:
        status, text = "none", _t("mcp/nothing_pending", lang)
    else:
        status, text = "none", None
    res = _result(replies, lang, status=status, render_id=render_id,
                  path=files[-1].path if files else None)
    if status == "done":
        links = _summary([r for r in replies if r.type == "link"])
        res["summary"] = (text + "\n\n" + links).strip() if links else text
    elif text is not None and status != "failed":
        res["summary"] = text
    if status in ("running", "none") and not failed:
        res["ok"] = True  # not a failure: the render goes on (call export_status again)
    return res


def build_server(rt: Any, lang: Optional[str]) -> Any:
    """The FastMCP server with the skill's tools, all sharing ``rt``."""
    from mcp.server.fastmcp import Context, FastMCP

    server = FastMCP(name=rt.manifest.name, instructions=_t("mcp/instructions", lang), log_level="WARNING")

    async def say(text: str, files: Optional[list[str]] = None, urls: Optional[list[str]] = None,
                  ctx: Optional[Context] = None) -> dict[str, Any]:
        replies = await _collect(rt.handle(text, files=list(files or ()), urls=list(urls or ())), ctx)
        return _result(replies, lang)

    async def upload(items: list[str], ctx: Optional[Context] = None) -> dict[str, Any]:
        return _result(await _collect(rt.upload(list(items)), ctx), lang)

    async def state(ctx: Optional[Context] = None) -> dict[str, Any]:
        return _result(await _collect(rt.state(), ctx), lang)

    async def credits(ctx: Optional[Context] = None) -> dict[str, Any]:
        return _result(await _collect(rt.credits(), ctx), lang)

    async def export(wait: bool = False, out_dir: Optional[str] = None,
                     ctx: Optional[Context] = None) -> dict[str, Any]:
        replies = await _collect(rt.export(out_dir=out_dir, wait=wait), ctx)
        return _export_result(rt, replies, lang, started=not wait)

    async def export_status(ctx: Optional[Context] = None) -> dict[str, Any]:
        if not rt.renderer.pending():
            return _export_result(rt, [], lang, started=False)
        replies = await _collect(rt.export(resume=True, wait=True), ctx)
        return _export_result(rt, replies, lang, started=False)

    for fn, tmpl in ((say, "tool_say"), (upload, "tool_upload"), (state, "tool_state"),
                     (credits, "tool_credits"), (export, "tool_export"), (export_status, "tool_export_status")):
        server.tool(name=fn.__name__, description=_t(f"mcp/{tmpl}", lang, seconds=int(STATUS_WAIT)))(fn)
    return server
