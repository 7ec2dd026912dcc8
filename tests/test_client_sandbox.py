"""The client against the sandbox over real loopback sockets: every endpoint, every
error-code path of PROTOCOL.md."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import httpx
import pytest

from skill.api import (
    Attribution,
    BadInputError,
    FileTooLargeError,
    InsufficientCreditsError,
    NemoClient,
    PlanRestrictedError,
    RateLimitError,
    Renderer,
    ServerError,
    SessionNotFoundError,
    TextEvent,
    TokenInvalidError,
    ToolCallEvent,
    UnsupportedFileError,
)
from skill.api import _constants as C
from skill.state import StateStore
from tests.helpers import count, make_clip, probe, stats

ATTR = Attribution("generator-meta-ai", "1.0.0", "unknown")


class Sleeps:
    """An injectable sleep that records waits (and sleeps a tiny real amount)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, s: float) -> None:
        self.waits.append(s)
        await asyncio.sleep(min(s, 0.05))


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "cfg" / "nemovideo")


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(sandbox_url, store, sleeps, monkeypatch):
    monkeypatch.delenv("NEMO_TOKEN", raising=False)
    monkeypatch.delenv("NEMO_CLIENT_ID", raising=False)
    c = NemoClient(api_url=sandbox_url, attribution=ATTR, store=store,
                   profile_key=StateStore.key(sandbox_url, ATTR.source), sleep=sleeps)
    yield c
    await c.aclose()


async def test_anonymous_token_is_minted_once_and_stored(client, store, sandbox_url):
    tok = await client.ensure_token()
    assert tok.startswith("nmv_usr_")
    prof = store.load(StateStore.key(sandbox_url, ATTR.source))
    assert prof.token == tok and prof.user_id.startswith("anon_") and prof.token_expires_at
    cid = (store.directory / "client_id").read_text().strip()
    c2 = NemoClient(api_url=sandbox_url, attribution=ATTR, store=store,
                    profile_key=StateStore.key(sandbox_url, ATTR.source))
    assert await c2.ensure_token() == tok  # reused from the state file, no second mint
    await c2.aclose()
    assert stats(sandbox_url)["token_mints"] == 1
    assert (store.directory / "client_id").read_text().strip() == cid


async def test_env_token_wins(sandbox_url, store):
    c = NemoClient(api_url=sandbox_url, attribution=ATTR, store=store, profile_key="k", token="nmv_usr_env")
    assert await c.ensure_token() == "nmv_usr_env"
    with pytest.raises(TokenInvalidError):  # an explicit token is never swapped for an anonymous one
        await c.credits()
    assert stats(sandbox_url)["token_mints"] == 0
    await c.aclose()


async def test_session_credits_state(client):
    s = await client.create_session("en")
    assert isinstance(s.session_id, str) and s.session_id.isdigit() and s.task_id
    cr = await client.credits()
    assert cr.available == 100 and cr.frozen == 0
    st = await client.state(s.session_id)
    assert st.state.video_infos == []


async def test_1001_reauthenticates_once_and_replays(client, fault, sandbox_url):
    await client.credits()
    fault("expire_token")
    cr = await client.credits()
    assert cr.available == 100
    assert stats(sandbox_url)["token_mints"] == 2


async def test_1002_surfaces_as_session_not_found(client, fault):
    s = await client.create_session("en")
    fault("drop_session")
    with pytest.raises(SessionNotFoundError):
        await client.state(s.session_id)


async def test_429_waits_retry_after_and_retries_once(client, fault, sleeps, sandbox_url):
    await client.ensure_token()
    fault("rate_limit", count=1, path="/api/credits", retry_after=2)
    assert (await client.credits()).available == 100
    assert 2 in sleeps.waits
    fault("rate_limit", count=2, path="/api/credits")
    with pytest.raises(RateLimitError) as info:
        await client.credits()
    assert info.value.exit_code == 3


async def test_429_without_header_waits_30s_default(sleeps):
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(429, json={"code": 429, "message": "slow down"})
        return httpx.Response(200, json={"code": 0, "data": {"available": 5, "frozen": 0, "total": 5}})

    c = NemoClient(api_url="http://t", attribution=ATTR, token="t", sleep=sleeps,
                   transport=httpx.MockTransport(handler))
    assert (await c.credits()).available == 5
    assert sleeps.waits == [C.RATE_LIMIT_DEFAULT_WAIT] and len(calls) == 2
    await c.aclose()


async def test_second_token_for_same_client_is_429(sandbox_url):
    h = {"X-Client-Id": "fixed-client"}
    r1 = httpx.post(sandbox_url + "/api/auth/anonymous-token", headers=h)
    r2 = httpx.post(sandbox_url + "/api/auth/anonymous-token", headers=h)
    assert r1.status_code == 200 and r2.status_code == 429 and "retry-after" in r2.headers


async def test_400_missing_client_id_regenerates_and_retries(client, fault, store, sandbox_url):
    old = None
    fault("missing_client_id")
    await client.ensure_token()
    new = (store.directory / "client_id").read_text().strip()
    assert new and new != old
    assert stats(sandbox_url)["token_mints"] == 1


async def test_5xx_retried_on_idempotent_get_not_on_post(client, fault, sandbox_url):
    s = await client.create_session("en")
    fault("server_error", count=2, path="/api/state")
    st = await client.state(s.session_id)
    assert st is not None
    fault("server_error", count=1, path="/api/tasks")
    with pytest.raises(ServerError):
        await client.create_session("en")
    assert count(sandbox_url, "POST /api/tasks/me/with-session/nemo_agent") == 2


async def test_upload_multipart_url_and_local_checks(client, tmp_path, sandbox_url):
    s = await client.create_session("en")
    clip = make_clip(tmp_path / "città 🎬.mp4", 2.0)
    seen = []
    res = await client.upload_files(s.session_id, [clip], on_progress=seen.append)
    f = res.files[0]
    assert f.filename == "città 🎬.mp4" and abs(f.duration - 2.0) < 0.3 and f.width == 320
    assert seen and seen[-1].done == clip.stat().st_size
    res2 = await client.upload_urls(s.session_id, ["https://cdn.example.com/a.mp4"])
    assert res2.files[0].file_type == "video"
    bad = tmp_path / "notes.txt"
    bad.write_text("x")
    with pytest.raises(UnsupportedFileError):
        await client.upload_files(s.session_id, [bad])
    with pytest.raises(BadInputError):
        await client.upload_files(s.session_id, [tmp_path / "missing.mp4"])
    with pytest.raises(BadInputError):
        await client.upload_urls(s.session_id, ["file:///etc/passwd"])
    with pytest.raises(UnsupportedFileError):
        await client.upload_urls(s.session_id, ["https://x.example/run.sh"])
    big = tmp_path / "big.mp4"
    with open(big, "wb") as fh:
        fh.truncate(C.UPLOAD_LIMIT_BYTES + 1)
    with pytest.raises(FileTooLargeError):
        await client.upload_files(s.session_id, [big])
    assert stats(sandbox_url)["uploads"] == 2  # local refusals never reached the server


async def test_server_side_4001_and_4002(client, tmp_path, sandbox_url):
    s = await client.create_session("en")
    # bypass the local check to prove the server-side mapping
    r = httpx.post(f"{sandbox_url}/api/upload-video/nemo_agent/me/{s.session_id}",
                   headers={"Authorization": f"Bearer {client.token_in_use}"},
                   files={"files": ("a.exe", b"MZ")})
    from skill.api._envelope import error_from_body

    assert isinstance(error_from_body(r.status_code, r.headers, r.content), UnsupportedFileError)


async def test_chat_stream_silent_edit_and_metadata(client, tmp_path):
    s = await client.create_session("en")
    await client.upload_files(s.session_id, [make_clip(tmp_path / "demo.mp4", 3.0)])
    texts, tools = [], []
    async with client.chat(s.session_id, "generate a title, description and tags for my video") as events:
        async for ev in events:
            if isinstance(ev, TextEvent) and not ev.partial:
                texts.append(ev.text)
            if isinstance(ev, ToolCallEvent):
                tools.append(ev.name)
    assert texts and tools
    assert "3" in " ".join(texts)  # built from the real 3 s duration
    before = (await client.state(s.session_id)).state.draft
    got_text = []
    async with client.chat(s.session_id, "add lo-fi background music") as events:
        async for ev in events:
            if isinstance(ev, TextEvent):
                got_text.append(ev)
    assert got_text == []
    after = (await client.state(s.session_id)).state.draft
    assert after != before


async def test_chat_2001_when_out_of_credits(client, sandbox_url):
    s = await client.create_session("en")
    httpx.post(sandbox_url + "/_sandbox/credits", json={"token": client.token_in_use, "available": 0})
    with pytest.raises(InsufficientCreditsError):
        async with client.chat(s.session_id, "generate a 30-second promo video") as events:
            async for _ in events:
                pass


async def test_run_sse_on_dropped_session_is_1002(client, fault):
    s = await client.create_session("en")
    fault("drop_session")
    with pytest.raises(SessionNotFoundError):
        async with client.chat(s.session_id, "hi") as events:
            async for _ in events:
                pass


async def _ready_session(client, tmp_path, seconds=2.0):
    s = await client.create_session("en")
    await client.upload_files(s.session_id, [make_clip(tmp_path / "in.mp4", seconds)])
    async with client.chat(s.session_id, "generate a title, description and tags for my video") as ev:
        async for _ in ev:
            pass
    st = await client.state(s.session_id)
    return s.session_id, st.state.draft


async def test_render_end_to_end_real_mp4(client, store, tmp_path, sandbox_url):
    sid, draft = await _ready_session(client, tmp_path, 2.0)
    r = Renderer(client, store, StateStore.key(sandbox_url, ATTR.source), deadline=120)
    job = await r.submit(sid, draft, tmp_path)
    assert [p.id for p in r.pending()] == [job.id]  # persisted
    done = await r.wait(job.id)
    path, n = await r.download(done, job.id, tmp_path / "out", "my video")
    assert path.parent == (tmp_path / "out") and path.name == "my_video.mp4" and n == path.stat().st_size
    info = probe(path)
    assert info["codec"] == "h264"
    assert abs(info["duration"] - draft["d"] / 1000) <= 0.5
    assert r.pending() == []
    assert not list((tmp_path / "out").glob(".*.part"))


async def test_render_submit_is_idempotent_and_402_without_attribution(client, tmp_path, sandbox_url):
    sid, draft = await _ready_session(client, tmp_path)
    j1 = await client.submit_render(sid, draft, "render_same")
    j2 = await client.submit_render(sid, draft, "render_same")
    assert j1.id == j2.id == "render_same" and stats(sandbox_url)["renders_created"] == 1
    r = httpx.post(sandbox_url + "/api/render/proxy/lambda",
                   headers={"Authorization": f"Bearer {client.token_in_use}"},
                   json={"id": "render_x", "sessionId": sid, "draft": draft})
    from skill.api._envelope import error_from_body

    assert isinstance(error_from_body(r.status_code, r.headers, r.content), PlanRestrictedError)


async def test_render_fallback_download_and_range_resume(client, store, tmp_path, sandbox_url, fault):
    sid, draft = await _ready_session(client, tmp_path, 3.0)
    r = Renderer(client, store, "k", deadline=120)
    job = await r.submit(sid, draft, tmp_path)
    done = await r.wait(job.id)
    fault("expire_result_url")
    path, _ = await r.download(done, job.id, tmp_path / "a", "a")
    assert probe(path)["codec"] == "h264"
    # resume: a half file already on disk, server honours Range
    full = path.read_bytes()
    dest_dir = tmp_path / "b"
    dest_dir.mkdir()
    (dest_dir / ".b.mp4.part").write_bytes(full[: len(full) // 2])
    p2, _ = await r.download(done, job.id, dest_dir, "b")
    assert hashlib.sha256(p2.read_bytes()).digest() == hashlib.sha256(full).digest()
    # server ignores Range: restart from zero, same bytes
    dest3 = tmp_path / "c"
    dest3.mkdir()
    (dest3 / ".c.mp4.part").write_bytes(b"garbage" * 100)
    fault("ignore_range")
    p3, _ = await r.download(done, job.id, dest3, "c")
    assert p3.read_bytes() == full
    # connection cut mid-download: resumed, bytes match
    fault("cut_download", fraction=0.5)
    p4, _ = await r.download(done, job.id, tmp_path / "d", "d")
    assert p4.read_bytes() == full


async def test_render_failure_and_deadline(client, store, tmp_path, fault):
    from skill.api import RenderFailedError, RenderTimeoutError

    sid, draft = await _ready_session(client, tmp_path)
    r = Renderer(client, store, "k", deadline=60)
    fault("fail_render")
    job = await r.submit(sid, draft, tmp_path)
    with pytest.raises(RenderFailedError):
        await r.wait(job.id)
    fault("render_never_finishes")
    r = Renderer(client, store, "k", deadline=0.5)
    job2 = await r.submit(sid, draft, tmp_path)
    with pytest.raises(RenderTimeoutError) as info:
        await r.wait(job2.id)
    assert info.value.detail["render_id"] == job2.id
    assert job2.id in [p.id for p in r.pending()]  # kept for --resume
