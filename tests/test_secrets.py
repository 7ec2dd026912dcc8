"""Secrets: the token never leaves the state file and the Authorization header of our own
API. Not in output, logs, URLs, file names, exception messages, nor in a request to a
host other than the API. State files are 0600 in a 0700 folder after every write."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

import skill.state as state_mod
from skill.api import Attribution, NemoClient, NemoError
from skill.manifest import resolve_manifest
from skill.replies import Done
from skill.runtime import Limits, SkillRuntime
from skill.sandbox.testing import arm, check_state_dir, cli_env, find_token_leaks, run_cli, stats
from skill.state import StateStore
from tests.helpers import make_clip
from tests.test_faults import FAST, FastSleep

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("media") / "clip.mp4", 2.0)


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for var in ("NEMO_TOKEN", "NEMO_CLIENT_ID", "NEMO_DEBUG", "SKILL_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    return tmp_path / "cfg" / "nemovideo"


class RecordingTransport(httpx.AsyncBaseTransport):
    """Real loopback transport that remembers every request (method, URL, headers)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.method, str(request.url), dict(request.headers)))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _tokens(sandbox: Any) -> set[str]:
    return set(sandbox.backend.tokens)


# -- the guard itself ---------------------------------------------------------------------

def test_secret_guard_fails_tests_that_leak(tmp_path):
    (tmp_path / "test_leaky.py").write_text(
        "import logging, sys\n"
        "def test_print():\n    print('token is nmv_usr_abcdefghijkl')\n"
        "def test_stderr():\n    sys.stderr.write('Bearer nmv_usr_abcdefghijkl\\n')\n"
        "def test_debug_log():\n    logging.getLogger('skill.http').debug('auth %s', 'nmv_usr_abcdefghijkl')\n"
        "def test_exception_in_log():\n"
        "    try:\n        raise ValueError('nmv_usr_abcdefghijkl')\n"
        "    except ValueError:\n        logging.getLogger('skill.runtime').debug('failed', exc_info=True)\n"
        "def test_clean():\n    print('nothing to see')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NEMO_TOKEN", None)
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.secret_guard", "-p", "no:cacheprovider",
                        "-p", "no:randomly", str(tmp_path / "test_leaky.py")], capture_output=True, text=True,
                       cwd=str(tmp_path), env=env, stdin=subprocess.DEVNULL, timeout=120)
    out = r.stdout + r.stderr
    assert "4 failed, 1 passed" in out, out
    assert out.count("secret_guard: a bearer token appeared") >= 4


# -- state files --------------------------------------------------------------------------

async def test_state_files_private_after_every_write(sandbox_url, no_env, clip, tmp_path, monkeypatch, fault):
    writes: list[str] = []
    real = state_mod.atomic_write_text

    def checked(path: Path, text: str) -> None:
        real(path, text)
        p = Path(path)
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        assert stat.S_IMODE(p.parent.stat().st_mode) == 0o700, p.parent
        writes.append(p.name)

    monkeypatch.setattr(state_mod, "atomic_write_text", checked)
    import skill.config

    monkeypatch.setattr(skill.config, "state_dir", lambda: no_env)
    rt = SkillRuntime(resolve_manifest(None), api_url=sandbox_url, state_dir=no_env, out_dir=tmp_path / "out",
                      limits=Limits(**FAST), sleep=FastSleep())
    try:
        for gen in (rt.handle("generate a title, description and tags", files=[str(clip)]),
                    rt.handle("add jazz music"), rt.state(), rt.export()):
            out = [r async for r in gen]
            assert out[-1].ok, out
        fault("expire_token")
        out = [r async for r in rt.credits()]
        assert out[-1].ok
    finally:
        await rt.aclose()
    assert writes.count("skill-state.json") >= 5
    doc = check_state_dir(no_env)
    assert len(doc["profiles"]) == 1
    # the token is only in the state file, never in a file name
    tok = next(iter(doc["profiles"].values()))["token"]
    names = [p.name for p in tmp_path.rglob("*")]
    assert not find_token_leaks(names, [tok])


def test_corrupt_state_file_is_set_aside_privately(sandbox_url, tmp_path):
    home = tmp_path / "home"
    assert run_cli(sandbox_url, ["credits"], home).returncode == 0
    sd = home / "cfg" / "nemovideo"
    (sd / "skill-state.json").write_text("{ not json")
    os.chmod(sd / "skill-state.json", 0o600)
    r = run_cli(sandbox_url, ["credits"], home)
    # No crash and no traceback; the previous good version (.bak) still holds the token, so
    # no second mint is needed (the backend would refuse one for 7 days)
    assert r.returncode == 0, r
    assert "Traceback" not in r.stderr and r.lines[-1]["type"] == "done"
    check_state_dir(sd)  # the set-aside copy is 0600 too
    assert any(p.name.startswith("skill-state.json.corrupt-") for p in sd.iterdir())


# -- URLs, headers, file names ------------------------------------------------------------

async def test_token_never_in_a_url_and_only_sent_to_the_api(sandbox, no_env, clip, tmp_path, fault):
    transport = RecordingTransport()
    rt = SkillRuntime(resolve_manifest(None), api_url=sandbox.url, state_dir=no_env, out_dir=tmp_path / "out",
                      limits=Limits(**FAST), sleep=FastSleep(), transport=transport)
    try:
        fault("expire_result_url")  # the result URL fails: the fallback path is exercised too
        for gen in (rt.handle("generate a title, description and tags", files=[str(clip)]),
                    rt.handle("add lo-fi music"), rt.handle("what's in my timeline?"), rt.handle("export")):
            out = [r async for r in gen]
            assert out[-1].ok, out
    finally:
        await rt.aclose()
    toks = _tokens(sandbox)
    assert toks
    assert not find_token_leaks([u for _, u, _ in transport.seen], toks)
    for method, url, headers in transport.seen:
        auth = headers.get("authorization")
        assert url.startswith(sandbox.url + "/"), url  # nothing but the API's own origin was contacted
        if "/anonymous-token" in url:
            assert auth is None and headers.get("x-client-id")
        else:
            assert auth and auth.startswith("Bearer nmv_usr_")
    names = [p.name for p in tmp_path.rglob("*")]
    assert not find_token_leaks(names, toks)


class _Capture(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        body = b"\x00" * 64
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a: Any) -> None:
        pass


async def test_token_not_sent_to_a_foreign_result_host(sandbox, no_env, clip, tmp_path, fault):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    _Capture.seen = []
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        rt = SkillRuntime(resolve_manifest(None), api_url=sandbox.url, state_dir=no_env, out_dir=tmp_path / "out",
                          limits=Limits(**FAST), sleep=FastSleep())
        try:
            out = [r async for r in rt.handle("generate a title, description and tags", files=[str(clip)])]
            fault("hostile_render", url=f"http://127.0.0.1:{srv.server_address[1]}/steal.mp4")
            out = [r async for r in rt.export()]
            assert out[-1].ok, out
        finally:
            await rt.aclose()
    finally:
        srv.shutdown()
        srv.server_close()
    assert _Capture.seen, "the result URL was fetched"
    assert all("authorization" not in h for h in _Capture.seen)
    assert not find_token_leaks([json.dumps(h) for h in _Capture.seen], _tokens(sandbox))


# -- exceptions ---------------------------------------------------------------------------

def _chain(exc: BaseException) -> list[BaseException]:
    out, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        out.append(exc)
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return out


async def test_errors_never_hold_the_token(sandbox, tmp_path, fault, monkeypatch):
    monkeypatch.delenv("NEMO_TOKEN", raising=False)
    store = StateStore(tmp_path / "cfg" / "nemovideo")
    attr = Attribution("nemo-skill", "0.1.0", "unknown")
    c = NemoClient(api_url=sandbox.url, attribution=attr, store=store, profile_key="k", sleep=FastSleep())
    bad = NemoClient(api_url=sandbox.url, attribution=attr, token="nmv_usr_" + "e" * 32, sleep=FastSleep())
    dead = NemoClient(api_url="http://127.0.0.1:9", attribution=attr, token="nmv_usr_" + "d" * 32,
                      sleep=FastSleep(), max_retries=0)
    raised: list[BaseException] = []

    async def expect(coro: Any) -> None:
        try:
            await coro
        except NemoError as exc:
            raised.append(exc)
        else:
            raise AssertionError("expected an error")

    s = await c.create_session("en")
    await expect(bad.credits())  # 1001 with an explicit token
    fault("server_error", count=5, path="/api/credits", body="json")
    await expect(c.credits())
    fault("rate_limit", count=2, path="/api/state")
    await expect(c.state(s.session_id))
    await expect(dead.credits())  # connection refused
    fault("drop_session")
    await expect(c.state(s.session_id))

    async def chat() -> None:
        async with c.chat(s.session_id, "hi") as ev:
            async for _ in ev:
                pass

    await expect(chat())
    for cl in (c, bad, dead):
        await cl.aclose()
    toks = _tokens(sandbox) | {"nmv_usr_" + "e" * 32, "nmv_usr_" + "d" * 32}
    assert len(raised) == 6
    texts = []
    for exc in raised:
        for e in _chain(exc):
            texts += [str(e), repr(e), json.dumps(getattr(e, "detail", {}), default=str)]
    assert not find_token_leaks(texts, toks)


# -- the CLI with NEMO_DEBUG=1 -----------------------------------------------------------

def test_cli_debug_output_never_shows_the_token(sandbox, tmp_path, clip):
    home = tmp_path / "home"
    env = cli_env(home, NEMO_DEBUG="1")
    url = sandbox.url
    outs = []

    def cli(*args: str, env_: dict | None = None) -> Any:
        r = run_cli(url, list(args), home, env=env_ or env)
        outs.append(r.stdout + r.stderr)
        return r

    assert cli("credits").returncode == 0
    assert cli("say", "generate a title, description and tags", "--file", str(clip)).returncode == 0
    arm(url, "expire_token")
    assert cli("chat", "add lo-fi music").returncode == 0  # 1001 -> renewal, logged in debug
    arm(url, "server_error", count=5, path="/api/state", body="json")
    assert cli("state").returncode == 3
    arm(url, "reset_upload")
    assert cli("upload", str(clip)).returncode == 3
    assert cli("--out", str(tmp_path / "o"), "export").returncode == 0
    # the minted token handed in through NEMO_TOKEN: redacted from debug logs too
    tok = next(iter(json.loads((home / "cfg" / "nemovideo" / "skill-state.json").read_text())["profiles"]
                    .values()))["token"]
    assert cli("credits", env_={**env, "NEMO_TOKEN": tok}).returncode == 0
    assert cli("state", env_={**env, "NEMO_TOKEN": "nmv_usr_" + "z" * 30}).returncode == 1
    assert any("skill." in o for o in outs), "debug logging was on"
    leaks = find_token_leaks(outs, _tokens(sandbox) | {tok})
    assert not leaks, leaks
    assert stats(url)["token_mints"] == 2
