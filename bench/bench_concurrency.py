"""Concurrency: 200 conversations at once in one process, each a silent edit
("add lo-fi background music" on a session that has media).

    .venv/bin/python bench/bench_concurrency.py [--n 200] [--smoke]

Design finding: ``SkillRuntime`` keeps ONE session per (API URL, skill) profile and
``handle()`` has no way to name a conversation, so one runtime object cannot hold 200
projects. What works today, measured here: N ``SkillRuntime`` objects in one process on
one event loop, each with its own state dir (sharing one token via ``token=``), each with
its own session carrying one media URL. The sandbox (own process) answers the edits
silently (``silent_reply`` fault): every conversation fetches the state before and after
and describes the change. Latency of one conversation alone (median of 5) is the baseline.
Targets: all complete; peak RSS (child process, ``/usr/bin/time``) < 300 MB; p95 <= 2x single.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PY, Results, Sandbox, base_env, check, cmdline, median, p95, run_child, std_args, warm_profile  # noqa: E402

MESSAGE = "add lo-fi background music"
MEDIA = "https://media.example.com/city_timelapse.mp4"  # not fetched: the sandbox fakes remote media


def worker(url: str, token: str, n: int) -> int:
    import asyncio
    import resource
    import time

    from _common import _runtime

    root = Path(tempfile.mkdtemp(prefix="nemo-bench-conc-"))

    async def convo(rt) -> tuple[float, bool, bool]:
        t0 = time.perf_counter()
        ok, described = True, False
        async for r in rt.handle(MESSAGE):
            if r.type == "done":
                ok = r.ok
            if r.type == "message" and ("music" in r.text.lower() or "lo-fi" in r.text.lower()):
                described = True
        return time.perf_counter() - t0, ok, described

    async def go() -> dict:
        rts = [_runtime(url, root / f"s{i}", token=token) for i in range(n)]
        for rt in rts:  # setup: a session with media for each
            async for _ in rt.upload([MEDIA]):
                pass
        rss_setup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        singles = [await convo(rts[0]) for _ in range(5)]
        t0, c0 = time.perf_counter(), time.process_time()
        results = await asyncio.gather(*[convo(rt) for rt in rts])
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        for rt in rts:
            await rt.aclose()
        return {"single": [s[0] for s in singles], "lat": [r[0] for r in results],
                "ok": sum(1 for r in results if r[1]), "described": sum(1 for r in results if r[2]),
                "wall": wall, "cpu": cpu, "rss_after_setup_mb": rss_setup}

    print(json.dumps(asyncio.run(go())))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        return worker(argv[1], argv[2], int(argv[3]))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    std_args(ap)
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args(argv)
    n = 10 if args.smoke else args.n
    res = Results("concurrency", cmdline())
    me = str(Path(__file__).resolve())
    with Sandbox(time_scale=1.0) as sb:
        prof = warm_profile(sb.url)
        sb.set_credits(10_000_000)
        sb.fault("silent_reply", count=-1, path="/run_sse")
        import psutil

        sproc = psutil.Process(sb.proc.pid)
        s0 = sum(sproc.cpu_times()[:2])
        c = check(run_child([PY, me, "--worker", sb.url, prof.token, str(n)], env=base_env(), timeout=900),
                  "worker")
        server_cpu = sum(sproc.cpu_times()[:2]) - s0
        stats = sb.stats()
    out = json.loads(c.stdout.decode().strip().splitlines()[-1])
    single = median(out["single"])
    lat = out["lat"]
    print(f"\n{n} concurrent conversations (one process, {n} SkillRuntime objects, one loop):")
    print(f"  single (median of 5): {single * 1000:.0f} ms;  concurrent: median {median(lat) * 1000:.0f} ms, "
          f"p95 {p95(lat) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms, all {out['wall']:.2f} s")
    print(f"  completed ok {out['ok']}/{n}, silent change described {out['described']}/{n}; "
          f"peak RSS {c.maxrss_mb:.1f} MB (after setup {out['rss_after_setup_mb']:.1f} MB); chat runs {stats['chat_runs']}")
    print(f"  CPU during the {n} concurrent conversations: client {out['cpu']:.2f} s "
          f"({out['cpu'] / n * 1000:.1f} ms per conversation) for {out['wall']:.2f} s wall; sandbox process "
          f"{server_cpu:.2f} s over the whole worker run (setup + singles + concurrent)")
    res.add(f"{n} concurrent silent edits: all complete", f"{out['ok']}/{n}", "-", None, f"{n}/{n}", out["ok"] == n,
            note=f"change described in {out['described']}/{n}")
    res.add(f"{n} concurrent: peak RSS", f"{c.maxrss_mb:.1f} MB", "-", None, "< 300 MB", c.maxrss_mb < 300)
    r = p95(lat) / single
    res.add(f"{n} concurrent: p95 latency vs one conversation alone", f"{p95(lat) * 1000:.0f} ms",
            f"{single * 1000:.0f} ms", r, "<= 2.0x", r <= 2.0,
            note=f"client CPU {out['cpu'] / n * 1000:.1f} ms/conversation, all {n} done in {out['wall']:.2f} s")
    res.write(args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
