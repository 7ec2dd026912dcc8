"""``nemo-skill demo``: the whole chat workflow, offline, on the embedded sandbox.

Starts the sandbox on a loopback port, makes a short sample clip with the imageio-ffmpeg
binary, and runs the generator-meta-ai quick-edit workflow through ``SkillRuntime`` the
way a person would see it in a chat: upload -> metadata -> a silent edit -> status ->
export -> credits. State lives in a throw-away config folder; ``NEMO_TOKEN`` and
``NEMO_API_URL`` from the environment are ignored (the demo never talks to production).

Every word printed comes from ``prompts/<lang>/demo/*.j2`` or from the runtime's own
templates. With ``--json`` only the INTERFACE.md reply lines go to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

__all__ = ["run_demo", "DEMO_VARIANT", "make_sample_clip"]

DEMO_VARIANT = "generator-meta-ai"
CLIP_SECONDS = 6
CLIP_SIZE = "1280x720"
TIME_SCALE = 0.05
DEFAULT_OUT = "nemo-demo-out"

from .api._errors import EXIT_BAD_INPUT, EXIT_NETWORK, EXIT_OK, EXIT_REFUSED

#: environment the demo must not inherit (it would point the runtime at production or
#: hand it the user's real token)
_SCRUBBED_ENV = ("NEMO_TOKEN", "NEMO_API_URL", "NEMO_WEB_URL", "NEMO_CLIENT_ID")


class DemoFailed(Exception):
    """A step failed; ``template`` names the one-paragraph explanation."""

    def __init__(self, template: str, exit_code: int, **ctx: Any) -> None:
        super().__init__(template)
        self.template = template
        self.exit_code = exit_code
        self.ctx = ctx


def make_sample_clip(path: Path, seconds: int = CLIP_SECONDS, size: str = CLIP_SIZE) -> Path:
    """A testsrc2 + sine H.264/AAC MP4 (the ffmpeg binary from imageio-ffmpeg)."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # ImportError, or the binary is missing
        raise DemoFailed("demo/needs_sandbox", EXIT_BAD_INPUT, reason=type(exc).__name__) from None
    cmd = [exe, "-hide_banner", "-loglevel", "error", "-y",
           "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}",
           "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(path)]
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DemoFailed("demo/clip_failed", EXIT_BAD_INPUT, reason=type(exc).__name__) from None
    if r.returncode != 0 or not path.is_file() or path.stat().st_size == 0:
        raise DemoFailed("demo/clip_failed", EXIT_BAD_INPUT, reason=f"exit {r.returncode}")
    return path


@contextlib.contextmanager
def _isolated_env(config_home: Path) -> Iterator[None]:
    """A private XDG config folder, and none of the user's NEMO_* settings."""
    saved = {k: os.environ.get(k) for k in (*_SCRUBBED_ENV, "XDG_CONFIG_HOME")}
    try:
        for k in _SCRUBBED_ENV:
            os.environ.pop(k, None)
        os.environ["XDG_CONFIG_HOME"] = str(config_home)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _lang(args: argparse.Namespace) -> str:
    from ._templates import normalize_lang

    code = getattr(args, "lang", None)
    if not code:
        from .runtime import _env_lang

        code = _env_lang()
    return normalize_lang(code)


@dataclass
class _Transcript:
    """Prints replies as a chat for a person, or as the INTERFACE.md JSON lines."""

    lang: str
    as_json: bool
    quiet: bool
    out: Any = field(default_factory=lambda: sys.stdout)
    err: Any = field(default_factory=lambda: sys.stderr)

    def __post_init__(self) -> None:
        tty = bool(getattr(self.out, "isatty", lambda: False)())
        self.color = tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
        self._seen_progress: set[tuple[str, Any]] = set()

    def t(self, template: str, /, **kw: Any) -> str:
        from ._templates import render

        return render(template, self.lang, **kw)

    def _write(self, text: str, stream: Any = None) -> None:
        stream = stream or self.out
        stream.write(text + "\n")
        stream.flush()

    def _dim(self, text: str) -> str:
        return f"\x1b[2m{text}\x1b[0m" if self.color else text

    def _bold(self, text: str) -> str:
        return f"\x1b[1m{text}\x1b[0m" if self.color else text

    def _say(self, who: str, text: str) -> None:
        label = self.t(f"demo/{who}") + ": "
        pad = " " * len(label)
        lines = text.split("\n")
        body = [self._bold(label) + lines[0]] + [(pad + ln) if ln.strip() else "" for ln in lines[1:]]
        self._write("\n".join(body))

    # -- what the demo itself says ----------------------------------------------------
    def note(self, template: str, **kw: Any) -> None:
        if not self.as_json:
            self._write(self._dim(self.t(template, **kw)))

    def user(self, text: str) -> None:
        self._seen_progress.clear()
        if not self.as_json:
            self._write("")
            self._say("you", text)

    def result(self, path: str) -> None:
        if not self.as_json:
            self._write("")
            self._write(self.t("demo/result", path=path))

    def failure(self, template: str, exit_code: int, **kw: Any) -> None:
        from .replies import ErrorReply, to_json

        text = self.t(template, **kw)
        hint = self.t(f"{template}_hint", **kw) if _has_template(f"{template}_hint") else \
            self.t("demo/failed_hint")
        if self.as_json:
            code = "bad_input" if exit_code == EXIT_BAD_INPUT else "server"
            self._write(to_json(ErrorReply(code, text, hint, exit_code=exit_code)))
        else:
            self._write(f"{text}\n{hint}", self.err)

    # -- the runtime's replies --------------------------------------------------------
    def reply(self, r: Any) -> None:
        from .replies import to_json

        if r.type == "progress" and self.quiet:
            return
        if self.as_json:
            self._write(to_json(r))
            return
        if r.type == "progress":
            self._progress(r)
        elif r.type == "message":
            self._say("nemo", r.text)
        elif r.type == "file":
            pass  # the "your video is ready" message that follows names the path
        elif r.type == "link":
            pass  # project links point at a web app the offline sandbox does not have
        elif r.type == "error":
            self._say("nemo", r.text + (f"\n{r.hint}" if r.hint else ""))

    def _progress(self, r: Any) -> None:
        """Short dimmed lines: the first line of a stage, halfway, and the end."""
        if r.percent is None:
            key: tuple[str, Any] = (r.stage, r.text)
        else:
            key = (r.stage, 0 if r.percent < 50 else 50 if r.percent < 100 else 100)
        if key in self._seen_progress:
            return
        self._seen_progress.add(key)
        self._write(self._dim("  · " + self.t("demo/progress", text=r.text)))


def _has_template(name: str) -> bool:
    from ._templates import template_names

    return name in template_names("en")


async def _workflow(rt: Any, tr: _Transcript, clip: Path, out_dir: Path) -> str:
    """Run the chat; returns the path of the exported MP4."""
    steps: list[tuple[str, Any]] = [
        (tr.t("demo/attach", name=clip.name), lambda: rt.upload([str(clip)])),
        (tr.t("demo/msg_meta"), None),
        (tr.t("demo/msg_music"), None),
        (tr.t("demo/msg_status"), None),
        (tr.t("demo/msg_export"), None),
        (tr.t("demo/msg_credits"), None),
    ]
    mp4: str | None = None
    for said, call in steps:
        tr.user(said)
        gen = call() if call is not None else rt.handle(said)
        done = None
        async for r in gen:
            if r.type == "done":
                done = r
            elif r.type == "file" and r.kind == "video":
                mp4 = r.path
            tr.reply(r)
        if done is None or not done.ok:
            code = done.exit_code if done is not None and done.exit_code else EXIT_REFUSED
            raise DemoFailed("demo/failed", code, step=said)
    if not mp4 or not Path(mp4).is_file():
        raise DemoFailed("demo/no_file", EXIT_REFUSED)
    return mp4


def _start_sandbox() -> Any:
    try:
        from .sandbox import SandboxServer

        server = SandboxServer(time_scale=TIME_SCALE, host="127.0.0.1", port=0)
    except ImportError as exc:
        raise DemoFailed("demo/needs_sandbox", EXIT_BAD_INPUT, reason=exc.name or "") from None
    try:
        return server.start()
    except Exception as exc:  # bind refused, uvicorn failed...
        raise DemoFailed("demo/sandbox_failed", EXIT_NETWORK, reason=type(exc).__name__) from None


def run_demo(args: argparse.Namespace) -> int:
    lang = _lang(args)
    tr = _Transcript(lang=lang, as_json=bool(getattr(args, "json", False)),
                     quiet=bool(getattr(args, "quiet", False)))
    out_dir = Path(getattr(args, "out", None) or DEFAULT_OUT).expanduser().resolve()
    try:
        with tempfile.TemporaryDirectory(prefix="nemo-demo-") as tmp:
            tmpdir = Path(tmp)
            with _isolated_env(tmpdir / "config"):
                return _run(tr, lang, tmpdir, out_dir)
    except DemoFailed as exc:
        tr.failure(exc.template, exc.exit_code, **exc.ctx)
        return exc.exit_code
    except KeyboardInterrupt:
        tr.failure("demo/interrupted", EXIT_NETWORK)
        return EXIT_NETWORK
    except BrokenPipeError:  # `nemo-skill demo | head`: stop quietly
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_REFUSED
    except Exception:  # a bug: one plain paragraph; the traceback only with NEMO_DEBUG=1
        if os.environ.get("NEMO_DEBUG") == "1":
            raise
        tr.failure("demo/unexpected", EXIT_NETWORK)
        return EXIT_NETWORK


def _run(tr: _Transcript, lang: str, tmpdir: Path, out_dir: Path) -> int:
    from .handlers._context import Limits
    from .manifest import resolve_manifest
    from .runtime import SkillRuntime

    manifest = resolve_manifest(DEMO_VARIANT)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        raise DemoFailed("demo/out_failed", EXIT_BAD_INPUT, path=str(out_dir)) from None
    server = _start_sandbox()
    try:
        tr.note("demo/intro", url=server.url)
        tr.note("demo/making_clip", seconds=CLIP_SECONDS)
        clip = make_sample_clip(tmpdir / "sample.mp4")

        async def main() -> str:
            async with SkillRuntime(manifest, api_url=server.url, web_url=server.url, lang=lang,
                                    out_dir=out_dir, state_dir=tmpdir / "config" / "nemovideo",
                                    platform="unknown", limits=Limits(render_deadline=60.0)) as rt:
                return await _workflow(rt, tr, clip, out_dir)

        mp4 = asyncio.run(main())
    finally:
        server.stop()
    tr.result(mp4)
    return EXIT_OK
