"""``nemo-skill mcp``: the official MCP client over stdio against the sandbox."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import make_clip, probe

mcp = pytest.importorskip("mcp")

from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TYPES = {"message", "progress", "file", "link", "error", "done"}


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEMO_")}
    env.update(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "config"), PYTHONPATH=str(ROOT),
               # a Windows-style code page: the protocol must stay UTF-8 anyway (item 26)
               PYTHONIOENCODING="cp1252")
    return env


def _payload(result: Any) -> dict:
    assert not result.isError, result.content
    data = result.structuredContent
    if data is None:  # older SDKs: the JSON text block
        data = json.loads(result.content[0].text)
    assert all(r["type"] in TYPES for r in data["replies"])
    return data


async def _session_run(tmp_path: Path, url: str, body: Any) -> Any:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "skill", "mcp", "--api-url", url, "--out", str(tmp_path / "out")],
        env=_env(tmp_path), cwd=str(tmp_path),
    )
    errlog = open(tmp_path / "server-stderr.txt", "w", encoding="utf-8")
    try:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write, read_timeout_seconds=timedelta(seconds=60)) as session:
                await session.initialize()
                return await body(session)
    finally:
        errlog.close()


def test_mcp_workflow(tmp_path: Path, sandbox_url: str) -> None:
    clip = make_clip(tmp_path / "clip é✓.mp4", seconds=2.0)
    progress: list[tuple[float, Any, Any]] = []

    async def on_progress(p: float, total: Any, message: Any) -> None:
        progress.append((p, total, message))

    async def body(session: ClientSession) -> dict:
        tools = {t.name for t in (await session.list_tools()).tools}
        assert {"say", "upload", "state", "credits", "export", "export_status"} <= tools

        up = _payload(await session.call_tool("upload", {"items": [str(clip)]}, progress_callback=on_progress))
        assert up["ok"] and any(r["type"] == "message" and "clip" in r["text"] for r in up["replies"])

        said = _payload(await session.call_tool(
            "say", {"text": "generate title, description, and tags for my video"}))
        assert said["ok"] and "Title" in said["summary"]

        # non-ASCII arguments over a cp1252 environment
        edit = _payload(await session.call_tool("say", {"text": "add lo-fi background music 🎬 — ✓"}))
        assert edit["ok"]

        t0 = time.monotonic()
        started = _payload(await session.call_tool("export", {"wait": False}))
        assert time.monotonic() - t0 < 10
        assert started["ok"] and started["status"] == "started" and started["render_id"]

        status: dict = {}
        for _ in range(20):  # bounded: each call waits at most ~40 s, the sandbox is fast
            status = _payload(await session.call_tool("export_status", {}))
            if status["status"] != "running":
                break
        assert status["status"] == "done", status
        credits = _payload(await session.call_tool("credits", {}))
        assert credits["ok"]
        again = _payload(await session.call_tool("export_status", {}))
        assert again["status"] == "none" and again["ok"]
        return status

    status = asyncio.run(_session_run(tmp_path, sandbox_url, body))
    mp4 = Path(status["path"])
    assert mp4.is_file() and mp4.parent == tmp_path / "out"
    assert probe(mp4)["codec"] == "h264"
    files = [r for r in status["replies"] if r["type"] == "file"]
    assert files and files[0]["kind"] == "video"
    assert progress, "upload progress notifications were expected"
    assert [p for p, _, _ in progress] == sorted(p for p, _, _ in progress)
    err = (tmp_path / "server-stderr.txt").read_text(encoding="utf-8")
    assert "Traceback" not in err and "nmv_usr_" not in err


def test_stray_output_goes_to_stderr(tmp_path: Path) -> None:
    """fd 1 is the protocol's alone: prints and child processes land on stderr."""
    code = (
        "import os, subprocess, sys\n"
        "from skill.mcp_server import _protect_stdio\n"
        "pin, pout = _protect_stdio()\n"
        "print('stray print ✓')\n"
        "subprocess.run([sys.executable, '-c', 'print(\"child noise\")'])\n"
        "os.write(1, b'raw fd write\\n')\n"
        "assert sys.stdin.read() == ''\n"
        "pout.write(pin.readline().upper()); pout.flush()\n"
    )
    r = subprocess.run([sys.executable, "-c", code], input=b'{"x": "\xc3\xa9"}\n', capture_output=True,
                       env=_env(tmp_path), cwd=str(ROOT), timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == '{"X": "É"}\n'.encode("utf-8")
    err = r.stderr.decode("utf-8", "replace")
    assert "stray print" in err and "child noise" in err and "raw fd write" in err


def test_missing_sdk_message(tmp_path: Path) -> None:
    """Without the SDK: one paragraph naming the extra, exit 2, nothing on stdout."""
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "mcp").mkdir()
    (blocker / "mcp" / "__init__.py").write_text("raise ImportError('no mcp here')\n")
    env = _env(tmp_path)
    env["PYTHONPATH"] = os.pathsep.join([str(blocker), str(ROOT)])
    r = subprocess.run([sys.executable, "-m", "skill", "mcp"], capture_output=True, env=env,
                       stdin=subprocess.DEVNULL, timeout=30)
    assert r.returncode == 2
    assert r.stdout == b""
    assert b"pip install 'nemo-skill[mcp]'" in r.stderr


async def test_export_status_returns_while_render_runs(tmp_path: Path, sandbox_url: str, fault: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 27: no tool blocks for the whole render; a progress token of 0 is honoured."""
    import mcp.types as mt
    from mcp.shared.memory import create_connected_server_and_client_session

    from skill.handlers._context import Limits
    from skill.manifest import resolve_manifest
    from skill.mcp_server import build_server
    from skill.runtime import SkillRuntime

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for k in ("NEMO_TOKEN", "NEMO_API_URL", "NEMO_CLIENT_ID"):
        monkeypatch.delenv(k, raising=False)
    clip = make_clip(tmp_path / "clip.mp4", seconds=2.0)
    seen: list[Any] = []

    async def handler(msg: Any) -> None:
        if isinstance(msg, mt.ServerNotification) and isinstance(msg.root, mt.ProgressNotification):
            seen.append(msg.root.params)

    async with SkillRuntime(resolve_manifest(None), api_url=sandbox_url, out_dir=tmp_path / "out",
                            limits=Limits(render_deadline=1.0)) as rt:
        server = build_server(rt, "en")
        async with create_connected_server_and_client_session(server, message_handler=handler) as session:
            _payload(await session.call_tool("upload", {"items": [str(clip)]}, meta={"progressToken": 0}))
            assert seen and all(p.progressToken == 0 for p in seen)
            _payload(await session.call_tool("say", {"text": "generate title, description, and tags for my video"}))
            fault("slow_render", seconds=3.5)
            started = _payload(await session.call_tool("export", {}))
            assert started["status"] == "started"
            statuses = []
            end = time.monotonic() + 20
            while time.monotonic() < end:
                t0 = time.monotonic()
                st = _payload(await session.call_tool("export_status", {}))
                assert time.monotonic() - t0 < 5
                statuses.append(st["status"])
                if st["status"] != "running":
                    break
                assert "export_status" in st["summary"]
            assert statuses[0] == "running" and statuses[-1] == "done", statuses
    assert Path(st["path"]).is_file()
