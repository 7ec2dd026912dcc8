"""Run every benchmark (each measures ours and a baseline in the same run, on loopback
against the sandbox) and print one results table.

    .venv/bin/python bench/run_all.py            # full sizes (about 10 minutes)
    .venv/bin/python bench/run_all.py --smoke    # tiny sizes, well under a minute
    .venv/bin/python bench/run_all.py --only sse,upload --readme   # rewrite README's table

Exit status: 0 when every benchmark ran (missed targets are reported, not failures);
1 when a benchmark crashed. ``--strict`` also exits 1 on a missed target.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
ORDER = ("startup", "sse", "upload", "render_wait", "download", "concurrency", "router")
SCRIPTS = {name: BENCH / f"bench_{name}.py" for name in ORDER if name != "router"}
SCRIPTS["router"] = BENCH / "router_bench.py"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def _router_rows(text: str, command: str) -> list[dict]:
    import re

    rows = []
    acc = re.search(r"accuracy:\s*([\d.]+)", text)
    speed = re.search(r"speed:\s*([\d,]+)\s*messages/s", text)
    total = re.search(r"\((\d+) rows\)", text)
    if speed:
        rate = float(speed.group(1).replace(",", ""))
        rows.append({"bench": "router", "metric": "router messages/s over router-cases.tsv",
                     "ours": f"{rate:,.0f}/s", "baseline": "-", "ratio": None, "target": ">= 50,000/s",
                     "met": rate >= 50000, "note": "", "command": command})
    if acc:
        rows.append({"bench": "router", "metric": "router accuracy over router-cases.tsv",
                     "ours": f"{float(acc.group(1)):.4f}" + (f" of {total.group(1)}" if total else ""),
                     "baseline": "-", "ratio": None, "target": "(reported)", "met": None, "note": "",
                     "command": command})
    return rows


def run_one(name: str, smoke: bool) -> tuple[list[dict], float, str | None]:
    script = SCRIPTS[name]
    if not script.exists():
        return [], 0.0, f"{script.name} not found"
    cmd = [sys.executable, str(script)]
    fd, out = tempfile.mkstemp(prefix=f"nemo-bench-{name}-", suffix=".json")
    os.close(fd)
    try:
        if name == "router":
            if smoke:
                cmd += ["--passes", "1"]
        else:
            cmd += ["--json-out", out] + (["--smoke"] if smoke else [])
        shown = " ".join([".venv/bin/python", os.path.relpath(script, ROOT)] +
                         [a for a in cmd[2:] if a not in ("--json-out", out)])
        print(f"\n===== {name}: {shown}", flush=True)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        took = time.perf_counter() - t0
        sys.stdout.write(p.stdout if name != "router" else _tail_router(p.stdout))
        if p.returncode != 0:
            return [], took, f"exit {p.returncode}"
        if name == "router":
            return _router_rows(p.stdout, shown), took, None
        rows = json.loads(Path(out).read_text() or "[]")
        for r in rows:
            r["command"] = shown
        return rows, took, None
    finally:
        os.unlink(out)


def _tail_router(text: str) -> str:
    keep = [ln for ln in text.splitlines() if ln.startswith(("==", "accuracy", "speed", "misclassified"))]
    return "\n".join(keep) + "\n"


def table(rows: list[dict]) -> str:
    lines = ["| bench | metric | ours | baseline | ratio | target | met | command |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = f"{r['ratio']:.2f}x" if isinstance(r.get("ratio"), (int, float)) else "-"
        met = {True: "yes", False: "**no**", None: "-"}[r.get("met")]
        metric = r["metric"] + (f" ({r['note']})" if r.get("note") else "")
        lines.append(f"| {r['bench']} | {metric} | {r['ours']} | {r['baseline']} | {ratio} | {r['target']} | {met} "
                     f"| `{r['command']}` |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, few repetitions: a quick check that all run")
    ap.add_argument("--only", default="", help="comma separated subset of: " + ",".join(ORDER))
    ap.add_argument("--readme", action="store_true", help="write the table into bench/README.md")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(ORDER)
    unknown = set(names) - set(ORDER)
    if unknown:
        ap.error(f"unknown bench: {', '.join(sorted(unknown))}")
    # .pyc files first: every start-up in the benches then loads them (base_env also unsets
    # PYTHONDONTWRITEBYTECODE, which this environment may set)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", "skill", "bench"], cwd=str(ROOT), env=env, check=True,
                   stdout=subprocess.DEVNULL)
    all_rows: list[dict] = []
    failed: list[str] = []
    for name in names:
        rows, took, err = run_one(name, args.smoke)
        print(f"----- {name}: {took:.1f} s" + (f"  FAILED ({err})" if err else ""), flush=True)
        if err:
            failed.append(f"{name}: {err}")
        all_rows.extend(rows)
    text = table(all_rows)
    print("\n" + text)
    if failed:
        print("\nfailed: " + "; ".join(failed))
    if args.readme and not args.smoke:
        readme = BENCH / "README.md"
        doc = readme.read_text(encoding="utf-8")
        if START in doc and END in doc:
            head, rest = doc.split(START, 1)
            _, tail = rest.split(END, 1)
            stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime())
            readme.write_text(f"{head}{START}\n_Last run: {stamp}, {os.cpu_count()} CPUs, Python "
                              f"{sys.version.split()[0]}._\n\n{text}\n{END}{tail}", encoding="utf-8")
            print(f"\nwrote {readme}")
    missed = [r for r in all_rows if r.get("met") is False]
    if failed or (args.strict and missed):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
