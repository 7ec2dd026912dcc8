"""SSE throughput: N ADK events through ``SkillRuntime.handle()`` vs a bare httpx-sse loop.

    .venv/bin/python bench/bench_sse.py [--events 50000] [--small 10000] [--reps 5] [--smoke]

Both read the same sandbox stream: the ``flood`` fault makes ``/run_sse`` send N events
(a fixed mix: partial text, thoughts, tool calls/results, four kinds of keep-alive, a
final text every 20 events; see ``skill/sandbox/flood.py``) as fast as the server can.
Each client runs in its own subprocess (the sandbox in another), alternating, ``--reps``
times; events/s = N / (time from the call to the end of the stream, imports excluded).
Ours: ``SkillRuntime.handle("add lo-fi background music")`` on a warm profile with a
session (it also fetches the state once, as every chat does). Baseline:
``httpx_sse.aconnect_sse`` + ``json.loads`` of each non-empty data field, nothing else.
Peak RSS (the child's own ``VmHWM`` at the end of the run) is compared between the small
and the large stream.
Target: ours >= 0.7x the baseline's events/s; peak RSS flat.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PY, Results, Sandbox, base_env, check, cmdline, median, run_child, std_args, warm_profile  # noqa: E402

MESSAGE = "add lo-fi background music"


async def _ours(url: str, state_dir: str) -> dict:
    import time

    from _common import _runtime

    rt = _runtime(url, Path(state_dir))
    counts: dict[str, int] = {}
    async with rt:
        t0 = time.perf_counter()
        async for r in rt.handle(MESSAGE):
            counts[r.type] = counts.get(r.type, 0) + 1
        dt = time.perf_counter() - t0
    return {"seconds": dt, "replies": counts}


async def _baseline(url: str, headers: dict, sid: str) -> dict:
    import time

    import httpx
    from httpx_sse import aconnect_sse

    body = {"app_name": "nemo_agent", "user_id": "me", "session_id": sid,
            "new_message": {"role": "user", "parts": [{"text": MESSAGE}]}}
    n = 0
    async with httpx.AsyncClient(timeout=60) as c:
        t0 = time.perf_counter()
        async with aconnect_sse(c, "POST", url + "/run_sse", json=body, headers=headers) as es:
            async for ev in es.aiter_sse():
                if ev.data:
                    json.loads(ev.data)
                n += 1
        dt = time.perf_counter() - t0
    return {"seconds": dt, "frames": n}


def worker(argv: list[str]) -> int:
    import asyncio

    kind, url, arg = argv[0], argv[1], json.loads(argv[2])
    if kind == "ours":
        out = asyncio.run(_ours(url, arg["state_dir"]))
    else:
        out = asyncio.run(_baseline(url, arg["headers"], arg["sid"]))
    from _common import vm_hwm_mb

    out["vm_hwm_mb"] = vm_hwm_mb()  # own peak; ru_maxrss would include the parent's
    print(json.dumps(out))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        return worker(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    std_args(ap)
    ap.add_argument("--events", type=int, default=50000)
    ap.add_argument("--small", type=int, default=10000)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)
    big, small, reps = (2000, 400, 2) if args.smoke else (args.events, args.small, args.reps)
    res = Results("sse", cmdline())
    me = str(Path(__file__).resolve())

    with Sandbox(time_scale=1.0) as sb:
        prof = warm_profile(sb.url, session=True)
        env = base_env()

        def one(kind: str, n: int) -> dict:
            sb.fault("flood", n=n)
            arg = {"state_dir": str(prof.state_dir)} if kind == "ours" else {"headers": prof.headers,
                                                                             "sid": prof.session_id}
            c = check(run_child([PY, me, "--worker", kind, sb.url, json.dumps(arg)], env=env), kind)
            out = json.loads(c.stdout.decode().strip().splitlines()[-1])
            out["child_maxrss_mb"] = out.get("vm_hwm_mb") or c.maxrss_mb
            return out

        runs: dict[tuple[str, int], list[dict]] = {}
        for n in (small, big):
            one("baseline", n)  # warm: the server builds and caches the body once per n
            one("ours", n)
            for _ in range(reps):
                for kind in ("baseline", "ours"):
                    runs.setdefault((kind, n), []).append(one(kind, n))

    print(f"\nSSE flood, median of {reps} runs each:")
    rate, rss = {}, {}
    for (kind, n), outs in sorted(runs.items()):
        secs = median([o["seconds"] for o in outs])
        rate[(kind, n)] = n / secs
        rss[(kind, n)] = max(o["child_maxrss_mb"] for o in outs)
        extra = outs[-1].get("replies") or {"frames": outs[-1].get("frames")}
        print(f"  {kind:<8} n={n:<6} {secs:7.3f} s  {n / secs:10,.0f} events/s  peak RSS {rss[(kind, n)]:6.1f} MB  {extra}")
    r = rate[("ours", big)] / rate[("baseline", big)]
    res.add(f"events/s, {big} events: `SkillRuntime.handle()` vs bare httpx-sse + json.loads",
            f"{rate[('ours', big)]:,.0f}/s", f"{rate[('baseline', big)]:,.0f}/s", r, ">= 0.7x", r >= 0.7)
    growth = rss[("ours", big)] - rss[("ours", small)]
    bgrowth = rss[("baseline", big)] - rss[("baseline", small)]
    res.add(f"peak RSS {small} -> {big} events (ours)", f"{rss[('ours', small)]:.1f} -> {rss[('ours', big)]:.1f} MB",
            f"{rss[('baseline', small)]:.1f} -> {rss[('baseline', big)]:.1f} MB", None,
            "flat (< +5 MB)", growth < 5.0, note=f"ours +{growth:.1f} MB, baseline +{bgrowth:.1f} MB")
    res.write(args.json_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
