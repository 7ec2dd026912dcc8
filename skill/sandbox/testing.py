"""Helpers for reliability tests against the sandbox (no pytest import here).

Used by ``tests/test_faults.py``, ``test_hostile.py``, ``test_secrets.py``, ``test_soak.py``
and ``test_cli_parallel.py``: run the real CLI in a subprocess the way agent hosts do, arm
faults, read stats, and check the invariants every fault must keep (state file valid JSON,
0600/0700, no token anywhere it must not be).
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

import httpx

__all__ = [
    "TOKEN_PREFIX",
    "TOKEN_RE",
    "CliResult",
    "cli_env",
    "run_cli",
    "start_cli",
    "arm",
    "clear_faults",
    "stats",
    "requests_count",
    "state_file",
    "check_state_dir",
    "find_token_leaks",
    "open_fds",
]

TOKEN_PREFIX = "nmv_usr_"
TOKEN_RE = re.compile(r"nmv_usr_[A-Za-z0-9_\-]{8,}")


class CliResult:
    """A finished CLI run: exit status, raw streams and the ``--json`` lines."""

    def __init__(self, args: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        self.args = list(args)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.lines: list[dict[str, Any]] = []
        for line in stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    self.lines.append(json.loads(line))
                except ValueError:
                    pass

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [x for x in self.lines if x.get("type") == kind]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.of("error")

    @property
    def messages(self) -> list[str]:
        return [x.get("text", "") for x in self.of("message")]

    def __repr__(self) -> str:
        return (f"CliResult(rc={self.returncode}, args={self.args[-3:]!r},\n stdout={self.stdout[-2000:]!r},\n"
                f" stderr={self.stderr[-2000:]!r})")


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """A host-like environment: its own HOME and XDG_CONFIG_HOME, no NEMO_* variables."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NEMO_", "SKILL_PLATFORM", "SKILL_SOURCE", "XDG_CONFIG_HOME"))}
    home = Path(home)
    (home / "cfg").mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "cfg"), PYTHONIOENCODING="utf-8", TERM="dumb")
    env.update(extra)
    return env


def _argv(api_url: str, args: Sequence[str], as_json: bool) -> list[str]:
    argv = [sys.executable, "-m", "skill", "--api-url", api_url]
    if as_json:
        argv.append("--json")
    return argv + [str(a) for a in args]


def run_cli(api_url: str, args: Sequence[str], home: Path, *, timeout: float = 60.0, as_json: bool = True,
            env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
    argv = _argv(api_url, args, as_json)
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, encoding="utf-8",
                       errors="replace", env=env or cli_env(home), cwd=str(cwd or home), timeout=timeout)
    return CliResult(argv, r.returncode, r.stdout, r.stderr)


def start_cli(api_url: str, args: Sequence[str], home: Path, *, as_json: bool = True,
              env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(_argv(api_url, args, as_json), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
                            env=env or cli_env(home), cwd=str(cwd or home))


def finish(proc: subprocess.Popen, timeout: float = 60.0) -> CliResult:
    out, err = proc.communicate(timeout=timeout)
    return CliResult(proc.args if isinstance(proc.args, list) else [str(proc.args)], proc.returncode, out, err)


def arm(api_url: str, name: str, count: int = 1, path: str | None = None, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"fault": name, "count": count, "params": params}
    if path is not None:
        body["path"] = path
    r = httpx.post(api_url + "/_sandbox/faults", json=body, timeout=10)
    r.raise_for_status()
    return r.json()


def clear_faults(api_url: str) -> None:
    httpx.delete(api_url + "/_sandbox/faults", timeout=10).raise_for_status()


def stats(api_url: str) -> dict[str, Any]:
    return httpx.get(api_url + "/_sandbox/stats", timeout=10).json()


def requests_count(api_url: str, key: str) -> int:
    return int(stats(api_url).get("requests", {}).get(key, 0))


def state_file(state_dir: Path) -> Path:
    return Path(state_dir) / "skill-state.json"


def check_state_dir(state_dir: Path) -> dict[str, Any]:
    """The state folder is 0700, every file in it 0600, the state file valid JSON (or
    absent); returns the parsed document. Raises AssertionError with the reason."""
    d = Path(state_dir)
    if not d.exists():
        return {}
    if os.name == "posix":
        mode = stat.S_IMODE(d.stat().st_mode)
        assert mode == 0o700, f"state folder mode {oct(mode)} != 0o700"
        for f in d.iterdir():
            if f.is_file():
                fm = stat.S_IMODE(f.stat().st_mode)
                assert fm == 0o600, f"{f.name} mode {oct(fm)} != 0o600"
    leftovers = [f.name for f in d.iterdir() if f.name.endswith(".tmp")]
    assert not leftovers, f"temporary state files left behind: {leftovers}"
    p = state_file(d)
    if not p.exists():
        return {}
    doc = json.loads(p.read_text(encoding="utf-8"))
    assert isinstance(doc, dict) and isinstance(doc.get("profiles"), dict), "state document shape"
    return doc


def find_token_leaks(texts: Iterable[object], tokens: Iterable[str] = ()) -> list[str]:
    """Every text that holds a token (a known one, or anything shaped like ``nmv_usr_...``)."""
    toks = [t for t in tokens if t]
    hits = []
    for t in texts:
        s = t if isinstance(t, str) else repr(t)
        if TOKEN_PREFIX in s or any(tok in s for tok in toks):
            hits.append(s[:300])
    return hits


def open_fds() -> int:
    """Open file descriptors of this process (Linux: /proc/self/fd; else -1)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1
