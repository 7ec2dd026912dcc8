"""The fault matrix: every backend and transport failure of PROTOCOL.md and
failure-modes.md against the real sandbox over loopback, through ``SkillRuntime`` and,
for exit statuses, through the real CLI in a subprocess.

For each fault: the user gets the specific message and exit status; the state file stays
valid (0600 in a 0700 folder); a render id is never lost; no partial file sits under a
final name; nothing is billed twice (one ``/run_sse`` POST when the stream broke after it
had started)."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import subprocess
import time
import tracemalloc
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import pytest

from skill.api import _constants as C
from skill.manifest import resolve_manifest
from skill.replies import Done, ErrorReply, FileReply, Message, ProgressReply
from skill.runtime import Limits, SkillRuntime
from skill.sandbox.testing import (
    arm,
    check_state_dir,
    clear_faults,
    cli_env,
    find_token_leaks,
    finish,
    requests_count,
    run_cli,
    start_cli,
    stats,
)
from tests.helpers import make_clip

RUN_SSE = "POST /run_sse"
SESSION = "POST /api/tasks/me/with-session/nemo_agent"
TOKEN = "POST /api/auth/anonymous-token"
UPLOAD = "POST /api/upload-video/nemo_agent/me/{sid}"
CREDITS = "GET /api/credits/balance/simple"
STATE = "GET /api/state/nemo_agent/me/{sid}/latest"
RENDER = "POST /api/render/proxy/lambda"
STATUS = "GET /api/render/proxy/lambda/{id}"
FALLBACK = "GET /api/render/proxy/{id}/download"
CDN = "GET /_sandbox/files/{name:path}"

FAST = dict(still_working_every=0.2, stream_idle_limit=5.0, stream_hard_limit=20.0, render_deadline=30.0,
            recovery_delays=(0.05, 0.1, 0.2, 0.3, 0.5, 0.5))


# -- fixtures -----------------------------------------------------------------------------

class FastSleep:
    """Records requested waits and sleeps at most 50 ms of real time."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, s: float) -> None:
        self.waits.append(s)
        await asyncio.sleep(min(s, 0.05))


@pytest.fixture(autouse=True)
def errors_hold_no_token(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every error the runtime turns into a reply here: its str, repr, detail and cause
    chain never hold a token."""
    import skill.runtime as runtime_mod

    seen: list[BaseException] = []
    real = runtime_mod.error_replies

    def spy(ctx: Any, exc: BaseException) -> Any:
        seen.append(exc)
        return real(ctx, exc)

    monkeypatch.setattr(runtime_mod, "error_replies", spy)
    yield seen
    texts: list[str] = []
    for exc in seen:
        e: BaseException | None = exc
        while e is not None:
            texts += [str(e), repr(e), repr(getattr(e, "detail", None))]
            e = e.__cause__ or e.__context__
    assert not find_token_leaks(texts), find_token_leaks(texts)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("media") / "clip.mp4", 2.0)


@pytest.fixture
def env_clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for var in ("NEMO_TOKEN", "NEMO_CLIENT_ID", "NEMO_API_URL", "SKILL_PLATFORM", "SKILL_SOURCE", "NEMO_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    return tmp_path / "cfg" / "nemovideo"


@pytest.fixture
async def make_rt(sandbox_url: str, tmp_path: Path, env_clean: Path) -> AsyncIterator[Any]:
    made: list[SkillRuntime] = []

    def make(**limits: Any) -> SkillRuntime:
        lim = dict(FAST)
        lim.update(limits)
        rt = SkillRuntime(resolve_manifest(None), api_url=sandbox_url, state_dir=env_clean,
                          out_dir=tmp_path / "out", limits=Limits(**lim), sleep=FastSleep())
        made.append(rt)
        return rt

    yield make
    for rt in made:
        await rt.aclose()
    check_state_dir(env_clean)  # every fault leaves a valid state file, 0600 in 0700


@pytest.fixture
async def rt(make_rt: Any) -> SkillRuntime:
    return make_rt()


async def collect(gen: AsyncIterator[Any]) -> list[Any]:
    out = [r async for r in gen]
    assert isinstance(out[-1], Done), out
    leaks = find_token_leaks([getattr(r, "text", "") for r in out] + [getattr(r, "hint", "") for r in out]
                             + [getattr(r, "url", "") for r in out])
    assert not leaks, leaks
    return out


def done(replies: list[Any]) -> Done:
    return replies[-1]


def texts(replies: list[Any]) -> str:
    return "\n".join(r.text for r in replies if isinstance(r, (Message, ErrorReply)))


def errors(replies: list[Any]) -> list[ErrorReply]:
    return [r for r in replies if isinstance(r, ErrorReply)]


def profile(rt: SkillRuntime) -> Any:
    return rt.store.load(rt.key)


async def ready(rt: SkillRuntime, clip: Path) -> None:
    """A project with the clip on the timeline (an exportable draft)."""
    r = await collect(rt.handle("generate a title, description and tags for my video", files=[str(clip)]))
    assert done(r).ok, r


def part_files(d: Path) -> list[Path]:
    return [p for p in d.rglob("*") if p.name.endswith(".part")] if d.exists() else []


def mp4s(d: Path) -> list[Path]:
    return sorted(d.rglob("*.mp4")) if d.exists() else []


# -- auth and session ---------------------------------------------------------------------

async def test_token_expired_mid_workflow_reauths_once(rt, clip, sandbox_url, fault):
    await ready(rt, clip)
    tok1 = profile(rt).token
    fault("expire_token")
    r = await collect(rt.handle("add lo-fi background music"))
    assert done(r).ok and "Lo-fi" in texts(r)
    r = await collect(rt.state())
    assert done(r).ok
    s = stats(sandbox_url)
    assert s["token_mints"] == 2
    assert s["chat_runs"] == 2  # the music edit ran once: the 1001 came before the stream opened
    assert profile(rt).token not in (None, tok1)


async def test_session_dropped_user_told_project_restarted(rt, clip, sandbox_url, fault):
    await ready(rt, clip)
    old = profile(rt).session_id
    fault("drop_session")
    r = await collect(rt.state())
    assert done(r).ok
    assert "started a new project" in texts(r)
    assert profile(rt).session_id not in (None, old)
    fault("drop_session")
    before_runs = stats(sandbox_url)["chat_runs"]
    r = await collect(rt.chat("hello"))
    assert done(r).ok and "started a new project" in texts(r)
    assert stats(sandbox_url)["chat_runs"] == before_runs + 1  # replayed once, run once


# -- rate limits and 5xx ------------------------------------------------------------------

def test_cli_429_once_succeeds_twice_exits_3(sandbox_url, tmp_path):
    home = tmp_path / "home"
    assert run_cli(sandbox_url, ["credits"], home).returncode == 0
    arm(sandbox_url, "rate_limit", count=1, path="/api/credits", retry_after=1)
    t0 = time.monotonic()
    ok = run_cli(sandbox_url, ["credits"], home)
    assert ok.returncode == 0, ok
    assert time.monotonic() - t0 >= 1.0  # Retry-After was honoured
    arm(sandbox_url, "rate_limit", count=2, path="/api/credits", retry_after=1)
    bad = run_cli(sandbox_url, ["credits"], home)
    assert bad.returncode == 3, bad
    assert [e["code"] for e in bad.errors] == ["429"]
    assert bad.errors[0]["text"] and "Traceback" not in bad.stderr
    assert requests_count(sandbox_url, CREDITS) == 1 + 2 + 2
    check_state_dir(home / "cfg" / "nemovideo")


@pytest.mark.parametrize("path,key,call", [
    ("/api/credits", CREDITS, "credits"),
    ("/api/state", STATE, "state"),
])
@pytest.mark.parametrize("body", ["html", "json", "empty"])
async def test_5xx_burst_on_get_is_retried(rt, clip, sandbox_url, fault, path, key, call, body):
    await ready(rt, clip)
    n0 = requests_count(sandbox_url, key)
    fault("server_error", count=2, path=path, status=503, body=body)
    r = await collect(getattr(rt, call)())
    assert done(r).ok, r
    assert requests_count(sandbox_url, key) - n0 == 3  # two failures, one success


async def test_5xx_burst_on_get_past_retries_is_exit_3(rt, sandbox_url, fault):
    fault("server_error", count=C.DEFAULT_MAX_RETRIES + 1, path="/api/credits", status=502)
    r = await collect(rt.credits())
    assert done(r).exit_code == 3 and errors(r)[0].code == "server"
    assert "HTTP 502" in errors(r)[0].text
    assert requests_count(sandbox_url, CREDITS) == C.DEFAULT_MAX_RETRIES + 1


@pytest.mark.parametrize("path,key", [
    ("/api/auth", TOKEN),
    ("/api/tasks", SESSION),
    ("/run_sse", RUN_SSE),
    ("/api/upload-video", UPLOAD),
])
async def test_5xx_on_post_is_not_resent(rt, clip, sandbox_url, fault, path, key):
    if key in (RUN_SSE, UPLOAD):
        r = await collect(rt.state())  # token and session exist
        assert done(r).ok
    fault("server_error", count=1, path=path, status=503)
    if key == UPLOAD:
        r = await collect(rt.upload([str(clip)]))
    else:
        r = await collect(rt.chat("add lo-fi background music"))
    assert done(r).exit_code == 3, r
    assert errors(r)[0].code == "server"
    assert requests_count(sandbox_url, key) == 1  # never re-sent
    s = stats(sandbox_url)
    assert s["chat_runs"] == 0 and s["uploads"] == 0


async def test_5xx_on_render_post_retried_with_same_id(rt, clip, sandbox_url, fault, tmp_path):
    await ready(rt, clip)
    fault("server_error", count=1, path="/api/render/proxy/lambda", status=503)
    r = await collect(rt.export(out_dir=tmp_path / "o"))
    assert done(r).ok, r
    s = stats(sandbox_url)
    assert s["renders_created"] == 1 and s["requests"][RENDER] == 2
    assert len(mp4s(tmp_path / "o")) == 1 and profile(rt).pending_renders == []


async def test_5xx_on_render_status_is_retried(rt, clip, sandbox_url, fault, tmp_path):
    await ready(rt, clip)
    fault("server_error", count=2, path="/api/render/proxy/lambda/", status=500, body="json")
    r = await collect(rt.export(out_dir=tmp_path / "o"))
    assert done(r).ok, r
    assert len(mp4s(tmp_path / "o")) == 1


# -- connection resets -------------------------------------------------------------------

async def test_connection_reset_during_upload(rt, clip, sandbox_url, fault):
    r = await collect(rt.state())
    fault("reset_upload")
    r = await collect(rt.upload([str(clip)]))
    assert done(r).exit_code == 3 and errors(r)[0].code == "network", r
    assert requests_count(sandbox_url, UPLOAD) == 1 and stats(sandbox_url)["uploads"] == 0
    r = await collect(rt.upload([str(clip)]))  # the user simply tries again
    assert done(r).ok and stats(sandbox_url)["uploads"] == 1


@pytest.mark.parametrize("after", [0, 1, 2, 4])
async def test_stream_cut_never_resends_and_recovers(rt, clip, sandbox_url, fault, after):
    await ready(rt, clip)
    runs0, posts0 = stats(sandbox_url)["chat_runs"], requests_count(sandbox_url, RUN_SSE)
    fault("cut_stream", after=after)
    r = await collect(rt.handle("add lo-fi background music"))
    t = texts(r)
    assert "won't send your message again" in t
    assert "finished while we were disconnected" in t and "Lo-fi" in t
    assert done(r).ok
    assert requests_count(sandbox_url, RUN_SSE) - posts0 == 1  # billed once
    assert stats(sandbox_url)["chat_runs"] - runs0 == 1


async def test_stream_cut_and_no_change_is_exit_3(rt, clip, sandbox_url, fault):
    r = await collect(rt.state())
    fault("cut_stream", after=0)
    r = await collect(rt.chat("hello"))  # a greeting changes nothing: recovery can't confirm
    assert done(r).exit_code == 3 and errors(r)[-1].code == "network"
    assert "could not confirm" in texts(r)
    assert requests_count(sandbox_url, RUN_SSE) == 1


@pytest.mark.parametrize("shape", ["plain", "adk"])
async def test_stream_mid_error_event(rt, clip, sandbox_url, fault, shape):
    r = await collect(rt.state())
    fault("stream_error", after=0, adk=shape == "adk")
    r = await collect(rt.chat("hello"))
    assert done(r).exit_code == 3 and errors(r)
    assert requests_count(sandbox_url, RUN_SSE) == 1
    assert "model call failed" not in texts(r)  # raw backend error text is not forwarded


async def test_stream_without_final_blank_line_shows_text_once(rt, clip, fault):
    await ready(rt, clip)
    fault("no_final_newline")
    r = await collect(rt.chat("generate a title, description and tags for my video"))
    assert done(r).ok
    msgs = [m.text for m in r if isinstance(m, Message)]
    assert sum("Title:" in m for m in msgs) == 1, msgs


async def test_malformed_frames_are_skipped(rt, clip, fault, sandbox_url):
    await ready(rt, clip)
    fault("malformed_frames", count=1)  # every frame mangled, cycling invalid JSON, CRLF, split data:
    r = await collect(rt.chat("generate a title, description and tags for my video"))
    assert done(r).ok, r
    msgs = [m.text for m in r if isinstance(m, Message)]
    assert sum("Title:" in m for m in msgs) == 1, msgs
    assert "unterminated" not in texts(r)


async def test_oversized_frame_10mb_bounded_memory(rt, clip, fault, sandbox_url):
    await ready(rt, clip)
    size = 10 * 1024 * 1024
    fault("oversized_frame", bytes=size)
    tracemalloc.start()
    try:
        r = await collect(rt.handle("add lo-fi background music"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert done(r).ok and "Lo-fi" in texts(r)
    assert peak < 8 * size, f"peak {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB line"
    assert requests_count(sandbox_url, RUN_SSE) == 2


async def test_frame_over_the_limit_is_refused_not_buffered(rt, clip, fault, sandbox_url, monkeypatch):
    await ready(rt, clip)
    monkeypatch.setattr("skill.api._sse.C.MAX_FRAME_CHARS", 1024 * 1024)
    fault("oversized_frame", bytes=4 * 1024 * 1024)
    tracemalloc.start()
    try:
        r = await collect(rt.handle("add lo-fi background music"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    t = texts(r)
    assert "won't send your message again" in t  # treated as a broken stream: recover, never re-send
    assert requests_count(sandbox_url, RUN_SSE) == 2
    assert peak < 24 * 1024 * 1024


# -- idle and hard limits ---------------------------------------------------------------

async def test_keepalives_longer_than_idle_limit_keep_the_stream(make_rt, clip, fault, sandbox_url):
    rt = make_rt(stream_idle_limit=0.8, still_working_every=0.3)
    await ready(rt, clip)
    fault("stall_stream", seconds=2.0)  # keep-alives every 0.3 s for 2 s > the 0.8 s idle limit
    r = await collect(rt.handle("add lo-fi background music"))
    assert done(r).ok and "Lo-fi" in texts(r)
    assert "won't send" not in texts(r)
    assert any(isinstance(x, ProgressReply) and "working" in x.text.lower() for x in r)
    assert requests_count(sandbox_url, RUN_SSE) == 2


async def test_silence_longer_than_idle_limit_recovers(make_rt, clip, fault, sandbox_url):
    rt = make_rt(stream_idle_limit=0.5)
    await ready(rt, clip)
    fault("stall_stream", seconds=1.5, silent=True)
    t0 = time.monotonic()
    r = await collect(rt.handle("add lo-fi background music"))
    assert "won't send your message again" in texts(r)
    assert "Lo-fi" in texts(r) and done(r).ok
    assert requests_count(sandbox_url, RUN_SSE) == 2
    assert time.monotonic() - t0 < 10


async def test_hard_limit_with_keepalives_only(make_rt, clip, fault, sandbox_url):
    rt = make_rt(stream_idle_limit=0.8, stream_hard_limit=1.0)
    r = await collect(rt.state())
    fault("stall_stream", seconds=3.0)
    t0 = time.monotonic()
    r = await collect(rt.chat("hello"))
    assert time.monotonic() - t0 < 8
    assert done(r).exit_code == 3 and errors(r)[-1].code == "timeout"
    assert requests_count(sandbox_url, RUN_SSE) == 1


# -- render -------------------------------------------------------------------------------

async def test_render_failed(rt, clip, fault, tmp_path, sandbox_url):
    await ready(rt, clip)
    fault("fail_render", error="encoder exploded")
    r = await collect(rt.export(out_dir=tmp_path / "o"))
    assert done(r).exit_code == 1 and errors(r)[0].code == "server"
    assert "render failed" in errors(r)[0].text.lower()
    assert mp4s(tmp_path / "o") == [] and part_files(tmp_path / "o") == []
    assert profile(rt).pending_renders == []


async def test_render_never_finishing_exit_4_then_resume(make_rt, clip, fault, tmp_path, sandbox_url):
    rt = make_rt(render_deadline=0.6)
    await ready(rt, clip)
    fault("render_never_finishes")
    r = await collect(rt.export(out_dir=tmp_path / "o"))
    assert done(r).exit_code == 4 and errors(r)[0].code == "timeout"
    pending = profile(rt).pending_renders
    assert len(pending) == 1 and pending[0].submitted
    rid = pending[0].id
    assert rid in errors(r)[0].text  # the user is told which job is still running
    assert mp4s(tmp_path / "o") == []
    clear_faults(sandbox_url)  # the job completes now
    rt2 = make_rt()
    r = await collect(rt2.export(resume=True))
    assert done(r).ok, r
    files = [x for x in r if isinstance(x, FileReply)]
    assert len(files) == 1 and Path(files[0].path).parent == (tmp_path / "o").resolve()
    assert profile(rt2).pending_renders == []
    assert stats(sandbox_url)["renders_created"] == 1  # resumed, never re-rendered


def _wait_for_pending(state: Path, timeout: float = 20.0) -> str:
    import json

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            doc = json.loads((state / "skill-state.json").read_text())
            for prof in doc["profiles"].values():
                for p in prof.get("pending_renders") or []:
                    if p.get("submitted"):
                        return p["id"]
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError("no submitted render in the state file")


def _cli_project(sandbox_url: str, home: Path, clip: Path) -> None:
    r = run_cli(sandbox_url, ["say", "generate a title, description and tags for my video", "--file", str(clip)],
                home)
    assert r.returncode == 0, r


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cli_export_interrupted_exit_4_then_resume(sandbox_url, tmp_path, clip, sig):
    home = tmp_path / "home"
    _cli_project(sandbox_url, home, clip)
    arm(sandbox_url, "render_never_finishes")
    out = tmp_path / "out"
    proc = start_cli(sandbox_url, ["export", "--out", str(out)], home)
    rid = _wait_for_pending(home / "cfg" / "nemovideo")
    time.sleep(0.5)
    proc.send_signal(sig)
    res = finish(proc, 30)
    assert res.returncode == 4, res
    assert "Traceback" not in res.stderr
    doc = check_state_dir(home / "cfg" / "nemovideo")
    ids = [p["id"] for prof in doc["profiles"].values() for p in prof["pending_renders"]]
    assert ids == [rid]  # the render id survived the interruption
    assert mp4s(out) == []
    clear_faults(sandbox_url)
    res = run_cli(sandbox_url, ["export", "--resume"], home)
    assert res.returncode == 0, res
    files = res.of("file")
    assert len(files) == 1 and Path(files[0]["path"]).parent == out.resolve()
    assert Path(files[0]["path"]).stat().st_size == files[0]["bytes"]
    assert stats(sandbox_url)["renders_created"] == 1
    doc = check_state_dir(home / "cfg" / "nemovideo")
    assert all(not prof["pending_renders"] for prof in doc["profiles"].values())


def test_cli_export_render_never_finishing_exit_4_then_resume(sandbox_url, tmp_path, clip):
    home = tmp_path / "home"
    _cli_project(sandbox_url, home, clip)
    arm(sandbox_url, "render_never_finishes")
    out = tmp_path / "out"
    res = run_cli(sandbox_url, ["export", "--out", str(out), "--wait-timeout", "1"], home)
    assert res.returncode == 4, res
    assert [e["code"] for e in res.errors] == ["timeout"]
    doc = check_state_dir(home / "cfg" / "nemovideo")
    ids = [p["id"] for prof in doc["profiles"].values() for p in prof["pending_renders"]]
    assert len(ids) == 1 and ids[0] in res.errors[0]["text"]
    assert mp4s(out) == [] and part_files(out) == []
    res = run_cli(sandbox_url, ["export", "--resume", "--wait-timeout", "1"], home)
    assert res.returncode == 4, res  # still running: still resumable, same id
    doc = check_state_dir(home / "cfg" / "nemovideo")
    assert [p["id"] for prof in doc["profiles"].values() for p in prof["pending_renders"]] == ids
    clear_faults(sandbox_url)
    res = run_cli(sandbox_url, ["export", "--resume"], home)
    assert res.returncode == 0, res
    assert [Path(f["path"]).parent for f in res.of("file")] == [out.resolve()]
    assert stats(sandbox_url)["renders_created"] == 1


async def test_result_url_expired_uses_fallback(rt, clip, fault, tmp_path, sandbox_url):
    await ready(rt, clip)
    fault("expire_result_url")
    r = await collect(rt.export(out_dir=tmp_path / "o"))
    assert done(r).ok, r
    s = stats(sandbox_url)["requests"]
    assert s.get(CDN) == 1 and s.get(FALLBACK) == 1
    f = [x for x in r if isinstance(x, FileReply)][0]
    assert Path(f.path).stat().st_size == f.bytes > 0
    assert part_files(tmp_path / "o") == []


def _server_bytes(sandbox: Any) -> bytes:
    names = [n for n in sandbox.backend.files if n.startswith("render_")]
    assert len(names) == 1, names
    return Path(sandbox.backend.files[names[0]].path).read_bytes()


async def test_download_cut_resumes_with_range(rt, clip, fault, tmp_path, sandbox):
    await ready(rt, clip)
    fault("cut_download", fraction=0.5)
    r = await collect(rt.export(out_dir=tmp_path / "o"))
    assert done(r).ok, r
    f = [x for x in r if isinstance(x, FileReply)][0]
    assert Path(f.path).read_bytes() == _server_bytes(sandbox)
    assert part_files(tmp_path / "o") == []
    assert stats(sandbox.url)["requests"][CDN] == 2


async def test_server_ignoring_range_restarts_cleanly(rt, clip, fault, tmp_path, sandbox):
    await ready(rt, clip)
    fault("cut_download", fraction=0.5)
    fault("ignore_range", count=2)  # the retry asks for bytes=N- and gets the whole file (200)
    r = await collect(rt.export(out_dir=tmp_path / "o"))
    assert done(r).ok, r
    f = [x for x in r if isinstance(x, FileReply)][0]
    assert Path(f.path).read_bytes() == _server_bytes(sandbox)  # not the half appended twice
    assert part_files(tmp_path / "o") == []


# -- the output folder --------------------------------------------------------------------

class _ReadOnly:
    """A folder the process cannot write: chmod for ordinary users; root ignores modes, so
    a read-only tmpfs is mounted when possible, else /proc/1 (Linux) stands in."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.mounted = False
        self.path = base / "ro"

    def __enter__(self) -> Path:
        self.path.mkdir()
        if os.geteuid() != 0:
            self.path.chmod(0o555)
            return self.path
        if _mount(["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(self.path)]):
            self.mounted = True
            return self.path
        if Path("/proc/1").is_dir() and not os.access("/proc/1", os.W_OK):
            return Path("/proc/1")
        pytest.skip("no way to make a read-only folder here")

    def __exit__(self, *a: Any) -> None:
        if self.mounted:
            subprocess.run(["umount", str(self.path)], capture_output=True)
        elif self.path.exists():
            self.path.chmod(0o755)


def _mount(args: list[str]) -> bool:
    try:
        return subprocess.run(["mount", *args], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def test_cli_export_to_readonly_folder_exit_2(sandbox_url, tmp_path, clip):
    home = tmp_path / "home"
    _cli_project(sandbox_url, home, clip)
    with _ReadOnly(tmp_path) as ro:
        before = set(os.listdir(ro))
        res = run_cli(sandbox_url, ["--out", str(ro), "export"], home)
        assert res.returncode == 2, res
        assert [e["code"] for e in res.errors] == ["bad_input"]
        assert str(ro) in res.errors[0]["text"]
        assert set(os.listdir(ro)) == before  # nothing written, not even a partial file
    assert stats(sandbox_url)["renders_created"] == 0  # refused before anything was rendered
    check_state_dir(home / "cfg" / "nemovideo")


async def test_disk_full_keeps_render_id_and_no_final_file(rt, clip, tmp_path, sandbox_url, monkeypatch):
    await ready(rt, clip)
    out = tmp_path / "full"
    out.mkdir()
    real_mount = os.geteuid() == 0 and _mount(["-t", "tmpfs", "-o", "size=16k", "tmpfs", str(out)])
    try:
        if not real_mount:  # simulate ENOSPC on the download's binary writes only
            import skill.api._render as render_mod

            real_fdopen = os.fdopen

            class _Full:
                def __init__(self, fh: Any) -> None:
                    self.fh = fh

                def write(self, b: bytes) -> int:
                    raise OSError(errno.ENOSPC, "No space left on device")

                def __getattr__(self, k: str) -> Any:
                    return getattr(self.fh, k)

                def __enter__(self) -> Any:
                    return self

                def __exit__(self, *a: Any) -> None:
                    self.fh.close()

            def fdopen(fd: int, mode: str = "r", *a: Any, **k: Any) -> Any:
                fh = real_fdopen(fd, mode, *a, **k)
                return _Full(fh) if "b" in mode else fh

            monkeypatch.setattr(render_mod.os, "fdopen", fdopen)
        r = await collect(rt.export(out_dir=out))
        monkeypatch.undo()
        assert done(r).exit_code == 2 and errors(r)[0].code == "bad_input", r
        assert mp4s(out) == []  # nothing under a final name
        pending = profile(rt).pending_renders
        assert len(pending) == 1  # the finished render is still ours to fetch
    finally:
        if real_mount:
            subprocess.run(["umount", str(out)], capture_output=True)
    r = await collect(rt.export(resume=pending[0].id, out_dir=tmp_path / "roomy"))
    assert done(r).ok, r
    assert len(mp4s(tmp_path / "roomy")) == 1
    assert stats(sandbox_url)["renders_created"] == 1
