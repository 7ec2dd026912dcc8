"""``nemo-skill install``: skill folders for Claude Code, Cursor and OpenClaw."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skill.cli import main
from skill.install import MARKER
from skill.manifest import bundled_manifest_path, bundled_variants, load_manifest, parse_manifest

TYPES = {"message", "progress", "file", "link", "error", "done"}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    monkeypatch.setenv("USERPROFILE", str(h))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(h / ".config"))
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.chdir(tmp_path)
    return h


def _json_lines(out: str) -> list[dict]:
    lines = [json.loads(line) for line in out.splitlines()]
    assert all(o["type"] in TYPES for o in lines)
    return lines


@pytest.mark.parametrize("host,folder", [("claude", ".claude"), ("cursor", ".cursor"), ("openclaw", ".openclaw")])
def test_install_each_host(home: Path, host: str, folder: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["install", "--host", host]) == 0
    dest = home / folder / "skills" / "nemo-skill"
    text = (dest / "SKILL.md").read_text(encoding="utf-8")
    m = parse_manifest(text)
    src = load_manifest(bundled_manifest_path())
    assert (m.name, m.version) == (src.name, src.version)
    assert m.openclaw.requires.bins == ["nemo-skill"]
    # the command names the installed SKILL.md, so the platform follows the install path
    assert f'nemo-skill --skill {dest / "SKILL.md"} say "<the user\'s words>" --json' in text
    from skill.config import detect_platform

    assert detect_platform(dest / "SKILL.md") == {"claude": "claude", "cursor": "cursor",
                                                  "openclaw": "clawhub"}[host]
    assert "--file PATH" in text
    marker = json.loads((dest / MARKER).read_text(encoding="utf-8"))
    assert marker["installed_by"] == "nemo-skill" and marker["variant"] is None
    out = capsys.readouterr().out
    assert str(dest) in out
    assert sorted(p.name for p in dest.iterdir()) == sorted(["SKILL.md", MARKER])
    assert (dest / "SKILL.md").stat().st_mode & 0o777 == 0o644  # readable by the host, not 0600


def test_install_variant_json(home: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["install", "--host", "openclaw", "--variant", "generator-meta-ai", "--json"]) == 0
    lines = _json_lines(capsys.readouterr().out)
    assert lines[-1] == {"type": "done", "intent": "install", "ok": True}
    dest = home / ".openclaw" / "skills" / "generator-meta-ai"
    text = (dest / "SKILL.md").read_text(encoding="utf-8")
    m = parse_manifest(text)
    src = load_manifest(bundled_variants()["generator-meta-ai"])
    assert (m.name, m.version, m.description) == (src.name, src.version, src.description)
    assert f'nemo-skill --skill {dest / "SKILL.md"} say "<the user\'s words>" --json' in text
    assert f"nemo-skill --skill {dest / 'SKILL.md'} export --resume --json" in text
    assert "## Common Workflows" in text  # the rest of the body is kept
    assert text.count("## How to use it") == 1
    assert json.loads((dest / MARKER).read_text())["variant"] == "generator-meta-ai"


def test_install_is_idempotent(home: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["install", "--host", "claude", "--json"]) == 0
    dest = home / ".claude" / "skills" / "nemo-skill"
    first = (dest / "SKILL.md").read_bytes()
    capsys.readouterr()
    assert main(["install", "--host", "claude", "--json"]) == 0
    lines = _json_lines(capsys.readouterr().out)
    assert "already up to date" in lines[0]["text"]
    assert (dest / "SKILL.md").read_bytes() == first
    # a stale copy of our own folder is rewritten
    (dest / "SKILL.md").write_text("---\nname: nemo-skill\nversion: 0.0.1\n---\nold\n", encoding="utf-8")
    assert main(["install", "--host", "claude"]) == 0
    assert "Updated" in capsys.readouterr().out
    assert (dest / "SKILL.md").read_bytes() == first


def test_foreign_folder_is_refused(home: Path, capsys: pytest.CaptureFixture) -> None:
    dest = home / ".cursor" / "skills" / "nemo-skill"
    dest.mkdir(parents=True)
    (dest / "SKILL.md").write_text("mine\n", encoding="utf-8")
    assert main(["install", "--host", "cursor"]) == 2
    err = capsys.readouterr().err
    assert str(dest) in err and "--dest" in err
    assert (dest / "SKILL.md").read_text(encoding="utf-8") == "mine\n"
    assert not (dest / MARKER).exists()
    assert main(["install", "--host", "cursor", "--json"]) == 2
    lines = _json_lines(capsys.readouterr().out)
    assert lines[0]["type"] == "error" and lines[-1] == {"type": "done", "intent": "install", "ok": False}
    # --force (hidden) takes it over
    assert main(["install", "--host", "cursor", "--force"]) == 0
    assert parse_manifest((dest / "SKILL.md").read_text(encoding="utf-8")).name == "nemo-skill"
    assert (dest / MARKER).exists()


def test_install_dest(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    dest = tmp_path / "somewhere" / "my-skill"
    assert main(["install", "--host", "claude", "--variant", "video-meta-ai", "--dest", str(dest)]) == 0
    assert parse_manifest((dest / "SKILL.md").read_text(encoding="utf-8")).name == "video-meta-ai"
    assert not (home / ".claude").exists()
    # a file where the folder should be
    f = tmp_path / "a-file"
    f.write_text("x")
    assert main(["install", "--host", "claude", "--dest", str(f)]) == 2
    assert f.read_text() == "x"


def test_unknown_variant(home: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["install", "--host", "claude", "--variant", "no-such-thing"]) == 2
    err = capsys.readouterr().err
    assert "no-such-thing" in err and "generator-meta-ai" in err
    assert not (home / ".claude").exists()


def test_install_chinese_messages(home: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["--lang", "zh", "install", "--host", "openclaw"]) == 0
    assert "已为 OpenClaw 安装" in capsys.readouterr().out
