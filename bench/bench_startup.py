"""Start-up: wall time of short CLI calls against bare Python, same run, interleaved.

    .venv/bin/python bench/bench_startup.py [--reps 40] [--smoke]

Rows (median of ``--reps`` runs each, commands interleaved round-robin):
- ``nemo-skill --version`` and ``nemo-skill route export`` vs ``python -c pass`` (target <= 2.0x)
- ``nemo-skill credits`` (sandbox, warm token in an isolated XDG_CONFIG_HOME) vs
  ``python -c "import httpx; httpx.get(URL/api/credits/balance/simple, headers=<same>)"``
  (target <= 1.3x)
each via the console script and via ``python -m skill``. Then ``python -X importtime``
top offenders per command, and whether httpx / pydantic / jinja2 get imported.
``python -m compileall -q skill`` runs first, so every measured start loads .pyc files.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (NEMO, PY, Results, Sandbox, base_env, check, cmdline, compile_package, median, run_child,  # noqa: E402
                     std_args, warm_profile)  # noqa: E402

HEAVY = ("httpx", "httpcore", "pydantic", "pydantic_core", "jinja2", "anyio", "h11", "ssl", "asyncio",
         "email", "tqdm")


def importtime(cmd: list[str], env: dict[str, str], top: int = 8) -> tuple[list[tuple[float, str]], set[str], float]:
    """(top cumulative self-level offenders, heavy top-level packages imported, total ms)."""
    child = run_child([cmd[0], "-X", "importtime", *cmd[1:]], env=env)
    rows = []
    for line in child.stderr.decode(errors="replace").splitlines():
        m = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(2)), len(m.group(3)), m.group(4)))
    # offenders: modules imported directly by the top level (indent 1) or by skill.*
    first_level = [(c / 1000.0, name) for c, ind, name in rows if ind <= 1]
    first_level.sort(reverse=True)
    heavy = {name.split(".")[0] for _, _, name in rows if name.split(".")[0] in HEAVY}
    total = sum(c for c, ind, _ in rows if ind <= 1) / 1000.0
    return first_level[:top], heavy, total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    std_args(ap)
    ap.add_argument("--reps", type=int, default=40)
    args = ap.parse_args(argv)
    reps = 5 if args.smoke else args.reps
    res = Results("startup", cmdline())
    compile_package()  # measure starts that load .pyc files (PYTHONDONTWRITEBYTECODE is unset too)

    with Sandbox(time_scale=1.0) as sb:
        prof = warm_profile(sb.url)
        env_plain = base_env()
        env_prof = prof.env
        url = sb.url + "/api/credits/balance/simple"
        hdrs = repr(prof.headers)
        cases: dict[str, tuple[list[str], dict[str, str]]] = {
            "python -c pass": ([PY, "-c", "pass"], env_plain),
            "script --version": ([NEMO, "--version"], env_plain),
            "-m skill --version": ([PY, "-m", "skill", "--version"], env_plain),
            "script route export": ([NEMO, "route", "export"], env_plain),
            "-m skill route export": ([PY, "-m", "skill", "route", "export"], env_plain),
            "httpx.get credits": ([PY, "-c", f"import httpx; httpx.get({url!r}, headers={hdrs}).raise_for_status()"],
                                  env_plain),
            "script credits": ([NEMO, "credits"], env_prof),
            "-m skill credits": ([PY, "-m", "skill", "credits"], env_prof),
        }
        # sanity + warm the page cache
        for name, (cmd, env) in cases.items():
            c = check(run_child(cmd, env=env), name)
            if "credits" in name and name != "httpx.get credits":
                assert b"redit" in c.stdout or c.stdout, c.stdout
        walls: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(reps):
            for name, (cmd, env) in cases.items():
                walls[name].append(check(run_child(cmd, env=env), name).wall)
        mints = sb.stats().get("token_mints")

    med = {k: median(v) for k, v in walls.items()}
    print(f"\nstart-up, median of {reps} runs (ms):")
    for k, v in med.items():
        print(f"  {k:<24} {v * 1000:8.1f}   (min {min(walls[k]) * 1000:.1f})")
    print(f"  token mints during the bench: {mints} (1 = only the warm-up; credits used the stored token)")
    base = med["python -c pass"]
    for via, pre in (("console script", "script"), ("python -m skill", "-m skill")):
        for cmd in ("--version", "route export"):
            r = med[f"{pre} {cmd}"] / base
            res.add(f"`nemo-skill {cmd}` ({via}) vs `python -c pass`", f"{med[f'{pre} {cmd}'] * 1000:.0f} ms",
                    f"{base * 1000:.0f} ms", r, "<= 2.0x", r <= 2.0)
        r = med[f"{pre} credits"] / med["httpx.get credits"]
        res.add(f"`nemo-skill credits` ({via}) vs `python -c 'import httpx; httpx.get(...)'`",
                f"{med[f'{pre} credits'] * 1000:.0f} ms", f"{med['httpx.get credits'] * 1000:.0f} ms", r,
                "<= 1.3x", r <= 1.3)

    print("\npython -X importtime (cumulative ms of top-level imports; heavy packages imported):")
    for name in ("script --version", "script route export", "script credits", "httpx.get credits"):
        cmd, env = cases[name]
        if cmd[0] == NEMO:  # run the console script's code under the venv python
            cmd = [PY, NEMO, *cmd[1:]]
        top, heavy, total = importtime(cmd, env if "credits" not in name else prof.env)
        print(f"  {name}: total {total:.1f} ms; heavy: {', '.join(sorted(heavy)) or 'none'}")
        for ms, mod in top:
            print(f"      {ms:7.1f} ms  {mod}")
        if name in ("script --version", "script route export"):
            bad = heavy & {"httpx", "pydantic", "jinja2"}
            res.add(f"`{name.replace('script', 'nemo-skill')}` imports httpx/pydantic/jinja2", ", ".join(sorted(bad)) or "none",
                    "-", None, "none", not bad)
    res.write(args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
