"""State store: permissions, atomic locked writes, corruption recovery, parallel processes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from skill.config import detect_platform, load_client_id
from skill.state import PendingRender, StateStore


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_files_0600_folder_0700_even_with_loose_umask(tmp_path):
    old = os.umask(0o002)
    try:
        d = tmp_path / "nemovideo"
        store = StateStore(d)
        store.update("k", lambda p: setattr(p, "token", "secret-token"))
        assert mode(d) == 0o700
        assert mode(store.path) == 0o600
        os.chmod(store.path, 0o644)
        store.update("k", lambda p: setattr(p, "session_id", "1"))
        assert mode(store.path) == 0o600
        cid = load_client_id(d)
        assert mode(d / "client_id") == 0o600 and len(cid) == 36
        assert load_client_id(d) == cid  # reused forever
    finally:
        os.umask(old)


def test_profiles_are_keyed_by_api_and_skill(tmp_path):
    store = StateStore(tmp_path)
    a, b = StateStore.key("http://a", "s1"), StateStore.key("http://b", "s1")
    store.update(a, lambda p: setattr(p, "token", "ta"))
    assert store.load(b).token is None and store.load(a).token == "ta"


def test_corrupt_state_falls_back_to_the_previous_good_version(tmp_path):
    store = StateStore(tmp_path)
    store.update("k", lambda p: setattr(p, "token", "kept"))
    store.update("k", lambda p: setattr(p, "session_id", "s1"))
    store.path.write_text('{"profiles": {"k": {"token": "t"}')  # damaged from outside
    prof = StateStore(tmp_path).load("k")
    assert prof.token == "kept"  # from .bak, one write behind
    assert mode(tmp_path / "skill-state.json.bak") == 0o600


def test_corrupt_state_is_moved_aside_and_store_starts_clean(tmp_path):
    store = StateStore(tmp_path)
    store.path.parent.mkdir(parents=True, exist_ok=True)
    store.path.write_text('{"profiles": {"k": {"token": "t"}')  # truncated JSON
    prof = store.load("k")
    assert prof.token is None
    assert store.recovered_backup is not None and store.recovered_backup.exists()
    store.update("k", lambda p: setattr(p, "token", "new"))
    assert json.loads(store.path.read_text())["profiles"]["k"]["token"] == "new"


@pytest.mark.parametrize("junk", [b"\xff\xfe\x00", b"[]", b'{"profiles": []}', b"null"])
def test_any_junk_state_never_crashes(tmp_path, junk):
    store = StateStore(tmp_path)
    store.path.write_bytes(junk)
    assert store.load("k").token is None


def test_profile_tolerates_wrong_types(tmp_path):
    store = StateStore(tmp_path)
    store.path.write_text(json.dumps({"version": 1, "profiles": {"k": {
        "token": 5, "token_expires_at": "soon", "pending_renders": [{"nope": 1}, {"id": "r1"}, 3]}}}))
    prof = store.load("k")
    assert prof.token is None and [r.id for r in prof.pending_renders] == ["r1"]


def test_twenty_processes_update_concurrently_without_losing_writes(tmp_path):
    code = textwrap.dedent(f"""
        import sys, random, time
        sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
        from skill.state import StateStore, PendingRender
        store = StateStore({str(tmp_path)!r})
        me = sys.argv[1]
        for i in range(15):
            def fn(p):
                p.pending_renders.append(PendingRender(f"{{me}}-{{i}}", "s", time.time()))
            store.update("k", fn)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(n)], stdin=subprocess.DEVNULL) for n in range(20)]
    assert all(p.wait(60) == 0 for p in procs)
    ids = {r.id for r in StateStore(tmp_path).load("k").pending_renders}
    assert len(ids) == 20 * 15
    assert mode(StateStore(tmp_path).path) == 0o600
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_platform_detection(monkeypatch, tmp_path):
    for var in ("SKILL_PLATFORM", "SKILL_SOURCE"):
        monkeypatch.delenv(var, raising=False)
    assert detect_platform("/home/u/.openclaw/skills/x/SKILL.md") == "clawhub"
    assert detect_platform("/home/u/.clawhub/x/SKILL.md") == "clawhub"
    assert detect_platform("/home/u/.cursor/skills/x/SKILL.md") == "cursor"
    assert detect_platform("/home/u/.claude/skills/x/SKILL.md") == "claude"
    assert detect_platform("/opt/skills/x/SKILL.md") == "unknown"
    monkeypatch.setenv("SKILL_SOURCE", "cursor")
    assert detect_platform("/home/u/.claude/skills/x/SKILL.md") == "cursor"
    monkeypatch.setenv("SKILL_PLATFORM", "claude")
    assert detect_platform(None) == "claude"


def test_pending_render_roundtrip(tmp_path):
    store = StateStore(tmp_path)
    store.update("k", lambda p: p.pending_renders.append(PendingRender("render_1", "s", 1.0, "/o", True)))
    r = store.load("k").pending_renders[0]
    assert (r.id, r.session_id, r.out_dir, r.submitted) == ("render_1", "s", "/o", True)


async def test_runtime_warns_once_after_moving_a_corrupt_state_file(tmp_path, sandbox_url, monkeypatch):
    from skill import SkillRuntime
    from skill.manifest import resolve_manifest
    from skill.replies import Message

    monkeypatch.delenv("NEMO_TOKEN", raising=False)
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "skill-state.json").write_text("{broken")
    async with SkillRuntime(resolve_manifest(None), api_url=sandbox_url, state_dir=tmp_path / "s") as rt:
        first = [r async for r in rt.credits()]
        second = [r async for r in rt.credits()]
    warn = "The saved settings file was unreadable"
    assert sum(warn in r.text for r in first if isinstance(r, Message)) == 1
    assert not any(warn in r.text for r in second if isinstance(r, Message))
    assert first[-1].ok and second[-1].ok
    assert list((tmp_path / "s").glob("skill-state.json.corrupt-*"))
