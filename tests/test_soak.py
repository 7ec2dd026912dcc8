"""Soak: many messages through one ``SkillRuntime`` (credits, state, chat with silent
edits) without growth in open file descriptors, asyncio tasks or memory. Counts after a
warm-up are compared, never times. The sandbox runs in its own process so only the
runtime's memory is measured. ``NEMO_SOAK_MESSAGES`` sets the count (default 1000)."""

from __future__ import annotations

import asyncio
import gc
import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from skill.manifest import resolve_manifest
from skill.replies import Done
from skill.runtime import Limits, SkillRuntime
from skill.sandbox.testing import check_state_dir, open_fds, stats
from tests.test_faults import FAST, FastSleep

N = int(os.environ.get("NEMO_SOAK_MESSAGES", "1000"))
WARMUP = 60


@pytest.fixture(scope="module")
def sandbox_proc() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "skill", "sandbox", "--port", "0", "--time-scale", "0.01"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"listening on (http://\S+)", line)
        assert m, line
        yield m.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


MESSAGES = ["how many credits do I have", "show me the timeline", "add lo-fi music", "make it brighter",
            "credits", "what's in my timeline?", "add a fade in", "speed it up"]


async def test_soak_no_growth(sandbox_proc, tmp_path, monkeypatch):
    monkeypatch.delenv("NEMO_TOKEN", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    url = sandbox_proc
    sd = tmp_path / "cfg" / "nemovideo"
    rt = SkillRuntime(resolve_manifest(None), api_url=url, state_dir=sd, out_dir=tmp_path / "out",
                      limits=Limits(**FAST), sleep=FastSleep())
    httpx.post(url + "/_sandbox/faults", json={"fault": "silent_reply", "count": -1, "path": "/run_sse"})
    failures: list[str] = []
    intents: dict[str, int] = {}

    async def one(i: int) -> None:
        msg = MESSAGES[i % len(MESSAGES)]
        async for r in rt.handle(msg):
            if isinstance(r, Done):
                intents[r.intent] = intents.get(r.intent, 0) + 1
                if not r.ok:
                    failures.append(f"{i}: {msg}")

    try:
        async for _ in rt.credits():  # mint the token, then make credits plentiful
            pass
        httpx.post(url + "/_sandbox/credits", json={"available": 10**9}).raise_for_status()
        for i in range(WARMUP):
            await one(i)
        gc.collect()
        fds0, tasks0 = open_fds(), len(asyncio.all_tasks())
        tracemalloc.start()
        mem0, _ = tracemalloc.get_traced_memory()
        for i in range(WARMUP, N):
            await one(i)
        gc.collect()
        mem1, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        fds1, tasks1 = open_fds(), len(asyncio.all_tasks())
    finally:
        await rt.aclose()
    assert not failures, failures[:5]
    assert set(intents) >= {"credits", "state", "chat"}, intents
    assert sum(intents.values()) == N
    assert fds1 <= fds0 + 3, (fds0, fds1)
    assert tasks1 <= tasks0, (tasks0, tasks1)
    assert mem1 - mem0 < 4 * 1024 * 1024, f"{(mem1 - mem0) / 1e6:.1f} MB retained over {N - WARMUP} messages"
    check_state_dir(sd)
    assert stats(url)["token_mints"] == 1
