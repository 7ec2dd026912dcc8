"""Concurrency: 200 conversations at once through ONE ``SkillRuntime``, each a silent edit
("add lo-fi background music" on a project that has media), vs one conversation alone.

    .venv/bin/python bench/bench_concurrency.py [--n 200] [--edit-seconds 2.0] [--smoke]

One process, one event loop, one ``SkillRuntime`` (one token, one connection pool, one
state dir); conversation ``i`` is ``handle(..., conversation=f"c{i}")``, its own session
and project (set up first with one media URL each). The sandbox (own process) answers
the edits silently (``silent_reply`` fault: tool events only, the draft changes), so
every conversation fetches the state before and after and describes the change.
Baseline: the same message in one other conversation (``alone``) with nothing else
running (median of 5, same runtime, before the concurrent run).

Two settings, each its own sandbox and worker process:
- ``instant``: the sandbox agent answers at once (~0 ms of agent time). p95 is then
  client CPU: n conversations x CPU per conversation on one loop. Reported, with the
  client CPU per conversation, but the 2x target is not meaningful here.
- ``agent Ns``: the sandbox's ``edit_seconds`` config (``--edit-seconds``, default 2 s)
  makes the agent work that long before it answers, as a real edit does. The client's
  CPU then overlaps with agent time: this is where p95 <= 2x single is the target.
Targets: all complete; peak RSS < 300 MB (the worker's own ``VmHWM`` from
``/proc/self/status``; ``ru_maxrss`` would include the parent's size across fork+exec);
p95 <= 2x single with agent latency.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (PY, Results, Sandbox, base_env, check, cmdline, median, p95, run_child, std_args,  # noqa: E402
                     vm_hwm_mb, warm_profile)

MESSAGE = "add lo-fi background music"
MEDIA = "https://media.example.com/city_timelapse.mp4"  # not fetched: the sandbox fakes remote media


def worker(url: str, token: str, n: int, singles_n: int) -> int:
    import asyncio
    import time

    from _common import _runtime

    root = Path(tempfile.mkdtemp(prefix="nemo-bench-conc-"))

    async def convo(rt, cid: str) -> tuple[float, bool, bool]:
        t0 = time.perf_counter()
        ok, described = True, False
        async for r in rt.handle(MESSAGE, conversation=cid):
            if r.type == "done":
                ok = r.ok
            if r.type == "message" and ("music" in r.text.lower() or "lo-fi" in r.text.lower()):
                described = True
        return time.perf_counter() - t0, ok, described

    async def setup(rt, cid: str) -> None:
        async for r in rt.upload([MEDIA], conversation=cid):
            if r.type == "done" and not r.ok:
                raise RuntimeError(f"setup of {cid} failed")

    async def go() -> dict:
        rt = _runtime(url, root, token=token)
        async with rt:
            for i in range(0, n, 20):  # a project with media per conversation, 20 at a time
                await asyncio.gather(*[setup(rt, f"c{j}") for j in range(i, min(n, i + 20))])
            await setup(rt, "alone")
            sessions = {rt.store.load(rt._conversation_key(f"c{i}")).session_id for i in range(n)}
            rss_setup = vm_hwm_mb()
            singles = [await convo(rt, "alone") for _ in range(singles_n)]
            t0, c0 = time.perf_counter(), time.process_time()
            results = await asyncio.gather(*[convo(rt, f"c{i}") for i in range(n)])
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        return {"single": [s[0] for s in singles], "lat": [r[0] for r in results],
                "ok": sum(1 for r in results if r[1]), "described": sum(1 for r in results if r[2]),
                "wall": wall, "cpu": cpu, "rss_after_setup_mb": rss_setup, "vm_hwm_mb": vm_hwm_mb(),
                "distinct_sessions": len(sessions - {None})}

    print(json.dumps(asyncio.run(go())))
    return 0


def run_setting(me: str, n: int, edit_seconds: float, singles_n: int) -> tuple[dict, float, dict, float]:
    import psutil

    with Sandbox(time_scale=1.0, edit_seconds=edit_seconds) as sb:
        prof = warm_profile(sb.url)
        sb.set_credits(10_000_000)
        sb.fault("silent_reply", count=-1, path="/run_sse")
        sproc = psutil.Process(sb.proc.pid)
        s0 = sum(sproc.cpu_times()[:2])
        c = check(run_child([PY, me, "--worker", sb.url, prof.token, str(n), str(singles_n)], env=base_env(),
                            timeout=900), "worker")
        server_cpu = sum(sproc.cpu_times()[:2]) - s0
        stats = sb.stats()
    out = json.loads(c.stdout.decode().strip().splitlines()[-1])
    return out, server_cpu, stats, c.maxrss_mb


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        return worker(argv[1], argv[2], int(argv[3]), int(argv[4]))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    std_args(ap)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--edit-seconds", type=float, default=2.0,
                    help="agent time per edit in the realistic setting (sandbox edit_seconds)")
    args = ap.parse_args(argv)
    n = 10 if args.smoke else args.n
    edit_s = 0.2 if args.smoke else args.edit_seconds
    res = Results("concurrency", cmdline())
    me = str(Path(__file__).resolve())

    for label, es, singles_n in (("instant agent", 0.0, 5), (f"agent {edit_s:g} s", edit_s, 5)):
        out, server_cpu, stats, time_rss = run_setting(me, n, es, singles_n)
        single = median(out["single"])
        lat = out["lat"]
        cpu_ms = out["cpu"] / n * 1000
        rss = out["vm_hwm_mb"]
        print(f"\n{n} concurrent conversations, {label} (one process, one SkillRuntime, conversation=c0..c{n - 1}):")
        print(f"  single (median of {singles_n}): {single * 1000:.0f} ms;  concurrent: median "
              f"{median(lat) * 1000:.0f} ms, p95 {p95(lat) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms, "
              f"all {out['wall']:.2f} s")
        print(f"  completed ok {out['ok']}/{n}, silent change described {out['described']}/{n}, distinct sessions "
              f"{out['distinct_sessions']}; peak RSS (VmHWM) {rss:.1f} MB (after setup {out['rss_after_setup_mb']:.1f} MB;"
              f" /usr/bin/time {time_rss:.1f} MB); chat runs {stats['chat_runs']}")
        print(f"  CPU during the {n} concurrent conversations: client {out['cpu']:.2f} s ({cpu_ms:.1f} ms per "
              f"conversation) for {out['wall']:.2f} s wall; sandbox process {server_cpu:.2f} s over the whole "
              f"worker run (setup + singles + concurrent)")
        tag = f"{n} concurrent, {label}"
        if es == 0.0:
            res.add(f"{tag}: all complete", f"{out['ok']}/{n}", "-", None, f"{n}/{n}", out["ok"] == n,
                    note=f"change described in {out['described']}/{n}, {out['distinct_sessions']} sessions")
            r = p95(lat) / single
            res.add(f"{tag}: p95 latency vs one conversation alone (CPU-bound: client CPU {cpu_ms:.1f} ms/"
                    f"conversation, {out['cpu']:.2f} s CPU in {out['wall']:.2f} s wall; target not meaningful "
                    f"at ~0 ms agent time)", f"{p95(lat) * 1000:.0f} ms", f"{single * 1000:.0f} ms", r,
                    "(reported)", None)
        else:
            res.add(f"{tag}: all complete", f"{out['ok']}/{n}", "-", None, f"{n}/{n}", out["ok"] == n,
                    note=f"change described in {out['described']}/{n}, {out['distinct_sessions']} sessions")
            r = p95(lat) / single
            res.add(f"{tag}: p95 latency vs one conversation alone", f"{p95(lat) * 1000:.0f} ms",
                    f"{single * 1000:.0f} ms", r, "<= 2.0x", r <= 2.0,
                    note=f"client CPU {cpu_ms:.1f} ms/conversation, all {n} done in {out['wall']:.2f} s")
        res.add(f"{tag}: peak RSS (VmHWM)", f"{rss:.1f} MB", "-", None, "< 300 MB", rss < 300,
                note=f"after setup {out['rss_after_setup_mb']:.1f} MB")
    res.write(args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
