"""The chat handler's stream rules, end to end against the sandbox."""

from __future__ import annotations

import pytest

from skill import SkillRuntime
from skill.handlers._context import Limits
from skill.manifest import resolve_manifest
from skill.replies import Done, ErrorReply, Message, ProgressReply
from tests.helpers import count, make_clip


def runtime(sandbox_url, tmp_path, **kw) -> SkillRuntime:
    limits = kw.pop("limits", Limits(still_working_every=0.05, recovery_delays=(0.1, 0.1, 0.1)))
    return SkillRuntime(resolve_manifest("generator-meta-ai"), api_url=sandbox_url, state_dir=tmp_path / "s",
                        out_dir=tmp_path / "o", limits=limits, **kw)


async def collect(gen) -> list:
    return [r async for r in gen]


@pytest.fixture(autouse=True)
def _no_env_token(monkeypatch):
    monkeypatch.delenv("NEMO_TOKEN", raising=False)


async def test_partial_text_is_never_shown_twice(sandbox_url, tmp_path):
    clip = make_clip(tmp_path / "c.mp4", 2.0)
    async with runtime(sandbox_url, tmp_path, streaming=True) as rt:
        out = await collect(rt.handle("generate a title, description and tags for my video", files=[clip]))
    msgs = [r.text for r in out if isinstance(r, Message)]
    body = [m for m in msgs if "Title" in m]
    assert len(body) == 1, msgs  # the aggregated text once, not partials + aggregate
    assert not any(m in body[0] and m != body[0] for m in msgs), msgs


async def test_generation_shows_tool_labels_and_still_working(sandbox_url, tmp_path):
    async with runtime(sandbox_url, tmp_path) as rt:
        out = await collect(rt.handle("generate a 10-second video of a city at night"))
    progress = [r.text for r in out if isinstance(r, ProgressReply) and r.stage == "agent"]
    assert any("Generating video" in p for p in progress), progress
    assert any("Still working" in p for p in progress), progress
    assert out[-1].ok
    assert not any("thought" in (getattr(r, "text", "") or "").lower() for r in out)


async def test_silent_reply_gets_a_specific_change_summary(sandbox_url, tmp_path, fault):
    clip = make_clip(tmp_path / "c.mp4", 2.0)
    async with runtime(sandbox_url, tmp_path) as rt:
        await collect(rt.handle("generate a title for my video", files=[clip]))
        fault("silent_reply")
        out = await collect(rt.handle("add a title 'Silent Night'"))
    msgs = [r.text for r in out if isinstance(r, Message)]
    assert any("Silent Night" in m for m in msgs), msgs


async def test_stream_error_before_text_is_an_error_reply(sandbox_url, tmp_path, fault):
    async with runtime(sandbox_url, tmp_path) as rt:
        await collect(rt.state())
        fault("stream_error", after=0)
        out = await collect(rt.handle("hello"))
    assert isinstance(out[-1], Done) and not out[-1].ok
    assert [r.code for r in out if isinstance(r, ErrorReply)] == ["server"]


async def test_broken_stream_is_not_resent_and_recovers_from_state(sandbox_url, tmp_path, fault):
    clip = make_clip(tmp_path / "c.mp4", 2.0)
    async with runtime(sandbox_url, tmp_path) as rt:
        await collect(rt.handle("generate a title for my video", files=[clip]))
        before = count(sandbox_url, "POST /run_sse")
        fault("cut_stream", after=1)
        out = await collect(rt.handle("add lo-fi background music"))
    assert count(sandbox_url, "POST /run_sse") == before + 1  # never re-sent
    msgs = [r.text for r in out if isinstance(r, Message)]
    assert any("won't send your message again" in m for m in msgs), msgs
    assert any("Lo-fi" in m for m in msgs), msgs  # the result found in the state
    assert out[-1].ok


async def test_idle_limit_ends_a_silent_stream(sandbox_url, tmp_path, fault):
    limits = Limits(still_working_every=10, stream_idle_limit=0.5, recovery_delays=(0.05,))
    async with runtime(sandbox_url, tmp_path, limits=limits) as rt:
        await collect(rt.state())
        fault("stall_stream", seconds=3, silent=True)
        out = await collect(rt.handle("hello there"))
    errs = [r for r in out if isinstance(r, ErrorReply)]
    assert errs and errs[0].code == "timeout" and out[-1].exit_code == 3


async def test_1002_on_chat_restarts_the_project_and_says_so(sandbox_url, tmp_path, fault):
    async with runtime(sandbox_url, tmp_path) as rt:
        await collect(rt.state())
        fault("drop_session")
        out = await collect(rt.handle("hello"))
    msgs = [r.text for r in out if isinstance(r, Message)]
    assert any("started a new project" in m for m in msgs), msgs
    assert out[-1].ok


async def test_many_conversations_through_one_runtime(sandbox_url, tmp_path):
    import asyncio

    clip = make_clip(tmp_path / "c.mp4", 2.0)
    async with runtime(sandbox_url, tmp_path) as rt:
        async def one(i: int) -> list:
            await collect(rt.handle("generate a title for my video", files=[clip], conversation=f"c{i}"))
            return await collect(rt.handle(f"add a title 'Chat {i}'", conversation=f"c{i}"))

        results = await asyncio.gather(*(one(i) for i in range(8)))
        states = [await collect(rt.state(conversation=f"c{i}")) for i in range(8)]
    bad = [[x.to_dict() for x in r if x.type != "progress"] for r in results if not r[-1].ok]
    assert not bad, bad
    for i, st in enumerate(states):  # each conversation has its own project
        text = " ".join(r.text for r in st if isinstance(r, Message))
        assert f"Chat {i}" in text and all(f"Chat {j}'" not in text for j in range(8) if j != i)
    import json

    doc = json.loads((tmp_path / "s" / "skill-state.json").read_text())
    profiles = doc["profiles"]
    assert len({p["session_id"] for k, p in profiles.items() if "#" in k}) == 8
    assert sum(1 for p in profiles.values() if p.get("token")) == 1  # one token, shared
    assert count(sandbox_url, "POST /api/auth/anonymous-token") == 1
