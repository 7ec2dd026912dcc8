"""``nemo-skill demo``: the whole workflow offline, as a person (and a machine) sees it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import probe

ROOT = Path(__file__).resolve().parent.parent
TYPES = {"message", "progress", "file", "link", "error", "done"}


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), PYTHONPATH=str(ROOT),
               # must be ignored: the demo never uses the user's token or backend
               NEMO_TOKEN="nmv_usr_from_the_environment", NEMO_API_URL="http://127.0.0.1:9",
               LANG="C.UTF-8", PYTHONIOENCODING="utf-8")
    env.pop("NEMO_DEBUG", None)
    env.pop("NO_COLOR", None)
    return env


def _run(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "skill", "demo", *extra], cwd=str(tmp_path),
                          env=_env(tmp_path), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, encoding="utf-8", timeout=60)


def test_demo_transcript_and_mp4(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = _run(tmp_path, "--out", str(out))
    assert r.returncode == 0, r.stderr
    mp4s = list(out.glob("*.mp4"))
    assert len(mp4s) == 1
    assert probe(mp4s[0])["codec"] == "h264"
    # a chat transcript for a person
    assert "you: generate title, description, and tags for my video" in r.stdout
    assert "nemo: " in r.stdout
    assert "Added background music" in r.stdout  # the silent edit, summarised
    assert str(mp4s[0]) in r.stdout.splitlines()[-1]  # ends with where the MP4 is
    for stream in (r.stdout, r.stderr):
        assert "nmv_usr_" not in stream
        assert "Traceback" not in stream
        assert "\x1b[" not in stream  # not a terminal: no colour codes
    # isolated state: nothing written to the user's config, no production contacted
    assert not (tmp_path / "home" / ".config" / "nemovideo").exists()


def test_demo_json_lines(tmp_path: Path) -> None:
    r = _run(tmp_path, "--json", "--out", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert lines and all(obj["type"] in TYPES for obj in lines)
    done = [o for o in lines if o["type"] == "done"]
    assert [d["intent"] for d in done] == ["upload", "chat", "chat", "state", "export", "credits"]
    assert all(d["ok"] for d in done)
    files = [o for o in lines if o["type"] == "file"]
    assert len(files) == 1 and Path(files[0]["path"]).is_file() and files[0]["kind"] == "video"
    assert "nmv_usr_" not in r.stdout + r.stderr


def test_demo_chinese(tmp_path: Path) -> None:
    r = _run(tmp_path, "--lang", "zh", "--out", str(tmp_path / "o"), "-q")
    assert r.returncode == 0, r.stderr
    for said in ("为我的视频生成标题、简介和标签", "加点轻松的lo-fi背景音乐", "状态", "导出1080p MP4", "积分"):
        assert f"你: {said}" in r.stdout
    assert "背景音乐" in r.stdout
    assert "上传中" not in r.stdout  # -q: no progress lines
