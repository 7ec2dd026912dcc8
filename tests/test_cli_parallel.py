"""Many CLI processes at once on one state folder, as an agent host firing tool calls in
parallel: all succeed, the state file stays valid JSON (0600 in 0700), and one anonymous
token is minted for all of them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from skill.sandbox.testing import check_state_dir, cli_env, finish, start_cli, stats

N = int(os.environ.get("NEMO_PARALLEL", "20"))


def _run_all(url: str, home: Path, argvs: list[list[str]]) -> list:
    env = cli_env(home)
    procs = [start_cli(url, a, home, env=env) for a in argvs]
    return [finish(p, 120) for p in procs]


def test_parallel_cli_first_contact_mints_one_token(sandbox_url, tmp_path):
    home = tmp_path / "home"
    results = _run_all(sandbox_url, home, [["credits"]] * N)
    bad = [r for r in results if r.returncode != 0]
    assert not bad, bad[:2]
    assert all(r.lines and r.lines[-1] == {"type": "done", "intent": "credits", "ok": True} for r in results)
    s = stats(sandbox_url)
    assert s["token_mints"] == 1, s
    sd = home / "cfg" / "nemovideo"
    doc = check_state_dir(sd)
    profs = list(doc["profiles"].values())
    assert len(profs) == 1 and profs[0]["token"].startswith("nmv_usr_")
    assert len({(sd / "client_id").read_text().strip()}) == 1


def test_parallel_cli_mixed_commands_after_expiry(sandbox_url, tmp_path, fault):
    home = tmp_path / "home"
    assert _run_all(sandbox_url, home, [["state"]])[0].returncode == 0
    fault("expire_token")  # every process finds its stored token rejected at once
    argvs = [["credits"], ["state"], ["chat", "hello"], ["status"]] * (N // 4)
    results = _run_all(sandbox_url, home, argvs)
    bad = [r for r in results if r.returncode != 0]
    assert not bad, bad[:2]
    assert stats(sandbox_url)["token_mints"] == 2  # the first one, and one renewal for all
    doc = check_state_dir(home / "cfg" / "nemovideo")
    assert len(doc["profiles"]) == 1


def test_parallel_cli_first_contact_creates_one_project(sandbox_url, tmp_path):
    home = tmp_path / "home"
    results = _run_all(sandbox_url, home, [["state"]] * N)
    assert all(r.returncode == 0 for r in results), [r for r in results if r.returncode][:2]
    check_state_dir(home / "cfg" / "nemovideo")
    s = stats(sandbox_url)
    assert s["requests"]["POST /api/tasks/me/with-session/nemo_agent"] == 1, s["requests"]
