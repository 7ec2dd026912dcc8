"""The real CLI in a subprocess against the sandbox: every command, JSON lines that match
INTERFACE.md, and the exit status of each error class."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers import make_clip, probe, stats

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {
    "message": {"type", "text"}, "progress": {"type", "stage", "percent", "text"},
    "file": {"type", "path", "bytes", "kind"}, "link": {"type", "url", "text"},
    "error": {"type", "code", "text", "hint"}, "done": {"type", "intent", "ok"},
}
CODES = {"1001", "1002", "2001", "4001", "4002", "402", "429", "network", "timeout", "bad_input", "server"}


@pytest.fixture
def env(tmp_path: Path) -> dict:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("NEMO_", "SKILL_"))}
    e.update(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "cfg"), PYTHONIOENCODING="utf-8")
    return e


def run(args: list[str], env: dict, url: str | None = None, timeout: float = 120, stdin: str | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "skill"]
    if url:
        cmd += ["--api-url", url]
    return subprocess.run(cmd + args, env=env, capture_output=True, text=True, timeout=timeout,
                          input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                          cwd=str(cwd or ROOT))


def lines(cp: subprocess.CompletedProcess) -> list[dict]:
    out = []
    for ln in cp.stdout.splitlines():
        d = json.loads(ln)  # every stdout line is JSON
        assert set(d) == ALLOWED[d["type"]], d
        if d["type"] == "error":
            assert d["code"] in CODES, d
        if d["type"] == "done":
            assert d["intent"] in {"export", "credits", "state", "upload", "chat"}
        out.append(d)
    assert "Traceback" not in cp.stderr and "nmv_usr_" not in cp.stdout + cp.stderr
    return out


def test_version_and_help(env):
    cp = run(["--version"], env)
    assert cp.returncode == 0 and re.match(r"nemo-skill \d+\.\d+\.\d+", cp.stdout)
    cp = run([], env)
    assert cp.returncode == 2
    cp = run(["no-such-command"], env)
    assert cp.returncode == 2 and "Traceback" not in cp.stderr


def test_route_text_and_stdin(env):
    cp = run(["--json", "route", "导出 1080p MP4"], env)
    assert cp.returncode == 0 and json.loads(cp.stdout) == {"intent": "export", "text": "导出 1080p MP4"}
    cp = run(["route", "--json", "-"], env, stdin="export\nhow many credits do I have?\n\nshow me the tracks\n")
    got = [json.loads(x) for x in cp.stdout.splitlines()]
    assert [g["intent"] for g in got] == ["export", "credits", "state"]
    cp = run(["route", "add BGM"], env)
    assert cp.stdout.strip() == "chat"


def test_full_flow_json(sandbox_url, env, tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", 2.0)
    out = tmp_path / "out"
    r = lines(run(["--json", "say", "generate a title, description and tags for my video", "--file", str(clip)],
                  env, sandbox_url))
    assert r[-1] == {"type": "done", "intent": "chat", "ok": True}
    assert r[0]["type"] == "message"  # first contact: a short setting-up line
    r = lines(run(["--json", "upload", str(clip)], env, sandbox_url))
    assert r[-1]["intent"] == "upload" and r[-1]["ok"]
    r = lines(run(["--json", "chat", "add lo-fi background music"], env, sandbox_url))
    assert r[-1]["ok"] and any(x["type"] == "message" for x in r)
    for cmd in (["state"], ["status"], ["credits"]):
        cp = run(["--json", *cmd], env, sandbox_url)
        assert cp.returncode == 0, cp.stderr
        r = lines(cp)
        assert r[-1]["ok"]
    cp = run(["--json", "export", "--out", str(out)], env, sandbox_url)
    assert cp.returncode == 0, cp.stderr
    r = lines(cp)
    files = [x for x in r if x["type"] == "file"]
    assert len(files) == 1 and Path(files[0]["path"]).parent == out.resolve()
    assert files[0]["kind"] == "video" and files[0]["bytes"] == Path(files[0]["path"]).stat().st_size
    assert probe(Path(files[0]["path"]))["codec"] == "h264"
    assert any(x["type"] == "link" for x in r)


def test_plain_output_is_for_people(sandbox_url, env, tmp_path):
    cp = run(["credits"], env, sandbox_url)
    assert cp.returncode == 0 and "credits" in cp.stdout and "{" not in cp.stdout
    cp = run(["--lang", "zh", "credits"], env, sandbox_url)
    assert "积分" in cp.stdout


def test_no_wait_then_resume(sandbox_url, env, tmp_path):
    clip = make_clip(tmp_path / "c.mp4", 2.0)
    run(["--json", "say", "generate a title for my video", "--file", str(clip)], env, sandbox_url)
    cp = run(["--json", "export", "--no-wait", "--out", str(tmp_path / "o")], env, sandbox_url)
    assert cp.returncode == 0
    r = lines(cp)
    assert not [x for x in r if x["type"] == "file"]
    state = json.loads((tmp_path / "cfg" / "nemovideo" / "skill-state.json").read_text())
    pending = [p for prof in state["profiles"].values() for p in prof["pending_renders"]]
    assert len(pending) == 1
    cp = run(["--json", "export", "--resume"], env, sandbox_url)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    files = [x for x in lines(cp) if x["type"] == "file"]
    assert files and Path(files[0]["path"]).parent == (tmp_path / "o").resolve()


def test_interrupted_wait_exits_4_and_keeps_the_job(sandbox_url, env, tmp_path, fault):
    clip = make_clip(tmp_path / "c.mp4", 2.0)
    run(["--json", "say", "generate a title for my video", "--file", str(clip)], env, sandbox_url)
    fault("render_never_finishes", count=-1)
    cp = run(["--json", "export", "--wait-timeout", "1", "--out", str(tmp_path / "o")], env, sandbox_url)
    assert cp.returncode == 4, cp.stdout + cp.stderr
    r = lines(cp)
    err = [x for x in r if x["type"] == "error"][0]
    assert err["code"] == "timeout" and "resume" in err["hint"]
    state = json.loads((tmp_path / "cfg" / "nemovideo" / "skill-state.json").read_text())
    assert [p for prof in state["profiles"].values() for p in prof["pending_renders"]]
    assert not list((tmp_path / "o").glob("*.mp4"))


def test_exit_codes_per_error_class(sandbox_url, env, tmp_path, fault):
    # 2: bad input (missing file, unsupported type, unknown variant, bad usage)
    cp = run(["--json", "upload", str(tmp_path / "missing.mp4")], env, sandbox_url)
    assert cp.returncode == 2 and lines(cp)[0]["code"] == "bad_input"
    bad = tmp_path / "x.exe"
    bad.write_bytes(b"MZ")
    cp = run(["--json", "upload", str(bad)], env, sandbox_url)
    assert cp.returncode == 2 and lines(cp)[0]["code"] == "4001"
    cp = run(["--json", "--skill", "nope", "credits"], env, sandbox_url)
    assert cp.returncode == 2 and lines(cp)[0]["code"] == "bad_input"
    cp = run(["export", "--wait-timeout", "x"], env, sandbox_url)
    assert cp.returncode == 2
    # 1: the backend refused (credits)
    cp = run(["--json", "credits"], env, sandbox_url)
    state = json.loads((tmp_path / "cfg" / "nemovideo" / "skill-state.json").read_text())
    token = next(iter(state["profiles"].values()))["token"]
    httpx.post(sandbox_url + "/_sandbox/credits", json={"token": token, "available": 0})
    cp = run(["--json", "say", "generate a 30-second promo video about shoes"], env, sandbox_url)
    assert cp.returncode == 1, cp.stdout
    r = lines(cp)
    assert [x["code"] for x in r if x["type"] == "error"] == ["2001"]
    links = [x for x in r if x["type"] == "link"]
    assert links and "/register?bind=anon_" in links[0]["url"]
    # 3: rate limited twice, and network unreachable
    fault("rate_limit", count=2, path="/api/credits", retry_after=1)
    cp = run(["--json", "credits"], env, sandbox_url)
    assert cp.returncode == 3 and lines(cp)[0]["code"] == "429"
    cp = run(["--json", "credits"], env, "http://127.0.0.1:9")
    assert cp.returncode == 3 and lines(cp)[0]["code"] == "network"


def test_reset_starts_a_new_project(sandbox_url, env, tmp_path):
    run(["--json", "state"], env, sandbox_url)
    state_file = tmp_path / "cfg" / "nemovideo" / "skill-state.json"
    sid = next(iter(json.loads(state_file.read_text())["profiles"].values()))["session_id"]
    cp = run(["reset"], env, sandbox_url)
    assert cp.returncode == 0
    assert next(iter(json.loads(state_file.read_text())["profiles"].values()))["session_id"] is None
    run(["--json", "state"], env, sandbox_url)
    assert next(iter(json.loads(state_file.read_text())["profiles"].values()))["session_id"] != sid


def test_sandbox_command_prints_listening_line(env):
    p = subprocess.Popen([sys.executable, "-m", "skill", "sandbox", "--port", "0"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        first = p.stdout.readline().strip()
        m = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))", first)
        assert m, first
        r = httpx.post(m.group(1) + "/api/auth/anonymous-token", headers={"X-Client-Id": "x"})
        assert r.status_code == 200 and r.json()["code"] == 0
    finally:
        p.terminate()
        p.wait(10)


def test_state_files_private_after_cli(sandbox_url, env, tmp_path):
    run(["--json", "credits"], env, sandbox_url)
    d = tmp_path / "cfg" / "nemovideo"
    assert oct(d.stat().st_mode & 0o777) == "0o700"
    for f in d.iterdir():
        if f.is_file():
            assert oct(f.stat().st_mode & 0o777) == "0o600", f


def test_debug_shows_traceback_only_with_nemo_debug(env, sandbox_url):
    cp = run(["--json", "--skill", "/nonexistent/SKILL.md", "credits"], env, sandbox_url)
    assert cp.returncode == 2 and "Traceback" not in cp.stderr


def test_reader_going_away_is_not_a_traceback():
    """`nemo-skill ... | head -1`: writing to a pipe whose reader closed raises no error;
    the output is dropped and the work goes on."""
    from skill.cli import _Printer
    from skill.replies import Message

    r, w = os.pipe()
    os.close(r)  # the reader is gone: the next write gets EPIPE
    stream = os.fdopen(w, "w")
    try:
        _Printer._write(stream, "one line")  # must not raise BrokenPipeError
        _Printer._write(stream, "and another")
        printer = _Printer(True, False)
        printer.emit(Message("ok"))  # stdout is fine here; just exercising the path
    finally:
        try:
            stream.close()
        except OSError:
            pass


def test_narrow_console_encoding_never_crashes(sandbox_url, env):
    e = dict(env, PYTHONIOENCODING="ascii")
    cp = run(["--json", "--lang", "zh", "credits"], e, sandbox_url)
    assert cp.returncode == 0 and "Traceback" not in cp.stderr
    lines = [json.loads(x) for x in cp.stdout.splitlines()]
    assert any("积分" in x.get("text", "") for x in lines)  # exact text via \\u escapes
    cp = run(["--lang", "zh", "credits"], e, sandbox_url)
    assert cp.returncode == 0 and "Traceback" not in cp.stderr


def test_route_stdin_is_utf8_whatever_the_console(env):
    e = dict(env, PYTHONIOENCODING="ascii")
    cp = subprocess.run([sys.executable, "-m", "skill", "route", "--json", "-"], env=e, capture_output=True,
                        input="导出\n积分\n".encode() + b"\xff\xfe bad\n", timeout=60)
    assert cp.returncode == 0, cp.stderr
    got = [json.loads(x) for x in cp.stdout.decode().splitlines()]
    assert [g["intent"] for g in got] == ["export", "credits", "chat"] and got[0]["text"] == "导出"
