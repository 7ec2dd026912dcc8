"""``nemo-skill``: a thin shell over ``SkillRuntime`` (INTERFACE.md "Command line").

Start-up matters (a host spawns this for every action): only argparse is imported up
front; ``route`` and ``--version`` never import httpx, pydantic or jinja2.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover - typing costs start-up time
    import argparse
    from typing import Any, Sequence

__all__ = ["main", "build_parser"]

from .api._errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_NETWORK, EXIT_OK  # noqa: E402 (tiny module)


def _parser_class() -> type:
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # usage errors exit 2 with one clear line
            self.print_usage(sys.stderr)
            sys.stderr.write(f"{self.prog}: error: {message}\n")
            raise SystemExit(EXIT_BAD_INPUT)

    return _Parser


def _global_options(p: "argparse.ArgumentParser", suppress: bool) -> None:
    import argparse

    d = argparse.SUPPRESS if suppress else None
    p.add_argument("--skill", metavar="PATH_OR_NAME", default=d,
                   help="a SKILL.md path or a bundled variant name" if not suppress else argparse.SUPPRESS)
    p.add_argument("--api-url", metavar="URL", default=d,
                   help="backend base URL" if not suppress else argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS if suppress else False,
                   help="one JSON object a line on stdout" if not suppress else argparse.SUPPRESS)
    p.add_argument("--lang", metavar="CODE", default=d,
                   help="reply language" if not suppress else argparse.SUPPRESS)
    p.add_argument("--out", metavar="DIR", default=d,
                   help="where exports are written" if not suppress else argparse.SUPPRESS)
    p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS if suppress else False,
                   help="no progress output" if not suppress else argparse.SUPPRESS)


def build_parser() -> "argparse.ArgumentParser":
    import argparse

    from ._version import __version__

    _Parser = _parser_class()
    p = _Parser(prog="nemo-skill", description="Run a NemoVideo chat skill from the command line.")
    _global_options(p, suppress=False)
    p.add_argument("--version", action="version", version=f"nemo-skill {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def cmd(name: str, help: str, aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, aliases=list(aliases), description=help)
        _global_options(sp, suppress=True)
        return sp

    s = cmd("say", "route one user message as a chat host would and print the replies")
    s.add_argument("text", metavar="TEXT")
    s.add_argument("--file", action="append", default=[], metavar="PATH", help="an attached file (repeatable)")
    s.add_argument("--url", action="append", default=[], metavar="URL", help="an attached media URL (repeatable)")
    s.add_argument("--wait-timeout", type=float, default=None, metavar="SECONDS",
                   help="when the message exports: stop waiting after this long (exit 4, render kept)")
    u = cmd("upload", "upload media to the current project")
    u.add_argument("items", nargs="+", metavar="PATH_OR_URL")
    c = cmd("chat", "send TEXT straight to the backend agent")
    c.add_argument("text", metavar="TEXT")
    cmd("state", "timeline summary of the current project", aliases=("status",))
    cmd("credits", "credit balance")
    e = cmd("export", "render the draft, wait, download the MP4")
    e.add_argument("--resume", nargs="?", const=True, default=None, metavar="RENDER_ID",
                   help="continue a saved render (the latest one without an id)")
    e.add_argument("--no-wait", action="store_true", help="start the render and return at once")
    e.add_argument("--wait-timeout", type=float, default=None, metavar="SECONDS",
                   help="stop waiting after this long (exit 4; the render is kept for --resume)")
    r = cmd("route", "print the intent of TEXT ('-' reads one message a line from stdin)")
    r.add_argument("text", nargs="?", default="-", metavar="TEXT")
    cmd("reset", "forget the current session (the next call starts a new project)")
    cmd("demo", "the whole workflow, offline, on the embedded sandbox")
    sb = cmd("sandbox", "serve the local sandbox backend")
    sb.add_argument("--host", default="127.0.0.1")
    sb.add_argument("--port", type=int, default=0)
    sb.add_argument("--time-scale", type=float, default=1.0, help=argparse.SUPPRESS)
    i = cmd("install", "install a skill folder (SKILL.md ...) for a host")
    i.add_argument("--host", required=True, choices=("claude", "cursor", "openclaw"), dest="host_name")
    i.add_argument("--variant", metavar="NAME", default=None)
    i.add_argument("--dest", metavar="DIR", default=None)
    i.add_argument("--force", action="store_true", help=argparse.SUPPRESS)
    cmd("mcp", "serve the skill as an MCP server over stdio")
    return p


# -- route (stdlib only) -------------------------------------------------------------------
def _cmd_route(args: argparse.Namespace) -> int:
    import json

    from .router import classify

    enc = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    ascii_only = enc not in ("utf8", "utf8sig")

    def emit(text: str) -> None:
        r = classify(text)
        if args.json:
            sys.stdout.write(json.dumps({"intent": r.intent, "text": text}, ensure_ascii=ascii_only) + "\n")
        else:
            sys.stdout.write(f"{r.intent}\n")

    if args.text == "-":
        import io

        # messages are UTF-8 whatever the console says; a bad byte is replaced, not fatal
        lines = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace") \
            if hasattr(sys.stdin, "buffer") else sys.stdin
        for line in lines:
            line = line.rstrip("\r\n")
            if line.strip():
                emit(line)
        sys.stdout.flush()
    else:
        emit(args.text)
    return EXIT_OK


# -- output --------------------------------------------------------------------------------
class _Printer:
    """Replies -> stdout (JSON lines or plain text); progress -> stderr for people."""

    def __init__(self, as_json: bool, quiet: bool) -> None:
        self.as_json = as_json
        self.quiet = quiet
        self.exit_code = EXIT_OK
        self._bar: Any = None
        self._bar_stage: str | None = None
        self._tty = sys.stderr.isatty() and os.environ.get("TERM") != "dumb"

    def emit(self, reply: Any) -> None:
        t = reply.type
        if t == "done":
            self._close_bar()
            self.exit_code = max(self.exit_code, getattr(reply, "exit_code", 0))
            if self.as_json:
                self._out(reply)
            return
        if t == "progress":
            if self.quiet:
                return
            if self.as_json:
                self._out(reply)
            else:
                self._progress(reply)
            return
        self._close_bar()
        if t == "error":
            self.exit_code = max(self.exit_code, getattr(reply, "exit_code", 1))
        if self.as_json:
            self._out(reply)
            return
        if t == "message":
            self._write(sys.stdout, reply.text)
        elif t == "file":
            self._write(sys.stdout, reply.path)
        elif t == "link":
            self._write(sys.stdout, f"{reply.text}: {reply.url}")
        elif t == "error":
            self._write(sys.stderr, reply.text + (f"\n{reply.hint}" if reply.hint else ""))

    def _out(self, reply: Any) -> None:
        from .replies import to_json

        # a stdout that cannot carry UTF-8 (a Windows pipe in cp1252...) gets \u escapes:
        # still valid JSON with the exact text, never a UnicodeEncodeError
        enc = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
        self._write(sys.stdout, to_json(reply, ascii_only=enc not in ("utf8", "utf8sig")))

    @staticmethod
    def _write(stream: Any, line: str) -> None:
        """One line; if the reader went away (``| head -1``), keep working silently: the
        action (an export, say) still completes and its state is saved."""
        try:
            stream.write(line + "\n")
            stream.flush()
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, stream.fileno())
            finally:
                os.close(devnull)

    def _progress(self, reply: Any) -> None:
        if self._tty and reply.stage in ("upload", "render", "download") and reply.percent is not None:
            bar = self._get_bar(reply.stage, reply.text)
            if bar is not None:
                bar.n = int(reply.percent)
                bar.set_description_str(reply.text.split(" ")[0], refresh=False)
                bar.refresh()
                return
        self._write(sys.stderr, reply.text)

    def _get_bar(self, stage: str, text: str) -> Any:
        if self._bar is not None and self._bar_stage == stage:
            return self._bar
        self._close_bar()
        try:
            from tqdm import tqdm
        except ImportError:
            return None
        self._bar = tqdm(total=100, unit="%", file=sys.stderr, leave=False, bar_format="{desc} {bar} {n:.0f}%")
        self._bar_stage = stage
        return self._bar

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            self._bar_stage = None


def _runtime(args: argparse.Namespace) -> Any:
    from .manifest import resolve_manifest
    from .runtime import SkillRuntime

    from .handlers._context import Limits

    manifest = resolve_manifest(getattr(args, "skill", None))
    limits = Limits()
    wait = getattr(args, "wait_timeout", None)
    if wait is not None:
        if wait <= 0:
            raise _bad_usage("bad_wait_timeout")
        limits.render_deadline = wait
    return SkillRuntime(manifest, api_url=getattr(args, "api_url", None), lang=getattr(args, "lang", None),
                        out_dir=getattr(args, "out", None), limits=limits)


def _bad_usage(reason: str) -> Exception:
    from .api._errors import BadInputError

    return BadInputError(reason, detail={"reason": reason})


async def _run_runtime(args: argparse.Namespace, printer: _Printer) -> None:
    async with _runtime(args) as rt:
        command = args.command
        if command == "say":
            gen = rt.handle(args.text, files=args.file, urls=args.url)
        elif command == "upload":
            gen = rt.upload(args.items)
        elif command == "chat":
            gen = rt.chat(args.text)
        elif command in ("state", "status"):
            gen = rt.state()
        elif command == "credits":
            gen = rt.credits()
        elif command == "export":
            gen = rt.export(out_dir=getattr(args, "out", None), resume=args.resume, wait=not args.no_wait)
        elif command == "reset":
            gen = rt.reset()
        else:  # pragma: no cover - argparse guards this
            raise SystemExit(EXIT_BAD_INPUT)
        async for reply in gen:
            printer.emit(reply)


def _setup_logging() -> None:
    from ._logging import setup_logging

    setup_logging()


def _error_paragraph(printer: _Printer, code: str, exc: BaseException, lang: str | None) -> int:
    """An error that happened before a runtime existed (bad manifest...): one paragraph."""
    from ._templates import render
    from .api._errors import NemoError
    from .replies import ErrorReply

    detail = exc.detail if isinstance(exc, NemoError) else {}
    status = exc.status if isinstance(exc, NemoError) else None
    try:
        text = render(f"errors/{code}", lang, detail=detail, status=status)
        hint = render(f"errors/{code}_hint", lang, detail=detail, status=status)
    except Exception:
        text = render("errors/unexpected", lang)
        hint = render("errors/unexpected_hint", lang)
    exit_code = exc.exit_code if isinstance(exc, NemoError) else EXIT_NETWORK
    printer.emit(ErrorReply(code, text, hint, exit_code=exit_code))
    return exit_code


def main(argv: "Sequence[str] | None" = None) -> int:
    args_in = sys.argv[1:] if argv is None else list(argv)
    if args_in == ["--version"]:  # the fastest path: a host probing for the tool
        from ._version import __version__

        sys.stdout.write(f"nemo-skill {__version__}\n")
        return EXIT_OK
    parser = build_parser()
    args = parser.parse_args(args_in)
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    if args.command == "route":
        return _cmd_route(args)
    _setup_logging()
    if args.command == "sandbox":
        from .sandbox import SandboxConfig, serve

        try:
            serve(host=args.host, port=args.port, config=SandboxConfig(time_scale=args.time_scale))
        except KeyboardInterrupt:
            pass
        return EXIT_OK
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(args)
    if args.command == "install":
        from .install import run_install

        return run_install(args)
    if args.command == "mcp":
        from .mcp_server import run_mcp

        return run_mcp(args)

    for stream in (sys.stdout, sys.stderr):  # plain text on a narrow console: '?' not a crash
        try:
            if (getattr(stream, "encoding", "") or "").lower().replace("-", "") not in ("utf8", "utf8sig"):
                stream.reconfigure(errors="replace")
        except (AttributeError, ValueError):
            pass
    printer = _Printer(args.json, args.quiet)
    import asyncio
    import signal

    def _on_term(signum: int, frame: Any) -> None:  # a host killing us: same as Ctrl-C
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, _on_term)
    except (ValueError, OSError):  # not the main thread
        pass

    try:
        asyncio.run(_run_runtime(args, printer))
    except KeyboardInterrupt:
        printer._close_bar()
        return _interrupted(args, printer)
    except Exception as exc:  # manifest errors and anything before the runtime's own guard
        if os.environ.get("NEMO_DEBUG") == "1":
            raise
        from .api._errors import NemoError

        code = exc.code if isinstance(exc, NemoError) else "unexpected"
        return _error_paragraph(printer, code, exc, getattr(args, "lang", None))
    return printer.exit_code


def _interrupted(args: argparse.Namespace, printer: _Printer) -> int:
    """Ctrl-C / SIGTERM: a saved render makes it exit 4 (resumable), else 130-like 4 too."""
    from ._templates import render
    from .replies import ErrorReply

    text = render("errors/interrupted", getattr(args, "lang", None))
    hint = render("errors/interrupted_hint", getattr(args, "lang", None),
                  export=args.command in ("export", "say"))
    printer.emit(ErrorReply("timeout", text, hint, exit_code=EXIT_INTERRUPTED))
    return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
