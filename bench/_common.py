"""Shared helpers of the benchmarks: the sandbox in a subprocess, warm isolated profiles,
child processes measured for wall, CPU and their OWN peak RSS (``/usr/bin/time -f %M``,
else the child's ``VmHWM`` polled from /proc; never ``ru_maxrss`` via ``wait4``, which on
Linux includes the parent's size across fork+exec), and result output.

Loopback only: every URL here is the sandbox on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PY = sys.executable
_script = Path(PY).with_name("nemo-skill")
NEMO = str(_script) if _script.exists() else (shutil.which("nemo-skill") or "nemo-skill")
CURL = shutil.which("curl")
TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None

# variables that would change what the runtime sends or where it keeps state
_SCRUB = ("NEMO_TOKEN", "NEMO_API_URL", "NEMO_CLIENT_ID", "NEMO_DEBUG", "SKILL_PLATFORM", "SKILL_SOURCE",
          "XDG_CONFIG_HOME", "NEMO_WEB_URL")


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    # any non-empty value (even "0") stops Python writing .pyc files: then every start
    # compiles the package from source, which no installed copy does
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env.update(extra)
    return env


def compile_package() -> None:
    """``python -m compileall -q skill`` (and this folder): every measured start then loads
    .pyc files, as an installed copy does, instead of compiling the package from source."""
    subprocess.run([PY, "-m", "compileall", "-q", "skill", "bench"], cwd=str(ROOT), env=base_env(), check=True,
                   stdout=subprocess.DEVNULL)


def vm_hwm_mb(pid: int | str = "self") -> float:
    """Peak RSS (``VmHWM``) of a live process from /proc, MB; nan when unavailable."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def p95(xs: list[float]) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(0.95 * (len(s) - 1)))))
    return s[k]


# -- the sandbox ---------------------------------------------------------------------------

class Sandbox:
    """``python bench/_sandbox.py CONFIG`` as a child; ``.url`` once it listens."""

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> "Sandbox":
        self.proc = subprocess.Popen([PY, str(BENCH / "_sandbox.py"), json.dumps(self.config)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=base_env(), cwd=str(ROOT))
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError(f"sandbox did not start: {line!r}")
        self.url = line.split()[-1].strip()
        assert self.url.startswith("http://127.0.0.1:"), self.url
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is None:
            return
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=20)
        except Exception:  # noqa: BLE001
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    # control calls (plain httpx; not measured)
    def _http(self) -> Any:
        import httpx

        return httpx.Client(base_url=self.url, timeout=120)

    def fault(self, name: str, count: int = 1, path: str | None = None, **params: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"fault": name, "count": count, "params": params}
        if path:
            body["path"] = path
        with self._http() as c:
            r = c.post("/_sandbox/faults", json=body)
            r.raise_for_status()
            return r.json()

    def clear_faults(self) -> None:
        with self._http() as c:
            c.delete("/_sandbox/faults").raise_for_status()

    def stats(self) -> dict[str, Any]:
        with self._http() as c:
            return c.get("/_sandbox/stats").json()

    def renders(self) -> dict[str, Any]:
        with self._http() as c:
            return c.get("/_sandbox/bench/renders").json()

    def make_file(self, nbytes: int, name: str = "result.mp4") -> dict[str, Any]:
        with self._http() as c:
            r = c.post("/_sandbox/bench/file", json={"bytes": nbytes, "name": name})
            r.raise_for_status()
            return r.json()

    def set_credits(self, available: int) -> None:
        with self._http() as c:
            c.post("/_sandbox/credits", json={"available": available}).raise_for_status()


# -- warm profiles -------------------------------------------------------------------------

@dataclass
class Profile:
    """An isolated ``XDG_CONFIG_HOME`` with a stored token (and a session when asked)."""

    xdg: Path
    url: str
    token: str
    session_id: str | None
    headers: dict[str, str]  # Authorization + X-Skill-* exactly as the runtime sends them
    env: dict[str, str] = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        return self.xdg / "nemovideo"


def _runtime(url: str, state_dir: Path, **kw: Any) -> Any:
    from skill import SkillRuntime, load_manifest
    from skill.manifest import resolve_manifest

    try:
        manifest = resolve_manifest(None)
    except Exception:  # noqa: BLE001
        manifest = load_manifest(str(ROOT / "SKILL.md"))
    return SkillRuntime(manifest, api_url=url, state_dir=state_dir, out_dir=str(state_dir), **kw)


def warm_profile(url: str, *, session: bool = False, media_url: str | None = None) -> Profile:
    """Mint and store a token (as ``nemo-skill credits`` would) in a fresh XDG dir; with
    ``session``, also create a project (and attach ``media_url`` to it)."""
    xdg = Path(tempfile.mkdtemp(prefix="nemo-bench-xdg-"))
    state_dir = xdg / "nemovideo"

    async def go() -> tuple[str, str | None, dict[str, str]]:
        rt = _runtime(url, state_dir)
        async with rt:
            async for _ in rt.credits():
                pass
            if session:
                if media_url:
                    async for _ in rt.upload([media_url]):
                        pass
                else:
                    ctx = rt._context("hello")
                    await ctx.ensure_session([])
            prof = rt.store.load(rt.key)
            headers = {"Authorization": f"Bearer {prof.token}", **rt.client.attribution.headers()}
            return prof.token, prof.session_id, headers

    token, sid, headers = asyncio.run(go())
    assert token, "no token stored"
    env = base_env(XDG_CONFIG_HOME=str(xdg), NEMO_API_URL=url)
    return Profile(xdg=xdg, url=url, token=token, session_id=sid, headers=headers, env=env)


# -- measured children ---------------------------------------------------------------------

@dataclass
class Child:
    wall: float
    rc: int
    maxrss_mb: float
    cpu: float
    stdout: bytes
    stderr: bytes


def run_child(cmd: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None,
              timeout: float = 600, cwd: str | None = None) -> Child:
    """Run ``cmd``; wall time, CPU (``wait4``), and the child's own peak RSS
    (``/usr/bin/time``'s max RSS, or polled ``VmHWM`` without it)."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    timed = None
    if TIME:  # a small parent, so the child's peak RSS is its own (ru_maxrss survives fork+exec)
        fd, timed = tempfile.mkstemp(prefix="nemo-bench-time-")
        os.close(fd)
        cmd = [TIME, "-q", "-f", "%M %U %S", "-o", timed, *cmd]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                         stdout=out, stderr=err, cwd=cwd)
    if stdin is not None:
        assert p.stdin is not None
        p.stdin.write(stdin)
        p.stdin.close()
    deadline = time.monotonic() + timeout
    hwm = 0.0  # without /usr/bin/time: the child's own VmHWM, polled while it runs
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if not timed:
            v = vm_hwm_mb(p.pid)
            if v == v:
                hwm = max(hwm, v)
        if time.monotonic() > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.0005)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    # never wait4's ru_maxrss for the peak: Linux carries the parent's size over fork+exec
    maxrss_mb, cpu = hwm or float("nan"), ru.ru_utime + ru.ru_stime
    if timed:
        try:
            fields = Path(timed).read_text().split()[-3:]
            maxrss_mb, cpu = int(fields[0]) / 1024.0, float(fields[1]) + float(fields[2])
        except (OSError, ValueError, IndexError):
            pass
        os.unlink(timed)
    return Child(wall=wall, rc=p.returncode, maxrss_mb=maxrss_mb, cpu=cpu, stdout=out.read(), stderr=err.read())


def check(child: Child, what: str) -> Child:
    if child.rc != 0:
        raise RuntimeError(f"{what} exited {child.rc}: {child.stderr.decode(errors='replace')[-2000:]}"
                           f"{child.stdout.decode(errors='replace')[-1000:]}")
    return child


# -- output --------------------------------------------------------------------------------

class Results:
    """Rows for the summary table; ``--json-out`` writes them for ``run_all.py``."""

    def __init__(self, bench: str, command: str) -> None:
        self.bench = bench
        self.command = command
        self.rows: list[dict[str, Any]] = []

    def add(self, metric: str, ours: Any, baseline: Any, ratio: float | None, target: str, met: bool | None,
            note: str = "") -> None:
        self.rows.append({"bench": self.bench, "metric": metric, "ours": ours, "baseline": baseline,
                          "ratio": ratio, "target": target, "met": met, "note": note, "command": self.command})
        mark = {True: "MET", False: "MISSED", None: "-"}[met]
        r = f"{ratio:.2f}x" if isinstance(ratio, (int, float)) else "-"
        print(f"  [{mark:6}] {metric}: ours {ours} | baseline {baseline} | ratio {r} | target {target}"
              + (f" | {note}" if note else ""), flush=True)

    def write(self, path: str | None) -> None:
        if path:
            Path(path).write_text(json.dumps(self.rows, indent=1))


def std_args(ap: Any) -> None:
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, few repetitions")
    ap.add_argument("--json-out", default=None, help="write result rows (JSON) here")


def cmdline() -> str:
    """The command that produced these rows (without ``--json-out``), relative to the repo."""
    argv, skip = [], False
    for a in sys.argv:
        if skip:
            skip = False
            continue
        if a == "--json-out":
            skip = True
            continue
        if a.startswith("--json-out="):
            continue
        argv.append(os.path.relpath(a, ROOT) if os.path.isabs(a) else a)
    return " ".join([".venv/bin/python", *argv])
